"""The indexed columns the SQL stores keep beside each record's JSON, in insert order.

SQLite and PostgreSQL share this list so their tables stay the same shape."""

from __future__ import annotations

COLUMNS = (
    "id",
    "timestamp",
    "model",
    "mode",
    "stream",
    "source",
    "tokens_before",
    "tokens_after",
    "tokens_saved",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "estimated_savings_usd",
    "error_type",
    "stable_prefix_hash",
    "record",
)
