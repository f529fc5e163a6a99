"""Reading the request files the ``headroom`` command takes, with one clear error per mistake.

A request is an OpenAI Chat Completions body (``{"model": ..., "messages": [...], "tools": [...]}``)
or a wrapper holding one under ``request`` (a workload file, or a log line that also kept the
``timestamp`` and the provider's ``usage``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report_time import parse_time


class InputError(ValueError):
    """A request file or line the command cannot use; the message says why."""


@dataclass(frozen=True)
class LoggedRequest:
    body: dict[str, Any]  # the request body itself
    timestamp: float | None = None
    usage: Mapping[str, Any] | None = None

    @property
    def messages(self) -> list[Any]:
        messages: list[Any] = self.body["messages"]
        return messages

    @property
    def tools(self) -> list[Any] | None:
        tools = self.body.get("tools")
        return tools if isinstance(tools, list) else None

    def model(self, override: str | None = None, default: str = "gpt-4o") -> str:
        model = override or self.body.get("model")
        return model if isinstance(model, str) and model else default


def parse_request(value: object) -> LoggedRequest:
    """The request in ``value`` (a body or a wrapper with ``request``); InputError otherwise."""
    if not isinstance(value, dict):
        raise InputError(f"expected a JSON object, got {_kind(value)}")
    wrapper: dict[str, Any] | None = None
    body = value
    if "messages" not in value and isinstance(value.get("request"), dict):
        wrapper, body = value, value["request"]
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InputError("not a chat request: no non-empty 'messages' list")
    if "tools" in body and body["tools"] is not None and not isinstance(body["tools"], list):
        raise InputError("'tools' must be a list of tool definitions")
    if wrapper is None:
        return LoggedRequest(body)
    usage = wrapper.get("usage")
    if usage is None and isinstance(wrapper.get("response"), dict):
        usage = wrapper["response"].get("usage")
    return LoggedRequest(
        body=body,
        timestamp=_timestamp(wrapper.get("timestamp")),
        usage=usage if isinstance(usage, Mapping) else None,
    )


def load_request_file(path: Path) -> LoggedRequest:
    """The request in a JSON file."""
    text = read_text(path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = exc.msg.removesuffix(" at")
        raise InputError(f"{path}: not valid JSON ({reason}, line {exc.lineno})") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not valid JSON ({_unreadable(exc)})") from None
    try:
        return parse_request(value)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, LoggedRequest | InputError]]:
    """(line number, request or the reason the line is not one) for each non-blank line."""
    read_text(path)  # the same clear errors for a missing or unreadable file
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                reason = exc.msg.removesuffix(" at")
                yield number, InputError(f"not valid JSON ({reason}, column {exc.colno})")
                continue
            except (ValueError, RecursionError) as exc:
                yield number, InputError(f"not valid JSON ({_unreadable(exc)})")
                continue
            try:
                yield number, parse_request(value)
            except InputError as exc:
                yield number, exc


def _unreadable(exc: ValueError | RecursionError) -> str:
    """Why Python's JSON parser gave up on text that may be valid JSON (too deep, a number
    with too many digits)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).split(";", 1)[0]


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _timestamp(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise InputError(f"invalid timestamp {value!r}")
    try:
        return parse_time(value)
    except ValueError as exc:
        raise InputError(f"invalid timestamp: {exc}") from None


def _kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")
