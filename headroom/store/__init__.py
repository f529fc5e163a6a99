"""Metrics stores, chosen by URL: ``sqlite:///path``, ``jsonl:///path``, ``memory://``,
``postgresql://...``."""

from __future__ import annotations

from .base import MetricsStore
from .memory import MemoryStore
from .record import SUMMARY_KEYS, RequestRecord, summarize

SCHEMES = ("sqlite:///", "jsonl:///", "memory://", "postgresql://")


def open_store(url: str) -> MetricsStore:
    """Open the store ``url`` names; raise ValueError naming the accepted schemes otherwise."""
    if not isinstance(url, str) or not url:
        raise ValueError(f"store_url must be a string starting with one of {SCHEMES}, got {url!r}")
    if url.startswith("memory://"):
        return MemoryStore(url)
    raise ValueError(f"unsupported store_url {url!r}; accepted schemes: {', '.join(SCHEMES)}")


__all__ = ["SCHEMES", "SUMMARY_KEYS", "MemoryStore", "MetricsStore", "RequestRecord",
           "open_store", "summarize"]
