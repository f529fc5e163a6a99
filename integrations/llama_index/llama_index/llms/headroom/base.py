"""HeadroomLLM: any LlamaIndex LLM behind Headroom's context budget controller.

Every call is converted to the canonical OpenAI form, planned by the core engine, sent (audit:
the messages as they were; optimize: the planned ones) to the wrapped LLM, and recorded once.
The wrapper fires no LLM callback events of its own: the wrapped LLM fires them, with the
messages actually sent and the provider's usage, and both share one callback manager, so a
TokenCountingHandler (or any instrumentation handler) sees each call exactly once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr, field_serializer
from llama_index.core.callbacks import CallbackManager
from llama_index.core.constants import DEFAULT_NUM_OUTPUTS
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import LLM, ToolSelection

from headroom import EngineOptions, Headroom, HeadroomBudgetError, Plan
from headroom.models import resolve_model
from headroom.recording import Recorder, record_from_plan
from headroom.store import RequestRecord

from .messages import rebuild, to_canonical
from .usage import usage_of

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

logger = logging.getLogger("headroom")

SOURCE = "llama_index"
OPTION_PREFIX = "headroom_"
# Settings a wrapper takes over from the LLM it wraps, so prompts are built the same way.
_INHERITED = (
    "system_prompt",
    "messages_to_prompt",
    "completion_to_prompt",
    "output_parser",
    "pydantic_program_mode",
    "query_wrapper_prompt",
)
_SECRET_KEYS = ("api_key",)


@dataclass
class _Call:
    """One call on its way through the wrapper: what to send and what to record."""

    plan: Plan | None
    messages: Sequence[ChatMessage]
    kwargs: dict[str, Any]
    stream: bool
    headroom_ms: float
    canonical: list[dict[str, Any]] = field(default_factory=list)
    tools: list[Any] | None = None
    options: EngineOptions | None = None  # None: nothing to plan (conversion failed)
    started: float = field(default_factory=time.perf_counter)
    done: bool = False


class HeadroomLLM(FunctionCallingLLM):
    """Wrap a LlamaIndex LLM so every request is measured (audit) or kept inside its token
    budget (optimize) by Headroom.

    ``HeadroomLLM(llm=OpenAI(model="gpt-4o"), mode="optimize", store_url="sqlite:///h.db")``
    """

    llm: LLM = Field(description="The LlamaIndex LLM that receives the requests.")
    mode: Literal["audit", "optimize"] = Field(
        default="audit",
        description="audit sends requests unchanged and records metrics; optimize sends "
        "the planned messages.",
    )
    model: str | None = Field(
        default=None,
        description="Model name for token counting; defaults to the wrapped LLM's model.",
    )
    store_url: str | None = Field(
        default=None, description="Metrics store (sqlite:///, jsonl:///, memory://, ...)."
    )
    store_content: bool = Field(
        default=False, description="Keep the sent messages and the reply in the store."
    )
    output_buffer_tokens: int | None = Field(default=None, ge=0)
    keep_turns: int | None = Field(default=None, ge=0)
    tool_profiles: dict[str, Any] | None = Field(default=None)
    model_context_limits: dict[str, int] | None = Field(default=None)

    _engine: Headroom = PrivateAttr()
    _recorder: Recorder | None = PrivateAttr(default=None)
    _model_name: str = PrivateAttr(default="gpt-4o")
    _last_plan: Plan | None = PrivateAttr(default=None)
    _failures: Counter[str] = PrivateAttr(default_factory=Counter)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(
        self,
        llm: LLM | Mapping[str, Any],
        *,
        callback_manager: CallbackManager | None = None,
        **data: Any,
    ) -> None:
        inner = _load_llm(llm)
        for key in _INHERITED:
            value = getattr(inner, key, None)
            if data.get(key) is None and value is not None:
                data[key] = value
        shared = callback_manager or inner.callback_manager or CallbackManager([])
        super().__init__(llm=inner, callback_manager=shared, **data)
        inner.callback_manager = shared
        self._model_name = self.model or _metadata_model(inner) or "gpt-4o"
        self._engine = Headroom(
            _context_limits(self._model_name, inner, self.model_context_limits),
            mode=self.mode,
            output_buffer_tokens=_output_buffer(self.output_buffer_tokens, inner),
            keep_turns=self.keep_turns,
            tool_profiles=self.tool_profiles,
        )
        self._recorder = Recorder(self.store_url) if self.store_url else None

    def __setattr__(self, name: str, value: Any) -> None:
        """Keep one callback manager for wrapper and wrapped LLM: LlamaIndex assigns
        ``llm.callback_manager`` from Settings and engines, and the wrapped LLM fires the
        events."""
        super().__setattr__(name, value)
        if name == "callback_manager" and "llm" in self.__dict__:
            self.llm.callback_manager = value

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomLLM"

    @field_serializer("llm")
    def _serialize_llm(self, llm: LLM) -> dict[str, Any]:
        data = llm.to_dict()
        for key in _SECRET_KEYS:
            data.pop(key, None)
        return data

    # -- what the wrapper reports ----------------------------------------------------------
    @property
    def metadata(self) -> LLMMetadata:
        """The wrapped model's metadata: its context window, output size and abilities."""
        return self.llm.metadata

    @property
    def engine(self) -> Headroom:
        return self._engine

    @property
    def recorder(self) -> Recorder | None:
        return self._recorder

    @property
    def last_plan(self) -> Plan | None:
        """The plan of the most recent call (for inspection and tests)."""
        return self._last_plan

    @property
    def failures(self) -> Counter[str]:
        """Internal failures (fail-open): the engine's plus the adapter's own."""
        return self._engine.failures + self._failures

    def simulate(self, messages: Sequence[ChatMessage], **options: Any) -> Plan:
        """The plan for ``messages`` in optimize mode (unless ``mode`` says otherwise),
        without sending anything."""
        options.setdefault("mode", "optimize")
        canonical = [to_canonical(m) for m in messages]
        return self._engine.plan(
            canonical,
            self._model_name,
            _openai_tools(options.pop("tools", None)),
            self._engine.options(**options),
        )

    def get_metrics(self, limit: int = 100) -> list[RequestRecord]:
        if self._recorder is None or self._recorder.store is None:
            return []
        return self._recorder.store.query(limit=limit)

    def get_summary(self) -> dict[str, Any]:
        if self._recorder is None:
            return {}
        return self._recorder.summary()

    # -- planning and recording ----------------------------------------------------------
    def _begin(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], stream: bool
    ) -> _Call:
        """Convert, and in optimize mode plan, one call. Audit plans after the send, so
        measuring adds no latency to the request."""
        start = time.perf_counter()
        send_kwargs = {k: v for k, v in kwargs.items() if not k.startswith(OPTION_PREFIX)}
        overrides = {
            k[len(OPTION_PREFIX) :]: v for k, v in kwargs.items() if k.startswith(OPTION_PREFIX)
        }
        options = self._engine.options(**overrides)  # bad options: ValueError, nothing sent
        call = _Call(None, messages, send_kwargs, stream, 0.0)
        try:
            originals = list(messages)
            call.canonical = [to_canonical(m) for m in originals]
            call.tools = _openai_tools(send_kwargs.get("tools"))
            call.options = options
            if options.mode == "optimize":
                call.plan = self._engine.plan(call.canonical, self._model_name, call.tools, options)
                call.messages = _changed_or_same(
                    originals, rebuild(originals, call.canonical, call.plan.messages), messages
                )
        except HeadroomBudgetError:
            raise
        except Exception as exc:  # noqa: BLE001 - fail open: the request goes out unchanged
            self._fail("plan", exc)
            call.plan, call.options, call.messages = None, None, messages
        call.headroom_ms = (time.perf_counter() - start) * 1000
        call.started = time.perf_counter()
        return call

    def _finish(
        self, call: _Call, response: object = None, error: BaseException | None = None
    ) -> None:
        """Record ``call`` once, whatever happens; never raise."""
        if call.done:
            return
        call.done = True
        upstream_ms = (time.perf_counter() - call.started) * 1000
        if call.plan is None and call.options is not None:  # audit: measure now
            start = time.perf_counter()
            try:
                call.plan = self._engine.plan(
                    call.canonical, self._model_name, call.tools, call.options
                )
            except Exception as exc:  # noqa: BLE001 - the call already went out
                self._fail("plan", exc)
            call.headroom_ms += (time.perf_counter() - start) * 1000
        if call.plan is None:
            return
        self._last_plan = call.plan
        if self._recorder is None:
            return
        try:
            content = None
            if self.store_content:
                content = {
                    "messages": list(call.plan.messages),
                    "response": _response_text(response),
                }
            record = record_from_plan(
                call.plan,
                source=SOURCE,
                stream=call.stream,
                usage=usage_of(response),
                headroom_ms=call.headroom_ms,
                upstream_ms=upstream_ms,
                error_type=type(error).__name__ if error is not None else None,
                content=content,
            )
        except Exception as exc:  # noqa: BLE001 - recording must never fail the call
            self._fail("record", exc)
            return
        self._recorder.write(record)

    def _fail(self, step: str, exc: BaseException) -> None:
        with self._lock:
            first = self._failures[step] == 0
            self._failures[step] += 1
        if first:
            logger.warning(
                "headroom: llama_index %s failed (%s: %s); passing the request through",
                step,
                type(exc).__name__,
                exc,
            )

    # -- chat -------------------------------------------------------------------------------
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call = self._begin(messages, kwargs, stream=False)
        try:
            response = self.llm.chat(call.messages, **call.kwargs)
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        self._finish(call, response)
        return response

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        call = self._begin(messages, kwargs, stream=False)
        try:
            response = await self.llm.achat(call.messages, **call.kwargs)
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        self._finish(call, response)
        return response

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        call = self._begin(messages, kwargs, stream=True)
        try:
            stream = self.llm.stream_chat(call.messages, **call.kwargs)
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        return self._relay(call, stream)

    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        call = self._begin(messages, kwargs, stream=True)
        try:
            stream = await self.llm.astream_chat(call.messages, **call.kwargs)
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        return self._arelay(call, stream)

    # -- complete ---------------------------------------------------------------------------
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        call = self._begin_prompt(prompt, kwargs, stream=False)
        try:
            response = self.llm.complete(prompt, formatted=formatted, **call.kwargs)
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        self._finish(call, response)
        return response

    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        call = self._begin_prompt(prompt, kwargs, stream=False)
        try:
            response = await self.llm.acomplete(prompt, formatted=formatted, **call.kwargs)
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        self._finish(call, response)
        return response

    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        call = self._begin_prompt(prompt, kwargs, stream=True)
        try:
            stream = self.llm.stream_complete(prompt, formatted=formatted, **call.kwargs)
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        return self._relay(call, stream)

    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        call = self._begin_prompt(prompt, kwargs, stream=True)
        try:
            stream = await self.llm.astream_complete(prompt, formatted=formatted, **call.kwargs)
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        return self._arelay(call, stream)

    def _begin_prompt(self, prompt: str, kwargs: dict[str, Any], stream: bool) -> _Call:
        """A completion is one user message: measured and checked against the budget; the
        prompt itself (human content) is never rewritten."""
        return self._begin([ChatMessage(role="user", content=prompt)], kwargs, stream)

    # -- streams ----------------------------------------------------------------------------
    def _relay(self, call: _Call, stream: Any) -> Generator[Any, None, None]:
        last = None
        error: BaseException | None = None
        try:
            for chunk in stream:
                last = chunk
                yield chunk
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, last, None if isinstance(error, GeneratorExit) else error)

    async def _arelay(self, call: _Call, stream: Any) -> AsyncGenerator[Any, None]:
        last = None
        error: BaseException | None = None
        try:
            async for chunk in stream:
                last = chunk
                yield chunk
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, last, None if isinstance(error, GeneratorExit) else error)

    # -- function calling -------------------------------------------------------------------
    def _tool_llm(self) -> FunctionCallingLLM:
        if not isinstance(self.llm, FunctionCallingLLM):
            raise ValueError(
                f"the wrapped LLM ({type(self.llm).__name__}) does not support function "
                "calling; wrap a FunctionCallingLLM such as llama_index.llms.openai.OpenAI"
            )
        return self.llm

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return self._tool_llm()._prepare_chat_with_tools_compat(
            tools,
            user_msg=user_msg,
            chat_history=chat_history,
            verbose=verbose,
            allow_parallel_tool_calls=allow_parallel_tool_calls,
            tool_required=tool_required,
            **kwargs,
        )

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        return self._tool_llm()._validate_chat_with_tools_response(
            response, tools, allow_parallel_tool_calls=allow_parallel_tool_calls, **kwargs
        )

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        return self._tool_llm().get_tool_calls_from_response(
            response, error_on_no_tool_call=error_on_no_tool_call, **kwargs
        )


