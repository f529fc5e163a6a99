"""An in-process store for tests and notebooks (``memory://``)."""

from __future__ import annotations

import threading
from typing import Any

from .record import RequestRecord, summarize


class MemoryStore:
    """Keeps records in a list; gone when the process ends."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def write(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def query(
        self,
        *,
        limit: int | None = 100,
        since: float | None = None,
        until: float | None = None,
        model: str | None = None,
        mode: str | None = None,
    ) -> list[RequestRecord]:
        with self._lock:
            rows = list(self._records)
        rows = [
            r
            for r in rows
            if (since is None or r.timestamp >= since)
            and (until is None or r.timestamp < until)
            and (model is None or r.model == model)
            and (mode is None or r.mode == mode)
        ]
        rows.sort(key=lambda r: (r.timestamp, r.id), reverse=True)
        return rows if limit is None else rows[:limit]

    def summary(self, *, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        return summarize(self.query(limit=None, since=since, until=until))

    def close(self) -> None:
        pass
