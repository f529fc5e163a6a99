"""What every LangChain entry point shares: the engine, the fail-open recorder, per-call
options, and the provider's usage dug out of LangChain's results.

A store failure or an engine bug is logged once per kind and counted, never raised into the
user's chain; only bad options (ValueError) and a request that cannot fit
(HeadroomBudgetError) are raised, on purpose, before anything is sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from headroom import Headroom, HeadroomBudgetError, Plan
from headroom.options import EngineOptions
from headroom.recording import Recorder, record_from_plan
from headroom.store import MetricsStore, RequestRecord

logger = logging.getLogger("headroom")

SOURCE = "langchain"
OPTION_PREFIX = "headroom_"
OPTION_NAMES = {
    "headroom_mode": "mode",
    "headroom_output_buffer_tokens": "output_buffer_tokens",
    "headroom_keep_turns": "keep_turns",
    "headroom_tool_profiles": "tool_profiles",
}


def split_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pop the per-call ``headroom_*`` options out of ``kwargs``; ValueError for unknown ones."""
    overrides: dict[str, Any] = {}
    for key in [k for k in kwargs if k.startswith(OPTION_PREFIX)]:
        if key not in OPTION_NAMES:
            raise ValueError(
                f"unknown headroom option {key!r}; valid options: {sorted(OPTION_NAMES)}"
            )
        overrides[OPTION_NAMES[key]] = kwargs.pop(key)
    return overrides


class Session:
    """One engine and one recorder behind a LangChain model, callback or middleware."""

    def __init__(
        self,
        *,
        mode: str = "audit",
        store: MetricsStore | str | None = None,
        store_content: bool = False,
        model_context_limits: Mapping[str, int] | None = None,
        output_buffer_tokens: int | None = None,
        keep_turns: int | None = None,
        tool_profiles: Mapping[str, Any] | None = None,
    ) -> None:
        self.engine = Headroom(
            model_context_limits,
            mode=mode,
            output_buffer_tokens=output_buffer_tokens,
            keep_turns=keep_turns,
            tool_profiles=tool_profiles,
        )
        self.explicit_output_buffer = output_buffer_tokens is not None
        self.recorder: Recorder | None = Recorder(store) if store is not None else None
        self.store_content = store_content
        self.failures: Counter[str] = Counter()
        self.last_plan: Plan | None = None
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return self.engine.defaults.mode

    def options(self, overrides: Mapping[str, Any], max_tokens: object = None) -> EngineOptions:
        """Per-call options; the request's own max tokens is the output buffer unless one was
        configured or given."""
        merged = dict(overrides)
        if (
            merged.get("output_buffer_tokens") is None
            and not self.explicit_output_buffer
            and isinstance(max_tokens, int)
            and not isinstance(max_tokens, bool)
            and max_tokens >= 0
        ):
            merged["output_buffer_tokens"] = max_tokens
        return self.engine.options(**merged)

    def plan(
        self,
        messages: Sequence[Any],
        model: str,
        tools: Sequence[Any] | None,
        options: EngineOptions,
    ) -> Plan | None:
        """The engine's plan, or None if the engine failed (the request then goes out as it
        was). HeadroomBudgetError is raised: the request cannot be made to fit."""
        try:
            plan = self.engine.plan(messages, model, tools, options)
        except HeadroomBudgetError:
            raise
        except Exception as exc:  # noqa: BLE001 - fail open
            self.fail("planning", exc)
            return None
        self.last_plan = plan
        return plan

    def record(
        self,
        plan: Plan | None,
        *,
        usage: object = None,
        stream: bool = False,
        headroom_ms: float = 0.0,
        upstream_ms: float | None = None,
        error: BaseException | None = None,
        reply: str | None = None,
    ) -> None:
        """Write the record of one call; never raises."""
        if plan is None or self.recorder is None:
            return
        try:
            content = None
            if self.store_content:
                content = {"messages": plan.messages, "response": reply}
            record = record_from_plan(
                plan,
                source=SOURCE,
                stream=stream,
                usage=usage,
                headroom_ms=headroom_ms,
                upstream_ms=upstream_ms,
                error_type=type(error).__name__ if error is not None else None,
                content=content,
            )
        except Exception as exc:  # noqa: BLE001 - recording must never fail the call
            self.fail("recording", exc)
            return
        self.recorder.write(record)

    def fail(self, kind: str, exc: BaseException) -> None:
        """Count an internal failure; log only the first of each kind."""
        with self._lock:
            first = self.failures[kind] == 0
            self.failures[kind] += 1
        if first:
            logger.warning(
                "headroom: langchain %s failed (%s: %s); the request is unaffected, further "
                "%s failures are counted, not logged",
                kind,
                type(exc).__name__,
                exc,
                kind,
            )

    def all_failures(self) -> Counter[str]:
        return self.engine.failures + self.failures

    def get_metrics(self, limit: int = 100) -> list[RequestRecord]:
        if self.recorder is None or self.recorder.store is None:
            return []
        return self.recorder.store.query(limit=limit)

    def get_summary(self) -> dict[str, Any]:
        return self.recorder.summary() if self.recorder is not None else {}


