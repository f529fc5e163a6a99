"""Ask for the items of one day, the date written as people write it, and check each is sent.

    python bench/date_probe.py [--seed N] [--follow-up] [--relative] [--verbose]

Picks dates from a date field of a long JSON list (``2021-03-09T18:19:05Z``) that at most
three items share, and asks for that day's items in several writings: ISO, "March 9, 2021",
"9 March 2021", "Mar 9", "March 9th", "the 9th of March". Without a year, every item of that
day in any year is asked for (at most five). The question replaces the one the tool answered
or, with ``--follow-up``, comes after the whole chat. With ``--relative`` the day is named
relative to a date the system prompt gives ("Today's date is Thursday, March 11, 2021." then
"yesterday", "2 days ago", "last Tuesday"). Prints, per writing, how many items asked for
were not sent.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.filter_probe import identity  # noqa: E402
from bench.probe_support import Tally, ask, results_table, scalars, workload_lists  # noqa: E402
from headroom import Headroom  # noqa: E402

ISO_DAY = re.compile(r"^(\d{4})-(\d\d)-(\d\d)")
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WITH_YEAR = ("iso", "long", "day first")


def writings(year: int, month: int, day: int) -> dict[str, str]:
    """The same day asked about in each writing (the last three without a year)."""
    name = MONTHS[month - 1]
    nth = f"{day}{'th' if 10 < day < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"
    return {
        "iso": f"Which entries are from {year}-{month:02d}-{day:02d}?",
        "long": f"Which entries are from {name} {day}, {year}?",
        "day first": f"Which entries are from {day} {name} {year}?",
        "short": f"Anything from {name[:3]} {day}?",
        "ordinal": f"What happened on {name} {nth}?",
        "of": f"What happened on the {nth} of {name}?",
    }


def relative_writings(day: date, rng: random.Random) -> dict[str, tuple[str, date]]:
    """The same day asked about relative to a later today: (question, today) per writing."""
    later = rng.randint(2, 6)
    return {
        "yesterday": ("What happened yesterday?", day + timedelta(days=1)),
        "days ago": (f"Anything from {later} days ago?", day + timedelta(days=later)),
        "last weekday": (f"What happened last {day:%A}?", day + timedelta(days=later)),
    }


def date_fields(items: list[dict[str, Any]]) -> dict[str, list[tuple[int, str]]]:
    """Fields (dotted) holding an ISO date in at least 80% of the items: (item, value)."""
    fields: dict[str, list[tuple[int, str]]] = {}
    for i, item in enumerate(items):
        for field, value in scalars(item):
            if isinstance(value, str) and ISO_DAY.match(value):
                fields.setdefault(field, []).append((i, value))
    return {f: pairs for f, pairs in fields.items() if len(pairs) >= 0.8 * len(items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--follow-up", action="store_true")
    parser.add_argument("--relative", action="store_true", help='"yesterday", "last Monday"')
    parser.add_argument("--verbose", action="store_true", help="list every question with a loss")
    args = parser.parse_args()
    rng, engine = random.Random(args.seed), Headroom()
    losses = results_table("Days asked for and not sent whole", "workload", "question", "not sent")
    tally = Tally(losses, args.verbose)
    for name, request, at, items in workload_lists():
        dumps = [json.dumps(x, ensure_ascii=False) for x in items]
        for pairs in list(date_fields(items).values())[:2]:
            for _, value in rng.sample(pairs, min(3, len(pairs))):
                same_day = [j for j, v in pairs if v[:10] == value[:10]]
                any_year = [j for j, v in pairs if v[4:10] == value[4:10]]
                if len(same_day) > 3 or len(any_year) > 5:
                    continue
                found = ISO_DAY.match(value)
                assert found is not None
                year, month, day = (int(g) for g in found.groups())
                asked_as: dict[str, tuple[str, date | None]] = {
                    k: (q, None) for k, q in writings(year, month, day).items()
                }
                if args.relative:
                    asked_as = dict(relative_writings(date(year, month, day), rng))
                for kind, (question, today) in asked_as.items():
                    wanted = same_day if kind in WITH_YEAR or today else any_year
                    ids = [x for x in (identity(items[j], dumps) for j in wanted) if x]
                    line = f"Today's date is {today:%A, %B %-d, %Y}." if today else ""
                    sent = ask(engine, request, at, question, args.follow_up, line)
                    tally.add(name, question, kind, ids, sent)
    tally.print("Items of the day asked for", "writing", "asked for")


if __name__ == "__main__":
    main()
