"""One metrics record per request. Counts, hashes and metadata only: no prompt text unless the
user opts in with ``store_content=True`` (then ``content`` holds the request and reply)."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class RequestRecord:
    """What Headroom saw and did for one request."""

    model: str
    mode: str  # "audit" | "optimize"
    id: str = field(default_factory=_new_id)
    timestamp: float = field(default_factory=time.time)  # seconds since the epoch, UTC
    stream: bool = False
    source: str = "openai"  # which front end recorded it: openai, langchain, llama_index, cli
    tokens_before: int = 0
    tokens_after: int = 0
    tokens_saved: int = 0
    transforms: dict[str, int] = field(default_factory=dict)  # transform -> tokens saved
    waste: dict[str, int] = field(default_factory=dict)  # waste category -> tokens
    tool_tokens: dict[str, int] = field(default_factory=dict)  # tool name -> output tokens
    stable_prefix_hash: str = ""
    prefix_hash: str = ""
    context_window: int = 0
    messages_count: int = 0
    dropped_messages: int = 0
    estimated_savings_usd: float = 0.0
    prompt_tokens: int | None = None  # as the provider reported them
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    headroom_ms: float = 0.0  # time Headroom itself added to the call
    upstream_ms: float | None = None  # time the provider took
    error_type: str | None = None
    content: dict[str, Any] | None = None  # only with store_content=True

    @property
    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, tz=UTC)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestRecord:
        """Rebuild a record, ignoring keys a newer or older schema added."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


SUMMARY_KEYS = (
    "total_requests",
    "total_tokens_before",
    "total_tokens_after",
    "total_tokens_saved",
    "total_cached_tokens",
    "total_prompt_tokens",
    "total_completion_tokens",
    "estimated_cost_saved_usd",
    "audit_count",
    "optimize_count",
    "error_count",
)


def summarize(records: list[RequestRecord]) -> dict[str, Any]:
    """Totals over ``records``; every store's ``summary`` agrees with this."""
    return {
        "total_requests": len(records),
        "total_tokens_before": sum(r.tokens_before for r in records),
        "total_tokens_after": sum(r.tokens_after for r in records),
        "total_tokens_saved": sum(r.tokens_saved for r in records),
        "total_cached_tokens": sum(r.cached_tokens or 0 for r in records),
        "total_prompt_tokens": sum(r.prompt_tokens or 0 for r in records),
        "total_completion_tokens": sum(r.completion_tokens or 0 for r in records),
        "estimated_cost_saved_usd": round(sum(r.estimated_savings_usd for r in records), 6),
        "audit_count": sum(1 for r in records if r.mode == "audit"),
        "optimize_count": sum(1 for r in records if r.mode == "optimize"),
        "error_count": sum(1 for r in records if r.error_type),
    }
