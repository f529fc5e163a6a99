"""``client.chat`` and ``client.chat.completions``: Headroom's ``create``, ``parse``,
``stream`` and ``simulate``; every other attribute is the wrapped SDK's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..plan import Plan
from ._call import Call, Session, reply_of, split_options
from ._stream_helpers import AsyncHeadroomStreamManager, HeadroomStreamManager
from ._streams import AsyncHeadroomStream, HeadroomStream


class _Proxy:
    """Delegates every attribute it does not define to the wrapped object."""

    def __init__(self, wrapped: Any, session: Session) -> None:
        self._wrapped = wrapped
        self._session = session

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_wrapped", "_session"):
            raise AttributeError(name)
        return getattr(self._wrapped, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self._wrapped)))

    def simulate(self, **kwargs: Any) -> Plan:
        """The plan for a request (optimize mode unless ``headroom_mode`` says otherwise),
        without calling the API or recording anything. Other OpenAI arguments are ignored."""
        send, overrides = split_options(kwargs)
        overrides.setdefault("mode", "optimize")
        if overrides["mode"] is None:
            overrides["mode"] = "optimize"
        options = self._session.options_for(overrides, send)
        if "messages" not in send or "model" not in send:
            raise ValueError("simulate() needs model= and messages=")
        tools = send.get("tools")
        return self._session.engine.plan(
            list(send["messages"]) if not isinstance(send["messages"], list) else send["messages"],
            send["model"],
            tools if isinstance(tools, list) else None,
            options,
        )


class Completions(_Proxy):
    """``chat.completions`` of a HeadroomClient."""

    def create(self, **kwargs: Any) -> Any:
        return self._run(self._wrapped.create, kwargs)

    def parse(self, **kwargs: Any) -> Any:
        """Structured outputs (``response_format=`` a pydantic model), audited or optimized
        and recorded like ``create``."""
        return self._run(self._wrapped.parse, kwargs)

    def stream(self, **kwargs: Any) -> HeadroomStreamManager:
        """The SDK's stream helper (``with ... as stream``: events, ``get_final_completion``),
        audited or optimized like ``create`` and recorded once when the block ends."""
        return _stream_helper(self._session, self._wrapped, kwargs, HeadroomStreamManager)

    def _run(self, method: Any, kwargs: dict[str, Any]) -> Any:
        call = Call(self._session, kwargs)
        try:
            response = method(**call.send)
        except BaseException as exc:
            call.finish(error=exc)
            raise
        if call.stream:
            return HeadroomStream(response, call)
        return _finished(call, response, self._session.store_content)


class AsyncCompletions(_Proxy):
    """``chat.completions`` of an AsyncHeadroomClient."""

    async def create(self, **kwargs: Any) -> Any:
        return await self._run(self._wrapped.create, kwargs)

    async def parse(self, **kwargs: Any) -> Any:
        """Structured outputs, audited or optimized and recorded like ``create``."""
        return await self._run(self._wrapped.parse, kwargs)

    def stream(self, **kwargs: Any) -> AsyncHeadroomStreamManager:
        """The SDK's stream helper (``async with ... as stream``), audited or optimized like
        ``create`` and recorded once when the block ends."""
        return _stream_helper(self._session, self._wrapped, kwargs, AsyncHeadroomStreamManager)

    async def _run(self, method: Any, kwargs: dict[str, Any]) -> Any:
        call = Call(self._session, kwargs)
        try:
            response = await method(**call.send)
        except BaseException as exc:
            call.finish(error=exc)
            raise
        if call.stream:
            return AsyncHeadroomStream(response, call)
        return _finished(call, response, self._session.store_content)


_Manager = TypeVar("_Manager", HeadroomStreamManager, AsyncHeadroomStreamManager)


def _stream_helper(
    session: Session,
    completions: Any,
    kwargs: dict[str, Any],
    wrap: Callable[[Any, Call], _Manager],
) -> _Manager:
    """The SDK's stream manager for the planned request, wrapped to record the call."""
    call = Call(session, kwargs)
    call.stream = True  # the helper streams without being asked to
    try:
        manager = completions.stream(**call.send)
    except BaseException as exc:
        call.finish(error=exc)
        raise
    return wrap(manager, call)


def _finished(call: Call, response: Any, store_content: bool) -> Any:
    call.finish(
        usage=getattr(response, "usage", None),
        reply=reply_of(response) if store_content else None,
    )
    return response


class Chat:
    """``client.chat``: Headroom's ``completions``, everything else from the SDK."""

    def __init__(self, wrapped: Any, completions: _Proxy) -> None:
        self._wrapped = wrapped
        self.completions = completions

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_wrapped":
            raise AttributeError(name)
        return getattr(self._wrapped, name)
