"""Values read off a parsed JSON list, kept by the list's identity.

Recall asks a later question of the same parsed lists (the parse memo hands back the same
objects), so what was read off a list once (its item parts, its numeric or date columns)
need not be read again. Each entry holds its list, so the identity cannot be reused by
another list while the entry lives; the oldest entries go first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

_V = TypeVar("_V")


class ListMemo(Generic[_V]):
    """``get_or_compute(items, compute)``: ``compute()`` once per list (safe across threads;
    two threads may both compute, the value is the same)."""

    def __init__(self, max_entries: int = 32) -> None:
        self._entries: dict[int, tuple[Sequence[Any], _V]] = {}
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get_or_compute(self, items: Sequence[Any], compute: Callable[[], _V]) -> _V:
        with self._lock:
            hit = self._entries.get(id(items))
        if hit is not None and hit[0] is items:
            return hit[1]
        value = compute()
        with self._lock:
            self._entries[id(items)] = (items, value)
            while len(self._entries) > self._max_entries:
                self._entries.pop(next(iter(self._entries)))
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
