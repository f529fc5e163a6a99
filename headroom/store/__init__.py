"""Metrics stores, chosen by URL: ``sqlite:///relative.db``, ``sqlite:////absolute.db``,
``jsonl:///absolute/path.jsonl``, ``jsonl://relative.jsonl``, ``memory://`` and
``postgresql://user:pass@host:5432/db``."""

from __future__ import annotations

from .base import MetricsStore
from .memory import MemoryStore
from .record import SUMMARY_KEYS, RequestRecord, summarize
from .urls import redact_url

SCHEMES = ("sqlite:///", "jsonl:///", "memory://", "postgresql://")


def open_store(url: str) -> MetricsStore:
    """Open the store ``url`` names; raise ValueError naming the accepted schemes otherwise."""
    if not isinstance(url, str) or not url:
        raise ValueError(f"store_url must be a string starting with one of {SCHEMES}, got {url!r}")
    if url.startswith("memory://"):
        return MemoryStore(url)
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith("jsonl://"):
        from .jsonl import JSONLStore

        return JSONLStore(url)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return _open_postgres(url)
    raise ValueError(
        f"unsupported store_url {redact_url(url)!r}; accepted schemes: {', '.join(SCHEMES)}"
    )


def _open_postgres(url: str) -> MetricsStore:
    """psycopg is imported inside; without it a ValueError names the headroom[postgres] extra."""
    try:
        from .postgres import PostgresStore
    except ImportError:
        raise ValueError(
            "PostgreSQL support is not installed: pip install 'headroom[postgres]' "
            "(or use sqlite:///, jsonl:/// or memory://)"
        ) from None
    return PostgresStore(url)


__all__ = [
    "SCHEMES",
    "SUMMARY_KEYS",
    "MemoryStore",
    "MetricsStore",
    "RequestRecord",
    "open_store",
    "summarize",
]
