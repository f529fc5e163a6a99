"""Fitting passages into a token budget: the best-ranked whole passages that fit, in their
original order, and at most one passage shortened at a sentence boundary, with a marker, into
the space that is left."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .dedupe import rank_order

# Where a passage may be cut: after sentence-ending punctuation or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*(?=\s)|\n")
TRUNCATION_MARKER = "[headroom: passage truncated, {kept} of {total} tokens kept]"


@dataclass(frozen=True)
class Selection:
    kept: list[int]  # whole passages, in original order
    dropped: list[int]  # in rank order
    leftover: int  # tokens of the budget still free


def select(tokens: Sequence[int], scores: Sequence[float | None], budget: int) -> Selection:
    """Greedy by rank: take each passage that still fits, skip the ones that do not."""
    free = budget
    kept: list[int] = []
    dropped: list[int] = []
    for i in rank_order(scores):
        if tokens[i] <= free:
            kept.append(i)
            free -= tokens[i]
        else:
            dropped.append(i)
    return Selection(sorted(kept), dropped, free)


def cut_points(text: str) -> list[int]:
    """Offsets just after each sentence (or line) end, in increasing order."""
    points = sorted({m.end() for m in _SENTENCE_END.finditer(text)})
    return [p for p in points if text[:p].strip()]


def truncate(
    text: str, limit: int, count: Callable[[str], int], total: int | None = None
) -> str | None:
    """The longest prefix of whole sentences of ``text`` that, with the truncation marker,
    ``count`` puts at or under ``limit`` tokens; None if not even one sentence fits."""
    total = count(text) if total is None else total
    points = cut_points(text)
    best: str | None = None
    low, high = 0, len(points) - 1
    while low <= high:  # token counts grow with the prefix, so search the cut points
        mid = (low + high) // 2
        candidate = _with_marker(text[: points[mid]], count, total)
        if count(candidate) <= limit:
            best = candidate
            low = mid + 1
        else:
            high = mid - 1
    return best


def _with_marker(prefix: str, count: Callable[[str], int], total: int) -> str:
    body = prefix.rstrip()
    marker = TRUNCATION_MARKER.format(kept=count(body), total=total)
    return f"{body}\n{marker}"
