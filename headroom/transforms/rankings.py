"""Items a question ranks: "the 5 largest invoices", "top 3 repositories by forks", "the
3 most recent runs".

Each numeric column's largest and smallest value are kept anyway (``extreme_indices``); a
question that asks for the first few of a ranking wants the next ones too, and nothing else
in it names them. A ranking word says which end of a numeric column ("largest", "top",
"fewest") or of a date column ("latest", "oldest"); a number up to ``MAX_RANK`` says how many
(else one: "the longest track"; "one" itself is no number, "is there one from" asks nothing
of the kind); a column named by one of the question's words ("forks" names
``forks_count``) narrows it to that column, otherwise every column of the kind is ranked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from ..questions import MAX_QUESTION_WORDS, asked_count
from .list_memo import ListMemo

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
_DEGREE = frozenset(["most", "least"])
_NEWEST = frozenset(["latest", "newest", "recent", "youngest"])
_OLDEST = frozenset(["oldest", "earliest"])
# Dates that sort as text: 2024-11-15, 2024-11-15T08:57:48Z, 2015-07-29 19:22:56,892, and a
# log's 03-17 16:15:01.939
_DATE = re.compile(r"\d{4}-\d\d-\d\d|\d\d-\d\d \d\d:\d\d")
_WORD = re.compile(r"[^\W_]+")
_KEY_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")  # forks_count, openIssues, URLs


@dataclass(frozen=True)
class Ranking:
    """What a question asks to rank: the ends of numeric columns (``high``, ``low``) and of
    date columns (``newest``, ``oldest``), how many, and its words (to find the column it
    names)."""

    high: bool
    low: bool
    newest: bool
    oldest: bool
    count: int
    words: frozenset[str]


@functools.lru_cache(maxsize=2048)
def ranking(question: str) -> Ranking | None:
    """The ranking ``question`` asks for, or None when it has no ranking word."""
    words = _WORD.findall(question.lower())
    if len(words) > MAX_QUESTION_WORDS:
        return None
    present = frozenset(words)
    newest, oldest = not present.isdisjoint(_NEWEST), not present.isdisjoint(_OLDEST)
    # "the most recent": "most" ranks no number then
    numeric = present - _DEGREE if newest or oldest else present
    high, low = not numeric.isdisjoint(_HIGH), not numeric.isdisjoint(_LOW)
    if not (high or low or newest or oldest):
        return None
    return Ranking(high, low, newest, oldest, asked_count(question, MAX_RANK), present)


# "the last time it failed", "the latest ERROR", "the most recent deploy"; not "last night",
# "last Monday" or "in the last 3 days", which name days (``relative_days``).
_LAST_OCCURRENCE = re.compile(
    r"\b(?:latest|final|most\s+recent|lately|recently|last(?!\s+(?:(?:\d+|few|couple)\s+(?:of\s+)?)?"
    r"(?:night|nights|evening|morning|week|weekend|weeks|month|months|year|years|day|days"
    r"|hour|hours|minute|minutes|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b))\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=2048)
def asks_for_the_last(question: str) -> bool:
    """Whether ``question`` asks for the last occurrence of what it names ("when was the last
    'connection refused'?"): of many items that match alike, the last ones are kept."""
    return len(question) <= 2_000 and _LAST_OCCURRENCE.search(question) is not None


_FIRST_OCCURRENCE = re.compile(r"\b(?:first|earliest)\b", re.IGNORECASE)


def asked_end(question: str) -> str | None:
    """ "last" or "first" when ``question`` asks for the last or the first occurrence of what
    it names (``asks_for_the_last``; "when did it first fail?"), else None."""
    if asks_for_the_last(question):
        return "last"
    return "first" if _FIRST_OCCURRENCE.search(question[:2_000]) else None


def ranked_indices(
    items: Sequence[Any],
    numeric: Mapping[str, Sequence[float | None]],
    asked: Ranking,
    named_only: bool = False,
) -> set[int]:
    """The first ``asked.count`` items at each asked end of the ``numeric`` columns and the
    date columns of ``items`` that the question names, or, unless ``named_only``, of every
    column of the kind when it names none: every date column, and every numeric column for
    a count of two or more (one item of each is what ``extreme_indices`` finds). Ties go
    by position."""
    stems = frozenset(map(_stem, asked.words))
    keep: set[int] = set()
    if asked.high or asked.low:
        named = {key: column for key, column in numeric.items() if column_named(stems, key)}
        if named or not (asked.count < 2 or named_only):
            for column in (named or numeric).values():
                keep |= _ends(column, asked.count, asked.high, asked.low)
    if asked.newest or asked.oldest:
        dates = date_columns(items)
        named_dates = {key: column for key, column in dates.items() if column_named(stems, key)}
        if named_dates or not named_only:
            for dated in (named_dates or dates).values():
                keep |= _ends(dated, asked.count, asked.newest, asked.oldest)
    return keep


def _ends(column: Sequence[Any], count: int, last: bool, first: bool) -> set[int]:
    """The positions of the ``count`` largest (``last``) and smallest (``first``) values of
    ``column`` (None for no value), ties by position; none when it has no more values."""
    present = [(v, i) for i, v in enumerate(column) if v is not None]
    if len(present) <= count:
        return set()
    keep: set[int] = set()
    if last:  # a stable sort: equal values stay in position order
        keep.update(i for _, i in sorted(present, key=itemgetter(0), reverse=True)[:count])
    if first:
        keep.update(i for _, i in sorted(present, key=itemgetter(0))[:count])
    return keep


# Date columns by list: recall asks them of the same parsed lists for every new question
# that names a date ("from 2023"), compression once per list.
date_columns_memo: ListMemo[dict[str, list[str | None]]] = ListMemo()


def date_columns(items: Sequence[Any]) -> dict[str, list[str | None]]:
    """Top-level fields of object items whose values are mostly dates that sort as text,
    each as its column (None where an item holds something else). Shared: not to be
    changed."""
    return date_columns_memo.get_or_compute(items, lambda: _date_columns(items))


def _date_columns(items: Sequence[Any]) -> dict[str, list[str | None]]:
    if not items or not all(isinstance(item, dict) for item in items):
        return {}
    columns: dict[str, list[str | None]] = {}
    for key in dict.fromkeys(chain.from_iterable(items)):
        values = list(map(dict.get, items, repeat(key)))
        column = [v if isinstance(v, str) and _DATE.match(v) else None for v in values]
        if sum(v is not None for v in column) * 2 >= len(items):
            columns[str(key)] = column
    return columns


@functools.lru_cache(maxsize=2048)
def question_stems(question: str) -> frozenset[str]:
    """The stems of ``question``'s words, to find the columns it names (``column_named``)."""
    return frozenset(map(_stem, _WORD.findall(question.lower())))


def column_named(stems: frozenset[str], key: str) -> bool:
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
