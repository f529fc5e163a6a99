"""HeadroomChatModel: any LangChain chat model behind Headroom's context budget controller.

Each call converts the messages to the canonical OpenAI form, plans them, and hands the wrapped
model LangChain messages again: in audit mode the caller's own list, in optimize mode the
planned messages, where every message the engine left alone is the caller's very object. The
wrapper calls the wrapped model's own hooks (``_generate``, ``_stream`` and async twins) under
its run, so callbacks see one chat model run per call, and records once per call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding, RunnableParallel, RunnableSequence
from langchain_core.runnables.fallbacks import RunnableWithFallbacks
from langchain_core.tools import BaseTool
from pydantic import Field, PrivateAttr, model_validator

from headroom import Plan
from headroom.store import RequestRecord

from ._convert import openai_tools, rebuild, same_messages, to_canonical
from ._recording import (
    Session,
    Timer,
    add_usage,
    model_name_of,
    split_options,
    usage_of_result,
)


@dataclass
class _Call:
    plan: Plan | None
    messages: list[BaseMessage]
    kwargs: dict[str, Any]
    timer: Timer
    stream: bool


class HeadroomChatModel(BaseChatModel):
    """Wrap any chat model so every request is measured (audit) or kept inside its token
    budget (optimize) by Headroom.

    ``HeadroomChatModel(llm=ChatAnthropic(model="claude-sonnet-4-5"), mode="optimize",
    store_url="sqlite:///headroom.db")``. ``invoke``/``stream``/``batch`` and their async
    twins, ``bind_tools`` and ``with_structured_output`` delegate to the wrapped model; per
    call, ``headroom_mode`` (and the other ``headroom_*`` options) can be passed and are never
    given to the wrapped model. Counting uses OpenAI's tokenizers: for other providers the
    counts are close estimates, and ``model_context_limits`` sets their windows.
    """

    llm: BaseChatModel = Field(description="The chat model that receives the requests.")
    mode: Literal["audit", "optimize"] = "audit"
    model: str | None = Field(
        default=None, description="Model name for counting; defaults to the wrapped model's."
    )
    store_url: str | None = None
    store_content: bool = False
    output_buffer_tokens: int | None = Field(default=None, ge=0)
    keep_turns: int | None = Field(default=None, ge=0)
    tool_profiles: dict[str, Any] | None = None
    model_context_limits: dict[str, int] | None = None

    _headroom: Session = PrivateAttr()

    @model_validator(mode="after")
    def _start_headroom(self) -> Self:
        self._headroom = Session(
            mode=self.mode,
            store=self.store_url,
            store_content=self.store_content,
            model_context_limits=self.model_context_limits,
            output_buffer_tokens=self.output_buffer_tokens,
            keep_turns=self.keep_turns,
            tool_profiles=self.tool_profiles,
        )
        return self

    @property
    def _llm_type(self) -> str:
        return f"headroom-{self.llm._llm_type}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"headroom_mode": self.mode, **self.llm._identifying_params}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        """The wrapped model's tracing parameters: traces show the real provider and model."""
        return self.llm._get_ls_params(stop=stop, **kwargs)

    # -- inspection ----------------------------------------------------------------------
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

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Prompt tokens of ``messages`` (and ``tools``) in the OpenAI form, counted offline."""
        canonical = to_canonical(messages)
        return self._headroom.engine.count_tokens(canonical, self._model(), openai_tools(tools))

    def _model(self, kwargs: dict[str, Any] | None = None) -> str:
        override = (kwargs or {}).get("model")
        if isinstance(override, str) and override:
            return override
        return self.model or model_name_of(self.llm)

    # -- planning ------------------------------------------------------------------------
    def _begin(self, messages: list[BaseMessage], kwargs: dict[str, Any], stream: bool) -> _Call:
        timer = Timer()
        send_kwargs = dict(kwargs)
        overrides = split_options(send_kwargs)  # bad options: ValueError, nothing sent
        limit = send_kwargs.get("max_tokens", getattr(self.llm, "max_tokens", None))
        options = self._headroom.options(overrides, limit)
        plan: Plan | None = None
        send = messages
        try:
            canonical = to_canonical(messages)
            tools = openai_tools(send_kwargs.get("tools"))
        except Exception as exc:  # noqa: BLE001 - fail open: the request goes out unchanged
            self._headroom.fail("conversion", exc)
            canonical = None
        if canonical is not None:
            plan = self._headroom.plan(canonical, self._model(send_kwargs), tools, options)
        if plan is not None and plan.mode == "optimize" and plan.messages is not canonical:
            try:
                rebuilt = rebuild(messages, canonical or [], plan.messages)
                if not same_messages(rebuilt, messages):
                    send = rebuilt
            except Exception as exc:  # noqa: BLE001
                self._headroom.fail("conversion", exc)
                plan = None
        timer.sent()
        return _Call(plan, send, send_kwargs, timer, stream)

    def _finish(
        self, call: _Call, usage: object = None, error: BaseException | None = None
    ) -> None:
        self._headroom.record(
            call.plan,
            usage=usage,
            stream=call.stream,
            headroom_ms=call.timer.headroom_ms,
            upstream_ms=call.timer.upstream_ms(),
            error=error,
        )

    # -- calls ---------------------------------------------------------------------------
    def _should_stream(
        self,
        *,
        async_api: bool,
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> bool:
        """Stream exactly when the wrapped model would."""
        return self.llm._should_stream(async_api=async_api, run_manager=run_manager, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._begin(messages, kwargs, stream=False)
        try:
            result = self.llm._generate(
                call.messages, stop=stop, run_manager=run_manager, **call.kwargs
            )
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        self._finish(call, usage_of_result(result))
        return result

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._begin(messages, kwargs, stream=False)
        try:
            result = await self.llm._agenerate(
                call.messages, stop=stop, run_manager=run_manager, **call.kwargs
            )
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        self._finish(call, usage_of_result(result))
        return result

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        call = self._begin(messages, kwargs, stream=True)
        usage: dict[str, Any] | None = None
        error: BaseException | None = None
        try:
            for chunk in self.llm._stream(
                call.messages, stop=stop, run_manager=run_manager, **call.kwargs
            ):
                usage = add_usage(usage, getattr(chunk.message, "usage_metadata", None))
                yield chunk
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, usage, error)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        call = self._begin(messages, kwargs, stream=True)
        usage: dict[str, Any] | None = None
        error: BaseException | None = None
        try:
            async for chunk in self.llm._astream(
                call.messages, stop=stop, run_manager=run_manager, **call.kwargs
            ):
                usage = add_usage(usage, getattr(chunk.message, "usage_metadata", None))
                yield chunk
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, usage, error)

    # -- tools and structured output -----------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """The wrapped model's ``bind_tools``, bound to this wrapper instead, so tool calls go
        through Headroom with the wrapped model's own tool format."""
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        bound = self.llm.bind_tools(tools, **kwargs)
        swapped: Runnable[LanguageModelInput, AIMessage] = _swap(bound, self.llm, self)
        if swapped is bound:
            raise ValueError(
                f"{type(self.llm).__name__}.bind_tools did not return a binding of the model; "
                "bind tools on the wrapped model's binding is not supported by HeadroomChatModel"
            )
        return swapped

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """The wrapped model's structured output (its own methods: json_schema, function
        calling, json mode), with the model calls routed through this wrapper."""
        structured = self.llm.with_structured_output(schema, include_raw=include_raw, **kwargs)
        swapped: Runnable[LanguageModelInput, Any] = _swap(structured, self.llm, self)
        if swapped is structured:
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)
        return swapped


def _swap(runnable: Any, old: BaseChatModel, new: BaseChatModel) -> Any:
    """``runnable`` with every use of the model ``old`` replaced by ``new`` (the same object
    when ``old`` does not occur)."""
    if runnable is old:
        return new
    if isinstance(runnable, RunnableBinding):
        inner = _swap(runnable.bound, old, new)
        return runnable if inner is runnable.bound else runnable.model_copy(update={"bound": inner})
    if isinstance(runnable, RunnableSequence):
        steps = [_swap(step, old, new) for step in runnable.steps]
        if all(a is b for a, b in zip(steps, runnable.steps, strict=True)):
            return runnable
        return RunnableSequence(*steps, name=runnable.name)
    if isinstance(runnable, RunnableParallel):
        branches = {key: _swap(value, old, new) for key, value in runnable.steps__.items()}
        if all(branches[key] is value for key, value in runnable.steps__.items()):
            return runnable
        return RunnableParallel(branches)
    if isinstance(runnable, RunnableWithFallbacks):
        first = _swap(runnable.runnable, old, new)
        if first is runnable.runnable:
            return runnable
        return runnable.model_copy(update={"runnable": first})
    return runnable
