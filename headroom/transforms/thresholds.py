"""Items a question asks for by a threshold: "invoices with a total over 20", "repos with
more than 1,000 stars", "between 10 and 20", or a date: "runs after 2021-03-01", "created
since March 2021", "before 2013".

No term names them (20 is not in a total of 23.86), and a ranking keeps only the first few.
A comparison word with a number selects the items past it in the numeric columns the
question names (``rankings``' way of naming: "stars" names ``stargazers_count``), or, when
it names none, in each column where few items are past it (an id column, where most are,
is left alone).
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import compress, count, repeat
from typing import Any, TypeVar

from ..questions import MAX_QUESTION_WORDS
from ..written_forms import date_at
from .list_memo import ListMemo
from .rankings import column_named, date_columns, question_stems

_ABOVE = r"over|above|more\s+than|greater\s+than|larger\s+than|higher\s+than|bigger\s+than"
_ABOVE += r"|longer\s+than|exceeding|>"
_AT_LEAST = r"at\s+least|no\s+less\s+than|>="
_BELOW = r"under|below|less\s+than|fewer\s+than|smaller\s+than|lower\s+than|shorter\s+than|<"
_AT_MOST = r"at\s+most|no\s+more\s+than|<="


def _number_pattern(tag: str) -> str:
    """A number as a user writes it ("$1,000", "2.5", "10k", "3 million", "5 minutes",
    "10 MB", "a dollar", "two hours": a number word only before a unit), groups tagged."""
    return (
        rf"(?:[$€£]?\s*(?P<n{tag}>\d[\d,]*(?:\.\d+)?)"
        rf"\s*(?P<s{tag}>(?:k|m|bn|b|thousand|million|billion)(?![a-z]))?"
        rf"\s*(?P<u{tag}>{_UNIT_WORDS})?"
        rf"|(?P<w{tag}>{_NUMBER_WORDS})\s+(?P<v{tag}>{_UNIT_WORDS}))(?!\w|\.\d)"
    )


# Number words a user writes before a unit ("under a dollar", "longer than two hours").
_WORD_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0}
_WORD_NUMBERS |= {"five": 5.0, "six": 6.0, "seven": 7.0, "eight": 8.0, "nine": 9.0}
_WORD_NUMBERS |= {"ten": 10.0, "twelve": 12.0, "fifteen": 15.0, "twenty": 20.0}
_WORD_NUMBERS |= {"thirty": 30.0, "fifty": 50.0, "hundred": 100.0}
_NUMBER_WORDS = "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))


# Units, by kind, in the kind's base (seconds, bytes); a column holds some other one as
# often as not (``Milliseconds``, ``size`` in bytes), so each is read several ways.
_UNITS: dict[str, tuple[str, float]] = {
    "ms": ("time", 1e-3),
    "millisecond": ("time", 1e-3),
    "s": ("time", 1.0),
    "sec": ("time", 1.0),
    "second": ("time", 1.0),
    "min": ("time", 60.0),
    "minute": ("time", 60.0),
    "h": ("time", 3600.0),
    "hr": ("time", 3600.0),
    "hour": ("time", 3600.0),
    "day": ("time", 86400.0),
    "byte": ("size", 1.0),
    "kb": ("size", 1e3),
    "kilobyte": ("size", 1e3),
    "kib": ("size", 1024.0),
    "mb": ("size", 1e6),
    "megabyte": ("size", 1e6),
    "mib": ("size", 1024.0**2),
    "gb": ("size", 1e9),
    "gigabyte": ("size", 1e9),
    "gib": ("size", 1024.0**3),
    "dollar": ("money", 1.0),
    "buck": ("money", 1.0),
    "euro": ("money", 1.0),
    "pound": ("money", 1.0),
    "cent": ("money", 0.01),
}
_UNIT_WORDS = "|".join(
    sorted((f"{u}s?" if len(u) > 3 else u for u in _UNITS), key=len, reverse=True)
)
# How a column may hold a quantity of each kind: seconds, milliseconds, as written; bytes
# (decimal and binary units), as written.
_READINGS = {"time": (1.0, 1e3), "size": (1.0,), "money": (1.0,)}


_COMPARISON = re.compile(
    rf"(?<!\w)(?:between\s+{_number_pattern('1')}\s+and\s+{_number_pattern('2')}"
    rf"|(?P<op>{_AT_LEAST}|{_AT_MOST}|{_ABOVE}|{_BELOW})\s*{_number_pattern('0')})",
    re.IGNORECASE,
)
_NUMBER_WORD = re.compile(rf"\b(?:{_NUMBER_WORDS})\s+(?:{_UNIT_WORDS})\b", re.IGNORECASE)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9}
_SCALE["billion"] = 1e9
_OPS: dict[str, Callable[[Any, Any], bool]] = {  # numbers, or ISO dates as text
    "above": operator.gt,
    "at least": operator.ge,
    "below": operator.lt,
    "at most": operator.le,
    "within": operator.eq,  # an ISO date cut to the period's length: 2023-04-01 -> 2023
}

# ("above", (20.0,)) for "over 20"; a quantity with a unit has several readings:
# ("above", (300.0, 300000.0, 5.0)) for "longer than 5 minutes" (seconds, ms, as written).
Comparison = tuple[str, tuple[float, ...]]


@functools.lru_cache(maxsize=2048)
def comparisons(question: str) -> tuple[Comparison, ...]:
    """The thresholds ``question`` compares with: ("above", (20.0,)) for "over $20",
    ("at least", (1000.0,)) for "at least 1k", both ends for "between 10 and 20", each
    reading of a quantity with a unit ("5 minutes", "10 MB")."""
    if len(question.split()) > MAX_QUESTION_WORDS:
        return ()
    if not any(c.isdigit() for c in question) and not _NUMBER_WORD.search(question):
        return ()
    found: list[Comparison] = []
    for match in _COMPARISON.finditer(question):
        if match["op"] is None:  # between two numbers (the unit of either, for both)
            unit = match["u1"] or match["u2"]
            ends = sorted((_readings(match, "1", unit), _readings(match, "2", unit)))
            found += [("at least", ends[0]), ("at most", ends[1])]
        else:
            found.append((_kind(match["op"]), _readings(match, "0", match["u0"])))
    return tuple(found)


def _readings(match: re.Match[str], tag: str, unit: str | None) -> tuple[float, ...]:
    word = match["w" + tag]
    if word is not None:  # "a dollar", "two hours"
        value = _WORD_NUMBERS[word.lower()]
        unit = match["v" + tag]
    else:
        value = float(match["n" + tag].replace(",", ""))
        value *= _SCALE.get((match["s" + tag] or "").lower(), 1.0)
    if unit is None:
        return (value,)
    name = unit.lower()
    kind, base = _UNITS.get(name) or _UNITS[name[:-1]]  # "minutes": "minute"
    in_base = value * base
    return tuple(dict.fromkeys((*(in_base * r for r in _READINGS[kind]), value)))


# id, track_id, track-id, TrackId, userID; not paid, valid
_ID = re.compile(r"(?:^|[_\W])(?i:id)$|(?<=[a-z])(?:Id|ID)$")


def _names_quantity(stems: frozenset[str], key: str) -> bool:
    """Whether the question names column ``key`` as a quantity to compare: an identifier
    named by its item ("tracks shorter than 2 minutes" names TrackId) is no quantity, unless
    the question says "id"."""
    if not column_named(stems, key):
        return False
    return not _ID.search(key) or "id" in stems


def _kind(op: str) -> str:
    words = " ".join(op.lower().split())
    if re.fullmatch(_AT_LEAST, words):
        return "at least"
    if re.fullmatch(_AT_MOST, words):
        return "at most"
    return "above" if re.fullmatch(_ABOVE, words) else "below"


def threshold_indices(
    numeric: Mapping[str, Sequence[float | None]], question: str, most: int
) -> set[int]:
    """Indices of the items past every threshold of ``question`` in a numeric column it
    names, or, naming none, in each column where at most ``most`` items are (and some)."""
    asked = comparisons(question)
    if not asked or not numeric:
        return set()
    stems = question_stems(question)
    named = [column for key, column in numeric.items() if _names_quantity(stems, key)]
    readings = max(len(values) for _, values in asked)

    def holders_in(column: Sequence[float | None]) -> Iterator[set[int]]:
        filled = _nan_filled(column)  # compared at C level: NaN is past no limit
        for k in range(readings):  # "5 minutes" as seconds, then as ms, then as written
            found: set[int] | None = None
            for op, values in asked:
                limit = values[min(k, len(values) - 1)]
                past = set(compress(count(), map(_OPS[op], filled, repeat(limit))))
                found = past if found is None else found & past
            yield found or set()

    return _few_past(named, list(numeric.values()), holders_in, most)


# Numeric columns with NaN for "no value", by column: the columns are memoized by list, and
# a new question's thresholds compare them again.
_filled: ListMemo[list[float]] = ListMemo(max_entries=256)


def _nan_filled(column: Sequence[float | None]) -> list[float]:
    return _filled.get_or_compute(
        column, lambda: [math.nan if value is None else value for value in column]
    )


_C = TypeVar("_C")


def _few_past(
    named: list[_C], every: list[_C], holders_in: Callable[[_C], Iterable[set[int]]], most: int
) -> set[int]:
    """The items past the threshold in the ``named`` columns, each reading that at most
    ``most`` items pass; when the named ones give none ("tracks longer than 10 minutes"
    names TrackId), in ``every`` column."""
    for columns in (named, every) if named else (every,):
        found: set[int] = set()
        for column in columns:
            for holders in holders_in(column):
                if holders and len(holders) <= most:
                    found |= holders
        if found:
            return found
    return set()


_DATE_OP = re.compile(
    r"\b(after|since|later\s+than|before|until|till|earlier\s+than|prior\s+to|in|during|from"
    r"|between)"
    r"\s+(?:the\s+)?",
    re.IGNORECASE,
)
# "from 2021 to 2023", "between March 2021 and June 2021": a range, whose start is not a
# period of its own (the date after it is looked for within this many characters)
_RANGE_GOES_ON = re.compile(r"\s(?:to|until|till|through|and|-|–)\s+(?:the\s+)?", re.IGNORECASE)
_RANGE_REACH = 40
_DATE_KINDS = {
    "after": "above",
    "later than": "above",
    "since": "at least",
    "before": "below",
    "earlier than": "below",
    "prior to": "below",
    "until": "at most",
    "till": "at most",
    "in": "within",  # "invoices from 2023", "events in March 2021": that period
    "during": "within",
    "from": "within",
    "between": "within",  # alone, as "in"; with "and <date>", a range
}

DateComparison = tuple[str, str]  # ("above", "2021-03-01")


@functools.lru_cache(maxsize=2048)
def date_comparisons(question: str) -> tuple[DateComparison, ...]:
    """The dates ``question`` compares with, as ISO prefixes: ("above", "2021-03-01") for
    "after March 1, 2021", ("at least", "2021-03") for "since March 2021"."""
    if len(question.split()) > MAX_QUESTION_WORDS or not any(c.isdigit() for c in question):
        return ()
    found: list[DateComparison] = []
    for match in _DATE_OP.finditer(question):
        day = date_at(question, match.end())
        if day is None:
            continue
        kind = _DATE_KINDS[" ".join(match.group(1).lower().split())]
        end = _range_end(question, match.end()) if kind == "within" else None
        for comparison in [("at least", day), ("at most", end)] if end else [(kind, day)]:
            if comparison not in found:
                found.append(comparison)
    return tuple(found)


def _range_end(question: str, at: int) -> str | None:
    """The date of "to <another date>" after the date written at ``at``, if any: "from 2021
    to 2023" is a range (each period whole: 2023 up to its last day), not the period 2021."""
    for found in _RANGE_GOES_ON.finditer(question, at, at + _RANGE_REACH):
        end = date_at(question, found.end())
        if end is not None:
            return end
    return None


def date_threshold_indices(items: Sequence[object], question: str, most: int) -> set[int]:
    """Indices of the items whose date (in a date column the question names, or, naming
    none, in each date column where at most ``most`` items are) is past every date the
    question compares with ("after 2021-03-01": compared day by day, as ISO text sorts)."""
    asked = date_comparisons(question)
    if not asked:
        return set()
    columns = date_columns(items)
    stems = question_stems(question)
    named = [column for key, column in columns.items() if column_named(stems, key)]

    def holders_in(column: Sequence[str | None]) -> Iterator[set[int]]:
        yield {
            i
            for i, value in enumerate(column)
            if value is not None
            and value[:4].isdigit()
            and all(_OPS[op](value[: len(limit)], limit) for op, limit in asked)
        }

    return _few_past(named, list(columns.values()), holders_in, most)