def _changed_or_same(
    originals: list[ChatMessage], rebuilt: list[ChatMessage], given: Sequence[ChatMessage]
) -> Sequence[ChatMessage]:
    """``given`` itself when the plan changed nothing, else the rebuilt messages."""
    same = len(rebuilt) == len(originals) and all(
        a is b for a, b in zip(rebuilt, originals, strict=True)
    )
    return given if same else rebuilt


def _load_llm(llm: object) -> LLM:
    if isinstance(llm, Mapping):  # from_dict: the wrapped LLM arrives serialized
        from llama_index.core.llms.loading import load_llm

        llm = load_llm(dict(llm))
    if not isinstance(llm, LLM):
        raise ValueError(
            f"llm must be a LlamaIndex LLM (llama_index.core.llms.LLM), got {type(llm).__name__}"
        )
    return llm


def _metadata_model(llm: LLM) -> str | None:
    try:
        name = llm.metadata.model_name
    except Exception:  # noqa: BLE001 - some LLMs compute metadata from a remote service
        return None
    return name if isinstance(name, str) and name and name != "unknown" else None


def _context_limits(
    model: str, llm: LLM, limits: Mapping[str, int] | None
) -> dict[str, int] | None:
    """The user's limits, plus the wrapped LLM's own window for a model Headroom does not
    know (so a 32k local model is not planned against a 128k default)."""
    merged = dict(limits or {})
    if model in merged or resolve_model(model, {model: 1}).known:
        return merged or None
    try:
        window = llm.metadata.context_window
    except Exception:  # noqa: BLE001
        return merged or None
    if isinstance(window, int) and window > 0:
        merged[model] = window
    return merged or None


def _output_buffer(given: int | None, llm: LLM) -> int | None:
    """The tokens to keep free for the answer: as given, else the wrapped LLM's own
    ``max_tokens`` when it sets one (not LlamaIndex's placeholder), else the engine's
    default."""
    if given is not None:
        return given
    try:
        num_output = llm.metadata.num_output
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(num_output, int) or num_output <= 0 or num_output == DEFAULT_NUM_OUTPUTS:
        return None
    return num_output


def _openai_tools(tools: object) -> list[Any] | None:
    """``tools`` when they are OpenAI tool definitions (what OpenAI-style LLMs send)."""
    if not isinstance(tools, list) or not tools:
        return None
    if all(isinstance(t, Mapping) and isinstance(t.get("function"), Mapping) for t in tools):
        return list(tools)
    return None


def _response_text(response: object) -> str | None:
    if response is None:
        return None
    message = getattr(response, "message", None)
    if message is not None:
        text = getattr(message, "content", None)
        return text if isinstance(text, str) else None
    text = getattr(response, "text", None)
    return text if isinstance(text, str) else None
