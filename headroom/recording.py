"""Turning a plan and the provider's answer into a stored record, without ever failing the call.

Every front end (the OpenAI wrapper, the LangChain and LlamaIndex adapters, the CLI) records
through a ``Recorder``: a store failure is logged once per kind of failure, counted in
``dropped_records``, and never raised into the user's request.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from .plan import Plan
from .store import MetricsStore, RequestRecord, open_store
from .store.urls import redact_url

logger = logging.getLogger("headroom")


def usage_numbers(usage: object) -> tuple[int | None, int | None, int | None]:
    """(prompt_tokens, completion_tokens, cached_tokens) from an OpenAI usage object or dict."""
    if usage is None:
        return None, None, None

    def get(key: str) -> Any:
        if isinstance(usage, Mapping):
            return usage.get(key)
        return getattr(usage, key, None)

    prompt, completion = get("prompt_tokens"), get("completion_tokens")
    details = get("prompt_tokens_details")
    cached = None
    if details is not None:
        cached = (
            details.get("cached_tokens")
            if isinstance(details, Mapping)
            else getattr(details, "cached_tokens", None)
        )
    return (
        prompt if isinstance(prompt, int) else None,
        completion if isinstance(completion, int) else None,
        cached if isinstance(cached, int) else None,
    )


def record_from_plan(
    plan: Plan,
    *,
    source: str = "openai",
    stream: bool = False,
    usage: object = None,
    headroom_ms: float = 0.0,
    upstream_ms: float | None = None,
    error_type: str | None = None,
    content: dict[str, Any] | None = None,
) -> RequestRecord:
    """The metrics record for one request that was planned by the engine."""
    record = record_without_plan(
        plan.model,
        plan.mode,
        source=source,
        stream=stream,
        usage=usage,
        headroom_ms=headroom_ms,
        upstream_ms=upstream_ms,
        error_type=error_type,
        content=content,
    )
    record.tokens_before = plan.tokens_before
    record.tokens_after = plan.tokens_after
    record.tokens_saved = plan.tokens_saved
    record.transforms = plan.savings_by_transform()
    record.waste = dict(plan.waste.by_category)
    record.tool_tokens = dict(plan.waste.by_tool)
    record.stable_prefix_hash = plan.stable_prefix_hash
    record.prefix_hash = plan.prefix_hash
    record.context_window = plan.context_window
    record.messages_count = len(plan.messages)
    record.dropped_messages = plan.dropped_messages
    record.estimated_savings_usd = plan.estimated_savings
    return record


class Recorder:
    """A store behind a fail-open write: failures are logged once per kind and counted."""

    def __init__(self, store: MetricsStore | str | None) -> None:
        self.store: MetricsStore | None = open_store(store) if isinstance(store, str) else store
        self.dropped_records = 0
        self.failures: Counter[str] = Counter()
        self._lock = threading.Lock()

    def write(self, record: RequestRecord) -> bool:
        """Write ``record``; return False (and count it) if the store failed."""
        if self.store is None:
            return False
        try:
            self.store.write(record)
            return True
        except Exception as exc:  # noqa: BLE001 - the user's call must go on
            kind = type(exc).__name__
            with self._lock:
                first = self.failures[kind] == 0
                self.failures[kind] += 1
                self.dropped_records += 1
            if first:
                logger.warning(
                    "headroom: could not write a metrics record to %s (%s: %s); "
                    "further %s failures are counted, not logged",
                    redact_url(getattr(self.store, "url", "?")),
                    kind,
                    exc,
                    kind,
                )
            return False

    def summary(self, **filters: Any) -> dict[str, Any]:
        base: dict[str, Any] = self.store.summary(**filters) if self.store is not None else {}
        base["dropped_records"] = self.dropped_records
        return base

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def record_without_plan(
    model: object,
    mode: str,
    *,
    source: str = "openai",
    stream: bool = False,
    usage: object = None,
    headroom_ms: float = 0.0,
    upstream_ms: float | None = None,
    error_type: str | None = None,
    content: dict[str, Any] | None = None,
) -> RequestRecord:
    """The record for a request the engine could not plan (it went out unchanged)."""
    prompt, completion, cached = usage_numbers(usage)
    return RequestRecord(
        model=model if isinstance(model, str) else str(model),
        mode=mode,
        stream=stream,
        source=source,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        headroom_ms=round(headroom_ms, 4),
        upstream_ms=None if upstream_ms is None else round(upstream_ms, 4),
        error_type=error_type,
        content=content,
    )
