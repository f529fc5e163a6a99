"""Helpers for the LangChain tests: a stand-in model that reads the question, a large JSON
tool result, and a fake chat model that keeps what it received."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field

from tests.support.openai_server import Reply, _tool_to_call, text_reply, tool_call_reply
from tests.support.schema_example import example_from_schema

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _arguments(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """Arguments for a tool schema, read from the question: numbers fill numeric parameters
    and quoted phrases fill string parameters, in order; the rest come from the schema."""
    example = example_from_schema(schema)
    args = dict(example) if isinstance(example, dict) else {}
    numbers = [float(n) if "." in n else int(n) for n in _NUMBER.findall(text)]
    quoted = [a or b for a, b in _QUOTED.findall(text)]
    for name, spec in (schema.get("properties") or {}).items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind in ("integer", "number") and numbers:
            args[name] = numbers.pop(0)
        elif kind == "string" and quoted:
            args[name] = quoted.pop(0)
    return args


def reading_reply(body: dict[str, Any]) -> Reply | None:
    """A stand-in model that reads the question, for suites (LangChain's standard tests)
    that check answers against what they asked; None leaves the server's default."""
    tool = _tool_to_call(body)
    text = _last_user_text(body)
    if tool is not None:
        fn = tool["function"]
        return tool_call_reply([(fn["name"], _arguments(fn.get("parameters") or {}, text))])
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_object":
        keys = [a or b for a, b in _QUOTED.findall(text)] or ["answer"]
        return text_reply(json.dumps({key: f"a {key}" for key in keys}))
    return None


def issues_payload(count: int = 300) -> str:
    """A large JSON tool result: ``count`` issue records, one of them an error."""
    items = [
        {
            "id": i,
            "title": f"Issue number {i} about the build pipeline",
            "state": "open" if i % 3 else "closed",
            "labels": ["bug", "ci"] if i % 2 else ["feature"],
            "body": f"Steps to reproduce issue {i}: run the nightly job and watch the logs.",
        }
        for i in range(count)
    ]
    items[137]["state"] = "error: pipeline crashed with exit code 137"
    return json.dumps({"total": count, "items": items}, indent=2)


def keys_of(value: Any) -> set[str]:
    """Every dict key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


class RecordingChatModel(GenericFakeChatModel):
    """langchain_core's GenericFakeChatModel that keeps every message list it was given."""

    received: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # GenericFakeChatModel streams by calling _generate, which records the messages.
        yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)


def replies(*texts: str, usage: dict[str, Any] | None = None) -> Iterator[AIMessage]:
    """Scripted AIMessages for a fake model, each with ``usage`` as its usage_metadata."""
    return iter([AIMessage(text, usage_metadata=usage) for text in texts])  # type: ignore[arg-type]


def assert_tool_pairing(messages: list[dict[str, Any]]) -> None:
    """Every tool result answers a call made just before it, and every call is answered."""
    pending: set[str] = set()
    for message in messages:
        if message.get("role") == "assistant":
            assert not pending, f"unanswered tool calls {pending}"
            pending = {call["id"] for call in message.get("tool_calls") or []}
        elif message.get("role") == "tool":
            assert message["tool_call_id"] in pending
            pending.discard(message["tool_call_id"])
        else:
            assert not pending, f"unanswered tool calls {pending}"


def tool_contents(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m.get("role") == "tool"]
