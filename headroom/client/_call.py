"""One wrapped chat completion call: split off the ``headroom_*`` options, plan (optimize mode:
before sending; audit mode: after, so nothing delays the request), and record exactly once.

Everything here is fail-open except two deliberate errors raised before anything is sent: a
bad ``headroom_*`` option (ValueError) and a request that cannot fit (HeadroomBudgetError).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from time import perf_counter
from typing import Any

from ..engine import Headroom
from ..errors import HeadroomBudgetError
from ..options import EngineOptions
from ..plan import Plan
from ..recording import Recorder, record_from_plan, record_without_plan

logger = logging.getLogger("headroom")

OPTION_PREFIX = "headroom_"
OPTION_NAMES = {
    "headroom_mode": "mode",
    "headroom_output_buffer_tokens": "output_buffer_tokens",
    "headroom_keep_turns": "keep_turns",
    "headroom_tool_profiles": "tool_profiles",
}


def split_options(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what goes to the SDK, the engine overrides); ValueError for an unknown option."""
    if not any(key.startswith(OPTION_PREFIX) for key in kwargs):
        return kwargs, {}
    send: dict[str, Any] = {}
    overrides: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in kwargs.items():
        if not key.startswith(OPTION_PREFIX):
            send[key] = value
        elif key in OPTION_NAMES:
            overrides[OPTION_NAMES[key]] = value
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(
            f"unknown headroom option(s) {sorted(unknown)}; valid options: {sorted(OPTION_NAMES)}"
        )
    return send, overrides


class Session:
    """What every call of one client shares: the engine, the recorder and failure counts."""

    def __init__(
        self, engine: Headroom, recorder: Recorder, *, store_content: bool, source: str
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.store_content = store_content
        self.source = source
        self.failures: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._options: dict[tuple[Any, ...], EngineOptions] = {}

    def options_for(self, overrides: dict[str, Any], send: Mapping[str, Any]) -> EngineOptions:
        """Per-call options; the caller's max_tokens is the output buffer unless one is given."""
        if overrides.get("output_buffer_tokens") is None:
            limit = send.get("max_completion_tokens", send.get("max_tokens"))
            if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
                overrides = {**overrides, "output_buffer_tokens": limit}
        if not overrides:
            return self.engine.defaults
        if overrides.get("tool_profiles") is not None:
            return self.engine.options(**overrides)
        key = (
            overrides.get("mode"),
            overrides.get("output_buffer_tokens"),
            overrides.get("keep_turns"),
        )
        if not all(isinstance(v, (str, int, type(None))) for v in key):
            return self.engine.options(**overrides)
        cached = self._options.get(key)
        if cached is None:
            cached = self.engine.options(**overrides)
            if len(self._options) < 256:
                self._options[key] = cached
        return cached

    def count_failure(self, kind: str, exc: BaseException) -> None:
        """Count an internal failure; log only the first of each kind."""
        with self._lock:
            first = self.failures[kind] == 0
            self.failures[kind] += 1
        if first:
            logger.warning(
                "headroom: %s failed (%s: %s); the request is unaffected, further %s "
                "failures are counted, not logged",
                kind,
                type(exc).__name__,
                exc,
                kind,
            )


class Call:
    """State of one create() call, from the caller's kwargs to the stored record."""

    __slots__ = (
        "session",
        "send",
        "options",
        "model",
        "messages",
        "tools",
        "stream",
        "plan",
        "planned",
        "headroom_s",
        "started",
        "recorded",
    )

    def __init__(self, session: Session, kwargs: dict[str, Any]) -> None:
        start = perf_counter()
        self.session = session
        send, overrides = split_options(kwargs)
        self.options = session.options_for(overrides, send)
        messages = send.get("messages")
        if (
            messages is not None
            and not isinstance(messages, (list, tuple, str, bytes, Mapping))
            and isinstance(messages, Iterable)
        ):
            messages = list(messages)  # a one-shot iterable: read it once, send the list
            send = {**send, "messages": messages}
        self.model = send.get("model")
        # A snapshot of the list: the caller may append to its history while we stream.
        self.messages: Any = list(messages) if isinstance(messages, (list, tuple)) else messages
        tools = send.get("tools")
        self.tools = tools if isinstance(tools, list) else None
        self.stream = send.get("stream") is True
        self.plan: Plan | None = None
        self.planned = False
        self.recorded = False
        if self.options.mode == "optimize":
            self.plan = self._plan()
            if self.plan is not None and not _same_items(self.plan.messages, messages):
                send = {**send, "messages": self.plan.messages}
        self.send = send
        self.started = perf_counter()
        self.headroom_s = self.started - start

    def _plan(self) -> Plan | None:
        """The engine's plan; None if the engine failed (the request then goes out unchanged)."""
        self.planned = True
        if self.messages is None or not isinstance(self.model, str):
            return None  # the SDK rejects such a call itself; nothing for Headroom to do
        try:
            return self.session.engine.plan(self.messages, self.model, self.tools, self.options)
        except HeadroomBudgetError:
            raise
        except Exception as exc:  # noqa: BLE001 - fail open
            self.session.count_failure("planning", exc)
            return None

    def finish(
        self,
        *,
        usage: object = None,
        error: BaseException | None = None,
        reply: dict[str, Any] | None = None,
    ) -> None:
        """Write the one record of this call (later calls do nothing); never raises."""
        if self.recorded:
            return
        self.recorded = True
        end = perf_counter()
        upstream_ms = (end - self.started) * 1000.0
        try:
            plan = self.plan if self.planned else self._plan()
            error_type = type(error).__name__ if error is not None else None
            content = self._content(plan, reply) if self.session.store_content else None
            headroom_ms = (self.headroom_s + perf_counter() - end) * 1000.0
            if plan is not None:
                record = record_from_plan(
                    plan,
                    source=self.session.source,
                    stream=self.stream,
                    usage=usage,
                    headroom_ms=headroom_ms,
                    upstream_ms=upstream_ms,
                    error_type=error_type,
                    content=content,
                )
            else:
                record = record_without_plan(
                    self.model if self.model is not None else "",
                    self.options.mode,
                    source=self.session.source,
                    stream=self.stream,
                    usage=usage,
                    headroom_ms=headroom_ms,
                    upstream_ms=upstream_ms,
                    error_type=error_type,
                    content=content,
                )
        except Exception as exc:  # noqa: BLE001 - recording must never break the call
            self.session.count_failure("recording", exc)
            return
        self.session.recorder.write(record)

    def _content(self, plan: Plan | None, reply: dict[str, Any] | None) -> dict[str, Any]:
        content: dict[str, Any] = {"messages": self.messages, "tools": self.tools}
        if plan is not None and plan.mode == "optimize":
            content["sent_messages"] = plan.messages
        if reply is not None:
            content["reply"] = reply
        return content


def _same_items(new: list[Any], old: object) -> bool:
    """True when the plan kept every message object of the request, in order."""
    if not isinstance(old, (list, tuple)) or len(new) != len(old):
        return False
    return all(a is b for a, b in zip(new, old, strict=True))


def reply_of(response: object) -> dict[str, Any] | None:
    """The assistant's text and tool calls from a ChatCompletion (for store_content=True)."""
    try:
        message = response.choices[0].message  # type: ignore[attr-defined]
        calls = [
            {"name": c.function.name, "arguments": c.function.arguments}
            for c in (message.tool_calls or [])
            if getattr(c, "function", None) is not None
        ]
        return {"content": message.content, "tool_calls": calls}
    except Exception:  # noqa: BLE001 - an unusual response shape just stores nothing
        return None
