"""Ask what was logged at a time of day, written as people write it, and check it is sent.

    python bench/time_probe.py [--seed N] [--follow-up] [--verbose]

Log events carry their time in the log's own format: ``2015-07-29 17:41:44,747``,
``17/06/09 20:10:40``, ``Sun Dec 04 04:47:44 2005``, ``03-17 16:13:38.811``, and API records
``2012-04-17T05:50:25Z``. A user asks "what happened at 4:47:44 am?" or "anything at 04:47 on
Dec 4?". This picks events of each long JSON list with such a field and asks for them in
several writings: the timestamp as the data has it; the time to the second (24-hour, and
12-hour with am/pm), which asks for every event at that time of day on any day (at most
three); and the minute with the day in words, every event of that minute (at most five).
Prints, per writing, how many events asked for were not sent.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.filter_probe import identity  # noqa: E402
from bench.probe_support import Tally, ask, results_table, scalars, workload_lists  # noqa: E402
from headroom import Headroom  # noqa: E402

# (format, how many characters of the value it reads): the formats of the workloads' sources.
FORMATS = (
    ("%Y-%m-%d %H:%M:%S", 19),
    ("%Y-%m-%dT%H:%M:%S", 19),
    ("%y/%m/%d %H:%M:%S", 17),
    ("%a %b %d %H:%M:%S %Y", 24),
    ("%m-%d %H:%M:%S", 14),
)
ANY_DAY_WRITINGS = ("24-hour", "12-hour")


def read_time(value: Any) -> datetime | None:
    """The moment a timestamp string holds, in one of ``FORMATS``; None if none reads it."""
    if not isinstance(value, str):
        return None
    for form, length in FORMATS:
        try:
            return datetime.strptime(value[:length], form)
        except ValueError:
            continue
    return None


def time_fields(items: list[dict[str, Any]]) -> dict[str, list[tuple[int, str, datetime]]]:
    """Fields (dotted) holding a timestamp with a time of day in at least 80% of the items."""
    fields: dict[str, list[tuple[int, str, datetime]]] = {}
    for i, item in enumerate(items):
        for field, value in scalars(item):
            moment = read_time(value)
            if moment is not None:
                fields.setdefault(field, []).append((i, str(value), moment))
    return {f: rows for f, rows in fields.items() if len(rows) >= 0.8 * len(items)}


def clock12(moment: datetime, seconds: bool) -> str:
    hour = moment.hour % 12 or 12
    tail = f":{moment.second:02d}" if seconds else ""
    return f"{hour}:{moment.minute:02d}{tail} {'am' if moment.hour < 12 else 'pm'}"


def writings(raw: str, moment: datetime) -> dict[str, str]:
    """The same moment asked about in each writing (the last two name only its minute)."""
    day = f"{moment:%B} {moment.day}"
    return {
        "as logged": f"What was logged at {raw}?",
        "24-hour": f"What happened at {moment:%H:%M:%S}?",
        "12-hour": f"What happened at {clock12(moment, seconds=True)}?",
        "minute, day in words": f"What was logged on {day} at {clock12(moment, seconds=False)}?",
        "minute, short month": f"Anything at {moment:%H:%M} on {moment:%b} {moment.day}?",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--follow-up", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list every question with a loss")
    args = parser.parse_args()
    rng, engine = random.Random(args.seed), Headroom()
    losses = results_table("Moments asked for and not sent whole", "workload", "question", "lost")
    tally = Tally(losses, args.verbose)
    for name, request, at, items in workload_lists():
        dumps = [json.dumps(x, ensure_ascii=False) for x in items]
        for rows in list(time_fields(items).values())[:1]:
            for _, raw, moment in rng.sample(rows, min(4, len(rows))):
                second = [j for j, _, m in rows if m == moment]
                minute = [j for j, _, m in rows if m.replace(second=0) == moment.replace(second=0)]
                any_day = [j for j, _, m in rows if m.time() == moment.time()]
                if len(second) > 3 or len(minute) > 5:
                    continue
                for kind, question in writings(raw, moment).items():
                    wanted = {"as logged": second, **dict.fromkeys(ANY_DAY_WRITINGS, any_day)}
                    wanted_here = wanted.get(kind, minute)
                    if len(wanted_here) > 3 and kind in ANY_DAY_WRITINGS:
                        continue
                    ids = [x for x in (identity(items[j], dumps) for j in wanted_here) if x]
                    sent = ask(engine, request, at, question, args.follow_up)
                    tally.add(name, question, kind, ids, sent)
    tally.print("Events of the moment asked for", "writing", "asked for")


if __name__ == "__main__":
    main()
