"""Values a question writes the way people do ("March 9, 2021", "the 9th of March", "6:19 pm",
"12,345 stars"), in the forms that API data holds them in ("2021-03-09", "18:19", "12345").

A user asks "what happened on March 9?" about a list whose items say ``2021-03-09T18:19:05Z``;
the question's words ("march", "9th") match none of them, so the items asked for would be
cut like any other. The forms found here join the question's terms.
"""

from __future__ import annotations

import functools
import re
from datetime import date

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_DAYS_IN = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month(group: str) -> str:
    """A month's name or abbreviation (with or without a dot); "may" only as "May": in
    lowercase it is most often the verb."""
    names = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?"
    names += r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    return rf"(?P<{group}>(?i:{names})\.?|May|MAY)"


def _day(group: str) -> str:
    return rf"(?P<{group}>[0-3]?\d)(?:st|nd|rd|th)?"


def _year(group: str) -> str:
    return rf"(?:,?{_GAP}(?P<{group}>(?:19|20)\d\d))?"


_GAP = r"[^\S\n]+"  # spaces on one line: a date never spans a line break
_FORMS = (
    _month("m1") + _GAP + _day("d1") + r"(?![\w:])" + _year("y1"),  # March 9, 2021
    _day("d2") + _GAP + rf"(?:of{_GAP})?" + _month("m2") + r"(?!\w)" + _year("y2"),  # 9th of March
    _month("m3") + rf",?{_GAP}(?P<y3>(?:19|20)\d\d)",  # March 2021
    r"(?P<y4>(?:19|20)\d\d)/(?P<m4>[01]?\d)/(?P<d4>[0-3]?\d)",  # 2021/03/09
)
_WRITTEN_DATE = re.compile(r"(?<![\w.-])(?:" + "|".join(_FORMS) + r")(?![\w/])")
# 12,345 or 5,242,880.50 (not 1,2 or a list "3,4,5")
_GROUPED_NUMBER = re.compile(r"(?<![\w.,])[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?(?![\w,]|\.\d)")
_TWELVE_HOUR = re.compile(
    r"(?<![\w:.])(?P<h>[01]?\d):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d))?[^\S\n]*(?P<half>[ap])\.?m\b\.?",
    re.IGNORECASE,
)
# 4:25 or 4:25:53 with no am/pm: data pads the hour (04:25:53), and a digit before a number
# makes it another number, so the padded form is a term of its own.
_SHORT_HOUR = re.compile(r"(?<![\w:.])(?P<h>\d):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\w:]|\.\d)")


@functools.lru_cache(maxsize=2048)
def data_form_terms(text: str) -> tuple[str, ...]:
    """The data forms of the dates, times and grouped numbers ``text`` writes in words, in
    order: ``2021-03-09`` for a full date, ``-03-09`` for a day without a year (any year's),
    ``2021-03`` for a month and year, ``18:19`` for "6:19 pm" (``18:19:05`` with seconds),
    ``04:25`` for "4:25", ``12345`` for "12,345". Impossible dates (February 30th) give
    nothing."""
    if not any(c.isdigit() for c in text):
        return ()
    # (where each form starts, its term): in the order the text writes them, so the terms of
    # a text are those of its lines one after another (``questions._terms_of_parts``)
    found: list[tuple[int, str]] = []
    for match in _WRITTEN_DATE.finditer(text):
        term = _iso_date(match)
        if term is not None:
            found.append((match.start(), term))
    for match in _TWELVE_HOUR.finditer(text):
        hour = int(match["h"])
        if 1 <= hour <= 12:
            hour = hour % 12 + (12 if match["half"].lower() == "p" else 0)
            found.append((match.start(), _clock(hour, match)))
    for match in _SHORT_HOUR.finditer(text):
        if not _TWELVE_HOUR.match(text, match.start()):
            found.append((match.start(), _clock(int(match["h"]), match)))
    for match in _GROUPED_NUMBER.finditer(text):
        number = match.group().replace(",", "")
        found.append((match.start(), number))
        if "." in number:  # 1,234.50 is 1234.5 in JSON
            found.append((match.start(), number.rstrip("0").rstrip(".")))
    found.sort(key=lambda pair: pair[0])  # stable: a number's two forms stay in order
    return tuple(dict.fromkeys(term for _, term in found))


def _clock(hour: int, match: re.Match[str]) -> str:
    """``18:19`` or ``18:19:05``: the time as data writes it, the hour padded."""
    seconds = f":{match['s']}" if match["s"] else ""
    return f"{hour:02d}:{match['mi']}{seconds}"


def _iso_date(match: re.Match[str]) -> str | None:
    for g in "1234":
        month_text = match["m" + g]
        if month_text is None:
            continue
        month = _month_number(month_text)
        year = match["y" + g]
        day_text = match["d" + g] if g != "3" else None
        if month is None:
            return None
        if day_text is None:
            return f"{year}-{month:02d}"
        day = int(day_text)
        if not 1 <= day <= _DAYS_IN[month - 1]:
            return None
        return f"{year}-{month:02d}-{day:02d}" if year else f"-{month:02d}-{day:02d}"
    return None


def _month_number(text: str) -> int | None:
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    name = text.rstrip(".").lower()
    return _MONTHS.get(name) or _MONTHS.get(name[:3])


def written_date(text: str, start: int, end: int) -> tuple[int, date] | None:
    """(where it starts, the day) of the first full date written in words in
    ``text[start:end]`` ("Wednesday, September 3, 2025", "3 Sep 2025"); None if none."""
    for match in _WRITTEN_DATE.finditer(text, start, end):
        term = _iso_date(match)
        if term is not None and len(term) == 10 and term[0] != "-":
            return match.start(), date.fromisoformat(term)
    return None


_ISO_PREFIX = re.compile(r"(?:19|20)\d\d(?:-[01]\d(?:-[0-3]\d)?)?(?![\d/])")


def date_at(text: str, at: int) -> str | None:
    """The date written at ``text[at:]``, as the ISO prefix data sorts by: ``2021-03-09``,
    ``2021-03`` ("March 2021") or ``2021``; None when none starts there or it has no year."""
    iso = _ISO_PREFIX.match(text, at)
    if iso is not None:
        return iso.group()
    written = _WRITTEN_DATE.match(text, at)
    if written is None:
        return None
    term = _iso_date(written)
    return term if term is not None and term[:1] != "-" else None
