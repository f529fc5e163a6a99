"""Items a question ranks: "the 5 largest invoices", "top 3 repositories by forks", "the
shortest tracks".

Each numeric column's largest and smallest value are kept anyway (``extreme_indices``); a
question that asks for the first few of a ranking wants the next ones too, and nothing else
in it names them. A ranking word ("largest", "top", "fewest") says which end; a number up to
``MAX_RANK`` says how many (else one: "the longest track"; "one" itself is no number, "is
there one from" asks nothing of the kind); a column named by one of the question's
words ("forks" names ``forks_count``) narrows it to that column, otherwise every numeric
column is ranked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_RANK = 25
_HIGH = frozenset(
    [
        "top",
        "largest",
        "biggest",
        "highest",
        "most",
        "longest",
        "greatest",
        "maximum",
        "max",
        "heaviest",
        "priciest",
        "costliest",
        "slowest",
        "busiest",
    ]
)
_LOW = frozenset(
    [
        "bottom",
        "smallest",
        "lowest",
        "least",
        "shortest",
        "fewest",
        "minimum",
        "min",
        "lightest",
        "cheapest",
        "fastest",
    ]
)
_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        [
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ],
        start=2,
    )
}
_WORD = re.compile(r"[^\W_]+")
_KEY_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")  # forks_count, openIssues, URLs


@dataclass(frozen=True)
class Ranking:
    """What a question asks to rank: the ends (``high``, ``low``), how many, and its words
    (to find the column it names)."""

    high: bool
    low: bool
    count: int
    words: frozenset[str]


@functools.lru_cache(maxsize=2048)
def ranking(question: str) -> Ranking | None:
    """The ranking ``question`` asks for, or None when it has no ranking word."""
    words = _WORD.findall(question.lower())
    high = any(w in _HIGH for w in words)
    low = any(w in _LOW for w in words)
    if not (high or low):
        return None
    numbers = [_NUMBER_WORDS.get(w, int(w) if w.isdigit() and len(w) <= 3 else 0) for w in words]
    asked = [n for n in numbers if 2 <= n <= MAX_RANK]
    count = max(asked) if asked else 1
    return Ranking(high, low, count, frozenset(words))


def ranked_indices(
    columns: Mapping[str, Sequence[float | None]], asked: Ranking, named_only: bool = False
) -> set[int]:
    """The first ``asked.count`` items at each asked end of the columns the question names,
    or, for a count of two or more and unless ``named_only``, of every column when it names
    none (one item of every column is what ``extreme_indices`` finds); ties by position."""
    stems = frozenset(map(_stem, asked.words))
    named = {key: column for key, column in columns.items() if _names(stems, key)}
    if not named and (asked.count < 2 or named_only):
        return set()
    keep: set[int] = set()
    for column in (named or columns).values():
        present = [(v, i) for i, v in enumerate(column) if v is not None]
        if len(present) <= asked.count:
            continue
        if asked.high:
            ordered = sorted(present, key=lambda p: (-p[0], p[1]))
            keep.update(i for _, i in ordered[: asked.count])
        if asked.low:
            ordered = sorted(present, key=lambda p: (p[0], p[1]))
            keep.update(i for _, i in ordered[: asked.count])
    return keep


def _names(stems: frozenset[str], key: str) -> bool:
    """Whether the question's word ``stems`` name column ``key``: the whole key (``id``,
    ``CustomerId``), or one of its words of three letters or more, in any form ("most
    commented" names ``comments``, "forks" ``forks_count``; ``count`` and ``number`` name
    no ``*_count`` or ``*_number``)."""
    if _stem(key.lower()) in stems:
        return True
    for part in _KEY_WORD.findall(key):
        part = part.lower()
        if len(part) >= 3 and part not in _GENERIC and _stem(part) in stems:
            return True
    return False


def _stem(word: str) -> str:
    """``word`` without a plural or verb ending (comments, commented -> comment)."""
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


_GENERIC = frozenset(("count", "number", "num", "value"))
