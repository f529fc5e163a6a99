"""The one narrow seam between Headroom and where its metrics live."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from .record import RequestRecord


@runtime_checkable
class MetricsStore(Protocol):
    """A place to write and read request records. Implementations must be thread-safe."""

    url: str

    def write(self, record: RequestRecord) -> None:
        """Persist one record; raise on failure (the caller counts and logs it)."""

    def query(
        self,
        *,
        limit: int | None = 100,
        since: float | None = None,
        until: float | None = None,
        model: str | None = None,
        mode: str | None = None,
    ) -> list[RequestRecord]:
        """Records newest first, filtered by time (epoch seconds), model and mode."""
        ...

    def summary(self, *, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        """Totals as ``record.summarize`` computes them."""
        ...

    def close(self) -> None:
        """Release files and connections."""
