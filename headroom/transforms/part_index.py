"""Items made of text parts (a JSON array item's keys and values), searched by distinct part.

The items of a big array repeat most of their parts: every item has the same keys, and a
``"state": "closed"`` or a label name comes back hundreds of times. Searching each distinct
part once and mapping the parts that hit back to the items holding them scans a third of the
text a per-item search does (measured on the shared workloads). A match is looked for inside
one part: like a search of the item's parts joined by newlines, never across two of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, compress, count
from operator import not_
from typing import TypeVar

_T = TypeVar("_T")


class PartIndex:
    """The distinct parts of ``items`` in first-seen order, and the way back to the items."""

    def __init__(self, items: Sequence[Sequence[str]]) -> None:
        self.items = items
        self.parts: list[str] = list(dict.fromkeys(chain.from_iterable(items)))

    def items_holding(self, part_indices: Iterable[int]) -> set[int]:
        """Indices of the items that hold any of the parts at ``part_indices``."""
        held = set(map(self.parts.__getitem__, part_indices))
        if not held:
            return set()
        return set(compress(count(), map(not_, map(held.isdisjoint, self.items))))

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
