"""``chat.completions.stream(...)``: the SDK's stream helper, with the request planned like
``create`` and one record written when the ``with`` block ends.

The caller gets the SDK's own ``ChatCompletionStream`` (events, ``get_final_completion()``,
``response_format`` parsing): Headroom only reads the snapshot the SDK accumulates, so it never
sits between the caller and an event.
"""

from __future__ import annotations

from typing import Any

from ..models import resolve_model
from ..tokens import count_text
from ._call import Call, reply_of


class HeadroomStreamManager:
    """Wraps the SDK's ``ChatCompletionStreamManager``: entering sends the (optimized)
    request, exiting closes the stream and records the call once."""

    def __init__(self, manager: Any, call: Call) -> None:
        self._manager = manager
        self._call = call
        self._stream: Any = None

    def __enter__(self) -> Any:
        try:
            self._stream = self._manager.__enter__()
        except BaseException as exc:
            self._call.finish(error=exc)
            raise
        return self._stream

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Any:
        try:
            return self._manager.__exit__(exc_type, exc, tb)
        finally:
            _record(self._call, self._stream, exc)


class AsyncHeadroomStreamManager:
    """Wraps the SDK's ``AsyncChatCompletionStreamManager`` (``async with``)."""

    def __init__(self, manager: Any, call: Call) -> None:
        self._manager = manager
        self._call = call
        self._stream: Any = None

    async def __aenter__(self) -> Any:
        try:
            self._stream = await self._manager.__aenter__()
        except BaseException as exc:
            self._call.finish(error=exc)
            raise
        return self._stream

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Any:
        try:
            return await self._manager.__aexit__(exc_type, exc, tb)
        finally:
            _record(self._call, self._stream, exc)


def _record(call: Call, stream: Any, error: BaseException | None) -> None:
    """One record from what the SDK accumulated: the provider's usage when a usage chunk
    came, else the completion tokens counted from the streamed text and tool calls."""
    if call.recorded:
        return
    snapshot = _snapshot(stream)
    usage: object = None
    reply = None
    try:
        if snapshot is not None:
            usage = snapshot.usage or {"completion_tokens": _completion_tokens(snapshot, call)}
            reply = reply_of(snapshot) if call.session.store_content else None
        else:
            usage = {"completion_tokens": 0}
    except Exception as exc:  # noqa: BLE001 - accounting must never break the call
        call.session.count_failure("stream accounting", exc)
    call.finish(usage=usage, error=error, reply=reply)


def _snapshot(stream: Any) -> Any:
    """The completion so far, or None before the first chunk (the SDK asserts then)."""
    if stream is None:
        return None
    try:
        return stream.current_completion_snapshot
    except (AssertionError, AttributeError):
        return None


def _completion_tokens(snapshot: Any, call: Call) -> int:
    encoding = resolve_model(call.model).encoding
    total = 0
    for choice in snapshot.choices:
        message = choice.message
        for text in (message.content, getattr(message, "refusal", None)):
            if text:
                total += count_text(text, encoding)
        for tool_call in message.tool_calls or []:
            function = getattr(tool_call, "function", None)
            if function is not None:
                total += count_text(function.name or "", encoding)
                total += count_text(function.arguments or "", encoding)
    return total
