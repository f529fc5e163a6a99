"""Streams that hand the provider's chunks through unchanged and record once at the end.

The wrapper looks at each chunk only to remember the usage chunk (sent when the caller asked
for ``stream_options={"include_usage": True}``) and the streamed text and tool-call deltas,
which are counted once when the stream ends, is closed, or fails.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any

from ..models import resolve_model
from ..tokens import count_text
from ._call import Call


class StreamObserver:
    """Collects what the completion-token count needs; never raises into the stream."""

    __slots__ = ("usage", "text", "calls", "failed")

    def __init__(self) -> None:
        self.usage: object = None
        self.text: list[str] = []
        self.calls: dict[int, tuple[list[str], list[str]]] = {}
        self.failed = False

    def observe(self, chunk: Any) -> None:
        try:
            usage = chunk.usage
            if usage is not None:
                self.usage = usage
            for choice in chunk.choices:
                delta = choice.delta
                content = delta.content
                if content:
                    self.text.append(content)
                refusal = getattr(delta, "refusal", None)
                if refusal:
                    self.text.append(refusal)
                tool_calls = delta.tool_calls
                if tool_calls:
                    self._tool_deltas(tool_calls)
        except Exception:  # noqa: BLE001 - an odd chunk must not break the stream
            self.failed = True

    def _tool_deltas(self, tool_calls: Any) -> None:
        for call in tool_calls:
            fn = call.function
            if fn is None:
                continue
            names, args = self.calls.setdefault(call.index, ([], []))
            if fn.name:
                names.append(fn.name)
            if fn.arguments:
                args.append(fn.arguments)

    def usage_for_record(self, model: object) -> object:
        """The provider's usage chunk if one came, else completion tokens counted from text."""
        if self.usage is not None:
            return self.usage
        encoding = resolve_model(model).encoding
        total = count_text("".join(self.text), encoding)
        for names, args in self.calls.values():
            total += count_text("".join(names), encoding) + count_text("".join(args), encoding)
        return {"completion_tokens": total}

    def reply(self) -> dict[str, Any]:
        calls = [{"name": "".join(n), "arguments": "".join(a)} for n, a in self.calls.values()]
        return {"content": "".join(self.text), "tool_calls": calls}


class _RecordingStream:
    """What the sync and async wrappers share: the observer and the once-only record."""

    def __init__(self, upstream: Any, call: Call) -> None:
        self._upstream = upstream
        self._call = call
        self._observer = StreamObserver()

    def _finish(self, error: BaseException | None) -> None:
        if self._call.recorded:
            return
        try:
            usage = self._observer.usage_for_record(self._call.model)
            reply = self._observer.reply() if self._call.session.store_content else None
        except Exception as exc:  # noqa: BLE001
            self._call.session.count_failure("stream accounting", exc)
            usage, reply = self._observer.usage, None
        self._call.finish(usage=usage, error=error, reply=reply)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._upstream, name)


class HeadroomStream(_RecordingStream):
    """Wraps the SDK's ``Stream``: iterate it, use it in ``with``, ``close()`` it early."""

    def __init__(self, upstream: Any, call: Call) -> None:
        super().__init__(upstream, call)
        self._chunks = self._run()

    def _run(self) -> Generator[Any, None, None]:
        observe = self._observer.observe
        try:
            for chunk in self._upstream:
                observe(chunk)
                yield chunk
        except GeneratorExit:
            self._close_upstream()
            self._finish(None)
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        self._finish(None)

    def _close_upstream(self) -> None:
        close = getattr(self._upstream, "close", None)
        if close is not None:
            close()

    def __iter__(self) -> Iterator[Any]:
        return self._chunks

    def __next__(self) -> Any:
        return next(self._chunks)

    def close(self) -> None:
        """Stop early: close the provider's stream and record what was seen."""
        self._chunks.close()
        self._close_upstream()
        self._finish(None)

    def __enter__(self) -> HeadroomStream:
        return self

    def __del__(self) -> None:
        """Abandoned before its generator ever ran (a started one records on GeneratorExit):
        hang up on the provider and record what was seen, once."""
        try:
            if not self._call.recorded:
                self._close_upstream()
                self._finish(None)
        except Exception:  # noqa: BLE001, S110 - a finalizer must never raise
            pass

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncHeadroomStream(_RecordingStream):
    """Wraps the SDK's ``AsyncStream``: ``async for``, ``async with``, ``await close()``."""

    def __init__(self, upstream: Any, call: Call) -> None:
        super().__init__(upstream, call)
        self._chunks = self._run()

    async def _run(self) -> AsyncGenerator[Any, None]:
        observe = self._observer.observe
        try:
            async for chunk in self._upstream:
                observe(chunk)
                yield chunk
        except GeneratorExit:
            await self._close_upstream()
            self._finish(None)
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        self._finish(None)

    async def _close_upstream(self) -> None:
        close = getattr(self._upstream, "close", None)
        if close is not None:
            await close()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._chunks

    async def __anext__(self) -> Any:
        return await self._chunks.__anext__()

    async def close(self) -> None:
        """Stop early: close the provider's stream and record what was seen."""
        await self._chunks.aclose()
        await self._close_upstream()
        self._finish(None)

    async def __aenter__(self) -> AsyncHeadroomStream:
        return self

    def __del__(self) -> None:
        """Abandoned before its generator ever ran: record what was seen, once (closing the
        provider's stream needs an event loop, which a finalizer may not have)."""
        try:
            if not self._call.recorded:
                self._finish(None)
        except Exception:  # noqa: BLE001, S110 - a finalizer must never raise
            pass

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
