"""Query semantics every file-backed store shares with MemoryStore: newest first, ``since``
inclusive and ``until`` exclusive in epoch seconds (a datetime is accepted too)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from .record import RequestRecord


def as_epoch(value: float | datetime | None, name: str = "since") -> float | None:
    """Epoch seconds from a number or a datetime (a naive datetime is taken as UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"{name} must be epoch seconds (int or float) or a datetime, got {type(value).__name__}"
        )
    return float(value)


def check_limit(limit: int | None) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    return limit


def select(
    records: Iterable[RequestRecord],
    *,
    limit: int | None,
    since: float | None,
    until: float | None,
    model: str | None,
    mode: str | None,
) -> list[RequestRecord]:
    """Filter and order records as MemoryStore.query does."""
    rows = [
        r
        for r in records
        if (since is None or r.timestamp >= since)
        and (until is None or r.timestamp < until)
        and (model is None or r.model == model)
        and (mode is None or r.mode == mode)
    ]
    rows.sort(key=lambda r: (r.timestamp, r.id), reverse=True)
    return rows if limit is None else rows[:limit]
