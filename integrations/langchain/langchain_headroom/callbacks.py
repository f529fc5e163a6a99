"""HeadroomCallbackHandler: audit metrics for any LangChain chat model, without touching it.

Added to a chain's or a model's callbacks, it converts the messages of every chat model run to
the canonical form when the run starts, and when it ends plans them in audit mode (the Context
MRI) and records the plan with the provider's usage. It never changes a request, never raises
into the user's chain (failures are logged once and counted), and keeps concurrent runs apart
by ``run_id``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

from headroom.options import EngineOptions
from headroom.store import MetricsStore, RequestRecord

from ._convert import openai_tools, to_canonical
from ._recording import Session, Timer, usage_of_message

_MODEL_KEYS = ("model", "model_name", "model_id", "deployment_name")


@dataclass
class _Run:
    requests: list[list[dict[str, Any]]]
    model: str
    tools: list[Any] | None
    options: EngineOptions
    timer: Timer
    stream: bool


class HeadroomCallbackHandler(BaseCallbackHandler):
    """Record the Context MRI and provider usage of every chat model call (audit only).

    ``chain.invoke(x, config={"callbacks": [HeadroomCallbackHandler(store_url="sqlite:///h.db")]})``
    """

    def __init__(
        self,
        store_url: str | MetricsStore | None = None,
        *,
        model_context_limits: Mapping[str, int] | None = None,
        model: str | None = None,
        store_content: bool = False,
        output_buffer_tokens: int | None = None,
        keep_turns: int | None = None,
        tool_profiles: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self._headroom = Session(
            mode="audit",
            store=store_url,
            store_content=store_content,
            model_context_limits=model_context_limits,
            output_buffer_tokens=output_buffer_tokens,
            keep_turns=keep_turns,
            tool_profiles=tool_profiles,
        )
        self._runs: dict[UUID, _Run] = {}
        self._lock = threading.Lock()

    @property
    def headroom(self) -> Session:
        return self._headroom

    @property
    def failures(self) -> Any:
        return self._headroom.all_failures()

    @property
    def open_runs(self) -> int:
        """Runs started and not yet ended (for checking that nothing leaks)."""
        with self._lock:
            return len(self._runs)

    def get_metrics(self, limit: int = 100) -> list[RequestRecord]:
        return self._headroom.get_metrics(limit)

    def get_summary(self) -> dict[str, Any]:
        return self._headroom.get_summary()

    # -- run start -------------------------------------------------------------------------
    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            requests = [to_canonical(batch) for batch in messages]
            self._start(run_id, requests, serialized, metadata, kwargs)
        except Exception as exc:  # noqa: BLE001 - never raise into the chain
            self._headroom.fail("callback", exc)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A text-completion LLM: each prompt is counted as one user message."""
        try:
            requests = [[{"role": "user", "content": prompt}] for prompt in prompts]
            self._start(run_id, requests, serialized, metadata, kwargs)
        except Exception as exc:  # noqa: BLE001
            self._headroom.fail("callback", exc)

    def _start(
        self,
        run_id: UUID,
        requests: list[list[dict[str, Any]]],
        serialized: Mapping[str, Any] | None,
        metadata: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
    ) -> None:
        params = kwargs.get("invocation_params")
        params = params if isinstance(params, Mapping) else {}
        limit = params.get("max_completion_tokens", params.get("max_tokens"))
        run = _Run(
            requests=requests,
            model=self.model or _model_of(params, metadata, serialized),
            tools=openai_tools(params.get("tools")),
            options=self._headroom.options({}, limit),
            timer=Timer(),
            stream=params.get("stream") is True or params.get("streaming") is True,
        )
        run.timer.sent()
        with self._lock:
            self._runs[run_id] = run

    # -- run end ---------------------------------------------------------------------------
    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._pop(run_id)
        if run is None:
            return
        try:
            for index, request in enumerate(run.requests):
                self._record(run, request, _usage(response, index, len(run.requests)), None)
        except Exception as exc:  # noqa: BLE001
            self._headroom.fail("callback", exc)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._pop(run_id)
        if run is None:
            return
        try:
            for request in run.requests:
                self._record(run, request, None, error)
        except Exception as exc:  # noqa: BLE001
            self._headroom.fail("callback", exc)

    def _pop(self, run_id: UUID) -> _Run | None:
        with self._lock:
            return self._runs.pop(run_id, None)

    def _record(
        self,
        run: _Run,
        request: list[dict[str, Any]],
        usage: object,
        error: BaseException | None,
    ) -> None:
        started = time.perf_counter()
        plan = self._headroom.plan(request, run.model, run.tools, run.options)
        self._headroom.record(
            plan,
            usage=usage,
            stream=run.stream,
            headroom_ms=(time.perf_counter() - started) * 1000,
            upstream_ms=run.timer.upstream_ms(),
            error=error,
        )


def _model_of(
    params: Mapping[str, Any],
    metadata: Mapping[str, Any] | None,
    serialized: Mapping[str, Any] | None,
) -> str:
    """The model a run calls: its invocation parameters, tracing metadata or constructor."""
    sources: list[Mapping[str, Any]] = [params]
    if isinstance(serialized, Mapping) and isinstance(serialized.get("kwargs"), Mapping):
        sources.append(serialized["kwargs"])
    for source in sources:
        for key in _MODEL_KEYS:
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    name = (metadata or {}).get("ls_model_name")
    return name if isinstance(name, str) and name else "gpt-4o"


def _usage(response: LLMResult, index: int, count: int) -> object:
    """The usage of the ``index``-th prompt of a run: its generation's ``usage_metadata``,
    else (for a run of one prompt) the provider's ``token_usage``."""
    generations = response.generations[index] if index < len(response.generations) else []
    for generation in generations:
        usage = usage_of_message(getattr(generation, "message", None))
        if usage is not None:
            return usage
    output = response.llm_output if count == 1 else None
    if isinstance(output, Mapping):
        token_usage = output.get("token_usage") or output.get("usage")
        if isinstance(token_usage, Mapping) and isinstance(token_usage.get("prompt_tokens"), int):
            return dict(token_usage)
    return None