class Timer:
    """Milliseconds spent in Headroom and upstream for one call."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.headroom_ms = 0.0
        self.sent_at: float | None = None

    def sent(self) -> None:
        self.headroom_ms = (time.perf_counter() - self.started) * 1000
        self.sent_at = time.perf_counter()

    def upstream_ms(self) -> float | None:
        if self.sent_at is None:
            return None
        return (time.perf_counter() - self.sent_at) * 1000


def usage_from_metadata(metadata: object) -> dict[str, Any] | None:
    """An OpenAI-style usage dict from LangChain's ``usage_metadata`` (any provider)."""
    if not isinstance(metadata, Mapping):
        return None
    prompt, completion = metadata.get("input_tokens"), metadata.get("output_tokens")
    if not isinstance(prompt, int):
        return None
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion if isinstance(completion, int) else 0,
    }
    details = metadata.get("input_token_details")
    if isinstance(details, Mapping) and isinstance(details.get("cache_read"), int):
        usage["prompt_tokens_details"] = {"cached_tokens": details["cache_read"]}
    return usage


def usage_of_message(message: object) -> dict[str, Any] | None:
    return usage_from_metadata(getattr(message, "usage_metadata", None))


def usage_of_result(result: object) -> dict[str, Any] | None:
    """Usage from a ChatResult or LLMResult: the provider's own ``token_usage`` when it has
    one, else the first generation message's ``usage_metadata``."""
    output = getattr(result, "llm_output", None)
    if isinstance(output, Mapping):
        token_usage = output.get("token_usage") or output.get("usage")
        if isinstance(token_usage, Mapping) and isinstance(token_usage.get("prompt_tokens"), int):
            return dict(token_usage)
    generations: Any = getattr(result, "generations", None) or []
    for generation in generations:
        items = generation if isinstance(generation, list) else [generation]
        for item in items:
            usage = usage_of_message(getattr(item, "message", None))
            if usage is not None:
                return usage
    return None


def add_usage(total: dict[str, Any] | None, chunk_usage: object) -> dict[str, Any] | None:
    """Streamed usage: LangChain sums chunk ``usage_metadata``; keep the running total."""
    usage = usage_from_metadata(chunk_usage)
    if usage is None:
        return total
    if total is None:
        return usage
    merged = dict(total)
    merged["prompt_tokens"] = total["prompt_tokens"] + usage["prompt_tokens"]
    merged["completion_tokens"] = total["completion_tokens"] + usage["completion_tokens"]
    cached = (total.get("prompt_tokens_details") or {}).get("cached_tokens", 0) + (
        usage.get("prompt_tokens_details") or {}
    ).get("cached_tokens", 0)
    if "prompt_tokens_details" in total or "prompt_tokens_details" in usage:
        merged["prompt_tokens_details"] = {"cached_tokens": cached}
    return merged


def model_name_of(llm: object, fallback: str = "gpt-4o") -> str:
    """The model name a LangChain chat model will call, for counting and pricing."""
    for attr in ("model_name", "model", "model_id", "deployment_name"):
        value = getattr(llm, attr, None)
        if isinstance(value, str) and value:
            return value
    try:
        name = llm._get_ls_params().get("ls_model_name")  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        name = None
    return name if isinstance(name, str) and name else fallback
