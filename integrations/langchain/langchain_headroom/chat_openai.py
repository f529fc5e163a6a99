"""HeadroomChatOpenAI: langchain-openai's ChatOpenAI with Headroom on the exact request payload.

ChatOpenAI builds every request in ``_get_request_payload``; that payload is already in the
canonical OpenAI form, so Headroom plans on exactly what would be sent. Each public call
(``_generate``, ``_stream`` and their async twins) hands a private per-call slot to
``_get_request_payload`` through its keyword arguments, which is how the plan made there reaches
the recording done after the provider answers, with no shared state between concurrent calls.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.tools import BaseTool
from langchain_openai import ChatOpenAI
from pydantic import Field, PrivateAttr, model_validator

from headroom import Plan
from headroom.encodings import get_encoding
from headroom.models import resolve_model
from headroom.options import EngineOptions
from headroom.store import RequestRecord

from ._convert import openai_tools, to_canonical
from ._recording import Session, Timer, add_usage, split_options, usage_of_result

logger = logging.getLogger("headroom")

_CALL_KEY = "_headroom_call"


class HeadroomResponsesAPIWarning(UserWarning):
    """A Responses API request went out unchanged although optimize mode was asked for."""


@dataclass
class _Call:
    """One request on its way through the model: what to plan or record afterwards."""

    stream: bool
    timer: Timer
    plan: Plan | None = None
    pending: tuple[list[Any], str, list[Any] | None, EngineOptions] | None = None


class HeadroomChatOpenAI(ChatOpenAI):
    """A drop-in ``ChatOpenAI`` that measures (audit) or trims (optimize) every request.

    ``HeadroomChatOpenAI(model="gpt-4o", headroom_mode="optimize", store_url="sqlite:///h.db")``
    takes every ChatOpenAI argument plus the Headroom options below; per call, ``headroom_mode``,
    ``headroom_output_buffer_tokens``, ``headroom_keep_turns`` and ``headroom_tool_profiles``
    can be passed to ``invoke``/``bind`` and are never sent to the API.

    - audit (default): the request payload is sent byte for byte as ChatOpenAI builds it; the
      plan (Context MRI) is computed after the answer and recorded with the provider's usage.
    - optimize: the engine runs on the Chat Completions payload's ``messages`` (and ``tools``)
      and the planned messages are sent instead.
    - Responses API (``use_responses_api=True``, ``reasoning=...``, ``output_version=
      "responses/v1"``, some models): the payload always passes through unchanged, audit only;
      in optimize mode a ``HeadroomResponsesAPIWarning`` says so. Its metrics are recorded
      from the Chat Completions form of the same messages.

    ``get_num_tokens_from_messages`` and ``get_num_tokens`` count offline with Headroom's
    exact counting (tool definitions included), never downloading a tokenizer.
    """

    headroom_mode: Literal["audit", "optimize"] = Field(
        default="audit", description="audit sends requests unchanged; optimize trims them."
    )
    store_url: str | None = Field(
        default=None, description="Metrics store: sqlite:///, jsonl:///, memory://, postgresql://"
    )
    store_content: bool = Field(
        default=False, description="Keep the sent messages and the reply in the store."
    )
    output_buffer_tokens: int | None = Field(default=None, ge=0)
    keep_turns: int | None = Field(default=None, ge=0)
    tool_profiles: dict[str, Any] | None = None
    model_context_limits: dict[str, int] | None = None

    _headroom: Session = PrivateAttr()

    @model_validator(mode="after")
    def _start_headroom(self) -> Self:
        self._headroom = Session(
            mode=self.headroom_mode,
            store=self.store_url,
            store_content=self.store_content,
            model_context_limits=self.model_context_limits,
            output_buffer_tokens=self.output_buffer_tokens,
            keep_turns=self.keep_turns,
            tool_profiles=self.tool_profiles,
        )
        return self

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """No: ``langchain_core.load`` revives only the classes on its own allowlist, so a
        dumped HeadroomChatOpenAI could not be loaded back."""
        return False

    # -- inspection ----------------------------------------------------------------------
    @property
    def headroom(self) -> Session:
        """The engine, recorder and failure counts behind this model."""
        return self._headroom

    @property
    def last_plan(self) -> Plan | None:
        return self._headroom.last_plan

    def get_metrics(self, limit: int = 100) -> list[RequestRecord]:
        return self._headroom.get_metrics(limit)

    def get_summary(self) -> dict[str, Any]:
        return self._headroom.get_summary()

    # -- the payload ---------------------------------------------------------------------
    def _get_request_payload(
        self,
        input_: LanguageModelInput,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> dict[Any, Any]:
        call: _Call | None = kwargs.pop(_CALL_KEY, None)
        overrides = split_options(kwargs)
        payload: dict[Any, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
        if call is None:  # called from outside a request: nothing to record
            call = _Call(stream=False, timer=Timer())
        limit = payload.get("max_completion_tokens", payload.get("max_tokens"))
        options = self._headroom.options(overrides, limit)
        messages = payload.get("messages")
        target: tuple[list[Any], str, list[Any] | None, EngineOptions] | None
        if isinstance(messages, list):
            tools = payload.get("tools")
            target = (messages, str(payload.get("model") or self.model_name), tools, options)
        else:
            target = self._responses_target(input_, payload, options)
        if target is not None and target[3].mode == "optimize":
            call.plan = self._headroom.plan(*target)
            if call.plan is not None and call.plan.messages is not messages:
                payload["messages"] = call.plan.messages
        elif target is not None:
            call.pending = (list(target[0]), target[1], target[2], target[3])
        call.timer.sent()
        return payload

    def _responses_target(
        self, input_: LanguageModelInput, payload: dict[Any, Any], options: EngineOptions
    ) -> tuple[list[Any], str, list[Any] | None, EngineOptions] | None:
        """What to audit for a Responses API payload (which always goes out unchanged)."""
        if options.mode == "optimize":
            warnings.warn(
                "HeadroomChatOpenAI: this request uses OpenAI's Responses API; Headroom sends "
                "it unchanged and records audit metrics only",
                HeadroomResponsesAPIWarning,
                stacklevel=4,
            )
        try:
            messages = to_canonical(self._convert_input(input_).to_messages())
            tools = openai_tools(payload.get("tools"))
        except Exception as exc:  # noqa: BLE001 - fail open: nothing to audit
            self._headroom.fail("conversion", exc)
            return None
        audit = options.model_copy(update={"mode": "audit"})
        return messages, str(payload.get("model") or self.model_name), tools, audit

    def _finish(
        self, call: _Call, usage: object = None, error: BaseException | None = None
    ) -> None:
        """Plan (audit: after the answer, so nothing delays the request) and record once."""
        plan = call.plan
        planning_ms = 0.0
        if plan is None and call.pending is not None:
            started = time.perf_counter()
            plan = self._headroom.plan(*call.pending)
            planning_ms = (time.perf_counter() - started) * 1000
        self._headroom.record(
            plan,
            usage=usage,
            stream=call.stream,
            headroom_ms=call.timer.headroom_ms + planning_ms,
            upstream_ms=call.timer.upstream_ms(),
            error=error,
        )

    # -- calls ---------------------------------------------------------------------------
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = _Call(stream=False, timer=Timer())
        try:
            result = super()._generate(messages, stop, run_manager, **{_CALL_KEY: call, **kwargs})
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
        call = _Call(stream=False, timer=Timer())
        try:
            result = await super()._agenerate(
                messages, stop, run_manager, **{_CALL_KEY: call, **kwargs}
            )
        except BaseException as exc:
            self._finish(call, error=exc)
            raise
        self._finish(call, usage_of_result(result))
        return result

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        call = _Call(stream=True, timer=Timer())
        usage: dict[str, Any] | None = None
        error: BaseException | None = None
        try:
            for chunk in super()._stream(*args, **{_CALL_KEY: call, **kwargs}):
                usage = add_usage(usage, getattr(chunk.message, "usage_metadata", None))
                yield chunk
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, usage, error)

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        call = _Call(stream=True, timer=Timer())
        usage: dict[str, Any] | None = None
        error: BaseException | None = None
        try:
            async for chunk in super()._astream(*args, **{_CALL_KEY: call, **kwargs}):
                usage = add_usage(usage, getattr(chunk.message, "usage_metadata", None))
                yield chunk
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, usage, error)

    # -- offline counting ----------------------------------------------------------------
    def get_token_ids(self, text: str) -> list[int]:
        """Token ids from Headroom's shipped encodings (no tokenizer download)."""
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        info = resolve_model(self.tiktoken_model_name or self.model_name)
        return list(get_encoding(info.encoding).encode_ordinary(text))

    def get_num_tokens_from_messages(
        self,
        messages: Sequence[BaseMessage],
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None = None,
        **kwargs: Any,
    ) -> int:
        """The prompt tokens OpenAI bills for ``messages`` (and ``tools``), counted exactly
        and offline on the payload ChatOpenAI would send."""
        payload = super()._get_request_payload(list(messages))
        canonical = payload.get("messages")
        if not isinstance(canonical, list):
            canonical = to_canonical(list(messages))
        model = self.tiktoken_model_name or str(payload.get("model") or self.model_name)
        return self._headroom.engine.count_tokens(canonical, model, openai_tools(tools))
