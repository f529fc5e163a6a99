"""Exact and near-duplicate passages, found by word shingles.

Retrievers return the same text more than once: a document ingested twice, overlapping chunks,
a parent chunk next to its child. Two passages are near-duplicates when most word shingles of
the smaller one also occur in the other (containment, not Jaccard, so a child chunk inside its
parent counts). The higher-ranked passage stays, unless the lower-ranked one carries clearly
more text that contains it: then the larger one stays, ranked as the better of the two.
Deterministic: passages are visited in rank order, ties broken by position.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
# A lower-ranked passage replaces the one it contains when it has this many times its shingles.
LARGER_FACTOR = 1.25


@dataclass(frozen=True)
class Duplicate:
    """Passage ``index`` repeats passage ``kept``."""

    index: int
    kept: int
    kind: str  # "exact" | "near"
    similarity: float


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def shingles(text: str, size: int) -> frozenset[tuple[str, ...]]:
    tokens = words(text)
    if len(tokens) <= size:
        return frozenset([tuple(tokens)]) if tokens else frozenset()
    return frozenset(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def containment(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    """The share of the smaller set's shingles that the other one has too."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(1 for s in small if s in large) / len(small)


def rank_order(scores: Sequence[float | None]) -> list[int]:
    """Indices best first: higher score, then earlier position; no score ranks last."""
    return sorted(
        range(len(scores)),
        key=lambda i: (scores[i] is None, -(scores[i] or 0.0), i),
    )


def find_duplicates(
    texts: Sequence[str],
    scores: Sequence[float | None],
    threshold: float = 0.85,
    shingle_size: int = 3,
    near: bool = True,
) -> tuple[dict[int, Duplicate], dict[int, float | None]]:
    """(removed passages by index, the rank score of each kept passage)."""
    sets = [shingles(t, shingle_size) for t in texts]
    exact: dict[str, int] = {}
    kept: list[int] = []
    removed: dict[int, Duplicate] = {}
    rank: dict[int, float | None] = {}
    for i in rank_order(scores):
        key = " ".join(words(texts[i])) or texts[i]
        if key in exact:
            removed[i] = Duplicate(i, exact[key], "exact", 1.0)
            continue
        match = _near_match(i, kept, sets, threshold) if near else None
        if match is None:
            exact[key] = i
            kept.append(i)
            rank[i] = scores[i]
            continue
        k, similarity = match
        if len(sets[i]) >= LARGER_FACTOR * len(sets[k]):  # i contains k and says more
            kept[kept.index(k)] = i
            rank[i] = rank.pop(k)
            exact = {text: (i if j == k else j) for text, j in exact.items()}
            exact[key] = i
            removed[k] = Duplicate(k, i, "near", similarity)
            for j, dup in list(removed.items()):
                if dup.kept == k:
                    removed[j] = Duplicate(j, i, dup.kind, dup.similarity)
        else:
            removed[i] = Duplicate(i, k, "near", similarity)
    return removed, rank


def _near_match(
    i: int, kept: Sequence[int], sets: Sequence[frozenset[tuple[str, ...]]], threshold: float
) -> tuple[int, float] | None:
    for k in kept:
        similarity = containment(sets[i], sets[k])
        if similarity >= threshold:
            return k, similarity
    return None
