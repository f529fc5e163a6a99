"""HeadroomMiddleware: Headroom on every model call a LangChain 1.x agent makes.

``create_agent`` runs its model calls through each middleware's ``wrap_model_call`` (LangChain's
own ContextEditingMiddleware clears old tool outputs the same way). This one converts the
request's system message, messages and tools to the canonical form, plans them, hands the
handler the planned messages (optimize) or the request as it was (audit), and records the
plan with the model's usage, whatever the chat model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage

from headroom import Plan
from headroom.store import MetricsStore, RequestRecord

from ._convert import openai_tools, rebuild, same_messages, to_canonical
from ._recording import Session, Timer, model_name_of, usage_of_message


@dataclass
class _Call:
    plan: Plan | None
    request: ModelRequest
    timer: Timer


class HeadroomMiddleware(AgentMiddleware):
    """Keep every model call of an agent inside its token budget (optimize) or measure it
    (audit).

    ``create_agent(model, tools, middleware=[HeadroomMiddleware(mode="optimize",
    store_url="sqlite:///headroom.db")])``
    """

    def __init__(
        self,
        *,
        mode: Literal["audit", "optimize"] = "audit",
        store_url: str | MetricsStore | None = None,
        store_content: bool = False,
        model: str | None = None,
        model_context_limits: Mapping[str, int] | None = None,
        output_buffer_tokens: int | None = None,
        keep_turns: int | None = None,
        tool_profiles: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self._headroom = Session(
            mode=mode,
            store=store_url,
            store_content=store_content,
            model_context_limits=model_context_limits,
            output_buffer_tokens=output_buffer_tokens,
            keep_turns=keep_turns,
            tool_profiles=tool_profiles,
        )

    @property
    def headroom(self) -> Session:
        return self._headroom

    @property
    def last_plan(self) -> Plan | None:
        return self._headroom.last_plan

    def get_metrics(self, limit: int = 100) -> list[RequestRecord]:
        return self._headroom.get_metrics(limit)

    def get_summary(self) -> dict[str, Any]:
        return self._headroom.get_summary()

    # -- the hooks -------------------------------------------------------------------------
    def wrap_model_call(
        self,
        request: ModelRequest,
        handler: Callable[[ModelRequest], ModelResponse],
    ) -> Any:
        call = self._begin(request)
        try:
            response = handler(call.request)
        except BaseException as exc:
            self._finish(call, None, exc)
            raise
        self._finish(call, response, None)
        return response

    async def awrap_model_call(
        self,
        request: ModelRequest,
        handler: Callable[[ModelRequest], Awaitable[ModelResponse]],
    ) -> Any:
        call = self._begin(request)
        try:
            response = await handler(call.request)
        except BaseException as exc:
            self._finish(call, None, exc)
            raise
        self._finish(call, response, None)
        return response

    # -- planning and recording ------------------------------------------------------------
    def _begin(self, request: ModelRequest) -> _Call:
        timer = Timer()
        system = [request.system_message] if request.system_message is not None else []
        originals: list[BaseMessage] = [*system, *request.messages]
        settings = request.model_settings or {}
        limit = settings.get("max_tokens", getattr(request.model, "max_tokens", None))
        options = self._headroom.options({}, limit)
        plan: Plan | None = None
        send = request
        try:
            canonical = to_canonical(originals)
            tools = openai_tools(list(request.tools or []))
        except Exception as exc:  # noqa: BLE001 - fail open: the request goes as it was
            self._headroom.fail("conversion", exc)
            canonical = None
        if canonical is not None:
            model = self.model or model_name_of(request.model)
            plan = self._headroom.plan(canonical, model, tools, options)
        if plan is not None and plan.mode == "optimize" and plan.messages is not canonical:
            try:
                rebuilt = rebuild(originals, canonical or [], plan.messages)
                if not same_messages(rebuilt, originals):
                    send = _with_messages(request, rebuilt, bool(system))
            except Exception as exc:  # noqa: BLE001
                self._headroom.fail("conversion", exc)
                plan = None
        timer.sent()
        return _Call(plan, send, timer)

    def _finish(self, call: _Call, response: object, error: BaseException | None) -> None:
        self._headroom.record(
            call.plan,
            usage=_usage(response),
            headroom_ms=call.timer.headroom_ms,
            upstream_ms=call.timer.upstream_ms(),
            error=error,
        )


def _with_messages(request: ModelRequest, messages: list[Any], had_system: bool) -> Any:
    """``request`` carrying the planned messages (system message kept in its own slot)."""
    if had_system and messages and isinstance(messages[0], SystemMessage):
        return request.override(system_message=messages[0], messages=messages[1:])
    return request.override(messages=messages)


def _usage(response: object) -> object:
    """The model's usage from a ModelResponse, an AIMessage or an ExtendedModelResponse."""
    inner = getattr(response, "model_response", None)
    if inner is not None:
        response = inner
    if isinstance(response, AIMessage):
        return usage_of_message(response)
    for message in getattr(response, "result", None) or []:
        usage = usage_of_message(message)
        if usage is not None:
            return usage
    return None
