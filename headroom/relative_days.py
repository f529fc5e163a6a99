"""Days a question names relative to today ("yesterday", "3 days ago", "last Monday"), as the
ISO dates data holds, when the system prompt says which day today is.

An agent's system prompt often carries the date ("Today's date is Wednesday, September 3,
2025"); a user asks "what failed yesterday?" about runs stamped ``2025-09-02T23:10:00Z``. The
day comes from the conversation itself, never from the clock, so the same request is always
read the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from .conversation import SYSTEM_ROLES, role_of, text_of
from .written_forms import written_date

# A word that says the date after it is the current one ("Today's date is", "Current Date:",
# "It is now"), and how far after it the date may start.
_CUE = re.compile(r"\b(?:today|current|now|date)\b", re.IGNORECASE)
_CUE_REACH = 48
_ISO_DAY = re.compile(r"(?<!\d)((?:19|20)\d\d)-([01]\d)-([0-3]\d)(?!\d)")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_RELATIVE = re.compile(
    r"\b(?:(?P<before>(?:the\s+)?day\s+before\s+yesterday)"
    r"|(?P<yesterday>yesterday)|(?P<night>last\s+night|overnight)"
    r"|(?P<today>today|tonight|this\s+(?:morning|afternoon|evening))"
    r"|(?P<count>[1-9]|[12]\d|30|one|two|three|four|five|six|seven)\s+days?\s+ago"
    r"|(?P<which>last|on|since)\s+(?P<weekday>" + "|".join(_WEEKDAYS) + r"))\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=256)
def reference_day(text: str) -> date | None:
    """The day ``text`` (a system prompt) says it is: the first full date written shortly
    after "today", "current", "now" or "date"; None when it says none."""
    for cue in _CUE.finditer(text):
        end = min(cue.end() + _CUE_REACH, len(text))
        iso, written = _iso_day(text, cue.end(), end), written_date(text, cue.end(), end)
        found = [day for day in (iso, written) if day is not None]
        if found:
            return min(found)[1]
    return None


def _iso_day(text: str, start: int, end: int) -> tuple[int, date] | None:
    match = _ISO_DAY.search(text, start, end)
    if match is None:
        return None
    try:
        return match.start(), date(*map(int, match.groups()))
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def relative_day_terms(question: str, today: date) -> tuple[str, ...]:
    """The ISO dates (``2025-09-02``) of the days ``question`` names relative to ``today``:
    yesterday, the day before, today, last night (yesterday and today), N days ago, last
    Monday (the one before today), on Monday (the latest, today included), since Monday
    (each day from then to today)."""
    days: dict[date, None] = {}
    for match in _RELATIVE.finditer(question):
        if match["before"]:
            days[today - timedelta(days=2)] = None
        elif match["yesterday"]:
            days[today - timedelta(days=1)] = None
        elif match["night"]:
            days.update(dict.fromkeys((today - timedelta(days=1), today)))
        elif match["today"]:
            days[today] = None
        elif match["count"]:
            word = match["count"].lower()
            days[today - timedelta(days=_COUNTS.get(word) or int(word))] = None
        else:
            back = (today.weekday() - _WEEKDAYS.index(match["weekday"].lower())) % 7
            which = match["which"].lower()
            if which == "last" and back == 0:
                back = 7
            span = range(back, -1, -1) if which == "since" else (back,)
            days.update(dict.fromkeys(today - timedelta(days=b) for b in span))
    return tuple(day.isoformat() for day in days)


@functools.lru_cache(maxsize=2048)
def names_a_relative_day(question: str) -> bool:
    return _RELATIVE.search(question) is not None


def relative_terms_at(messages: Sequence[Any], index: int, question: str) -> tuple[str, ...]:
    """``relative_day_terms`` of ``question`` (asked before ``index``), today being the day
    the system messages before it say it is; nothing when they say none."""
    if not names_a_relative_day(question):
        return ()
    system = "\n".join(
        text_of(m.get("content")) for m in messages[:index] if role_of(m) in SYSTEM_ROLES
    )
    today = reference_day(system) if system else None
    return relative_day_terms(question, today) if today else ()
