"""Items made of text parts (a JSON array item's keys and values), searched by distinct part.

The items of a big array repeat most of their parts: every item has the same keys, and a
``"state": "closed"`` or a label name comes back hundreds of times. Searching each distinct
part once and mapping the parts that hit back to the items holding them scans a third of the
text a per-item search does (measured on the shared workloads). A match is looked for inside
one part: like a search of the item's parts joined by newlines, never across two of them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, compress, count
from operator import not_
from typing import TypeVar

from .text_scan import CASEFOLD_SPECIALS, TextScan

_T = TypeVar("_T")


class PartIndex:
    """The distinct parts of ``items`` in first-seen order, and the way back to the items."""

    def __init__(self, items: Sequence[Sequence[str]]) -> None:
        self.items = items
        # how often each part occurs over all items: at least how many items hold it
        self.occurrences: Counter[str] = Counter(chain.from_iterable(items))
        self.parts: list[str] = list(self.occurrences)
        self._scans: list[tuple[TextScan, int]] | None = None
        self._lock = threading.Lock()

    def holders_at_most(self, part_indices: Sequence[int]) -> int:
        """An upper bound on ``len(items_holding(part_indices))``, without looking at items."""
        return sum(map(self.occurrences.__getitem__, map(self.parts.__getitem__, part_indices)))

    def items_holding(
        self, part_indices: Iterable[int], items: Sequence[Sequence[str]] | None = None
    ) -> set[int]:
        """Indices of the items that hold any of the parts at ``part_indices``; of ``items``
        when given (lists of some of each item's parts, as the signal texts are)."""
        return self.items_holding_texts(set(map(self.parts.__getitem__, part_indices)), items)

    def items_holding_texts(
        self, held: set[str], items: Sequence[Sequence[str]] | None = None
    ) -> set[int]:
        """``items_holding`` for the parts themselves."""
        if not held:
            return set()
        lists = self.items if items is None else items
        return set(compress(count(), map(not_, map(held.isdisjoint, lists))))

    def gather(self, by_part: Mapping[int, list[_T]]) -> dict[int, list[_T]]:
        """For each item holding a part with a non-empty list in ``by_part`` (keyed by part
        index), those parts' lists joined, parts in the item's order, each part once."""
        found = {self.parts[i]: values for i, values in by_part.items() if values}
        if not found:
            return {}
        keys = found.keys()
        gathered: dict[int, list[_T]] = {}
        for j, parts in enumerate(self.items):
            if keys.isdisjoint(parts):
                continue
            gathered[j] = [v for part in dict.fromkeys(parts) if part in found for v in found[part]]
        return gathered

    def scans(self) -> list[tuple[TextScan, int]]:
        """Scans over the parts, each with the index of its first part: one scan, or,
        when some parts cannot be searched joined (``TextScan.exact``, ``CASEFOLD_SPECIALS``),
        the others in one scan and those after them in a second, searched part by part. The
        parts are reordered to match; a few Turkish names no longer slow down the whole list.
        Built once: the signal and the question searches share them."""
        with self._lock:  # a memoised index may be shared by two requests at once
            if self._scans is None:
                self._scans = self._build_scans()
            return self._scans

    def _build_scans(self) -> list[tuple[TextScan, int]]:
        scan = TextScan(self.parts)
        if scan.exact and not scan.casefold_specials:
            return [(scan, 0)]
        odd_at = scan.holding_any(CASEFOLD_SPECIALS)
        plain = [part for i, part in enumerate(self.parts) if i not in odd_at]
        plain_scan = TextScan(plain)
        if not plain_scan.exact:  # a character other than the specials changes length
            odd_at = {i for i, part in enumerate(self.parts) if _odd(part)}
            plain = [part for i, part in enumerate(self.parts) if i not in odd_at]
            plain_scan = TextScan(plain)
        odd = [self.parts[i] for i in sorted(odd_at)]
        self.parts = plain + odd
        return [(plain_scan, 0), (TextScan(odd), len(plain))]


def _odd(text: str) -> bool:
    """Whether a joined scan cannot search ``text`` exactly."""
    return len(text.lower()) != len(text) or any(c in text for c in CASEFOLD_SPECIALS)
