"""Ask for the first few of a ranking ("the 5 largest by total"), and check each is sent.

    python bench/rank_probe.py [--seed N] [--per-list K] [--follow-up] [--dates]
                               [--threshold [--units]]

Picks a numeric field of a long JSON list (one with more than ten distinct values), asks for
its 3 or 5 largest or smallest items in place of the question the tool answered (or, with
``--follow-up``, after the output, as a later question that recall answers), and checks that
each of them is in what would be sent, by a value of its own that no other item holds. With
``--dates`` it asks for the latest or the oldest by a date field instead; with
``--threshold``, for every item past a value of the field ("Which ones have total over 18?",
with ``--dates`` "... created at after March 9, 2021?", with ``--units`` "Which ones are
longer than 4.5 minutes?" of a milliseconds field, "bigger than 12.8 MB" of a bytes field).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.date_probe import MONTHS  # noqa: E402
from bench.filter_probe import identity  # noqa: E402
from bench.probe_support import ask, results_table, workload_lists  # noqa: E402
from headroom import Headroom  # noqa: E402

LARGEST = (
    "Which {k} have the largest {field}?",
    "What are the top {k} by {field}?",
    "Show me the {k} highest {field} values and their entries.",
)
SMALLEST = ("Which {k} have the smallest {field}?", "What are the {k} lowest by {field}?")
LATEST = (
    "Which {k} have the latest {field}?",
    "What are the {k} most recent by {field}?",
    "Show me the {k} newest entries.",
)
OLDEST = ("Which {k} have the earliest {field}?", "What are the {k} oldest ones?")
DATE = re.compile(r"\d{4}-\d\d-\d\d")


def ranked_fields(items: list[dict[str, Any]], dates: bool) -> list[str]:
    """Top-level fields that are numbers (or ``dates``) in every item, with more than ten
    distinct values."""
    return [
        key
        for key in items[0]
        if all(_ranked_value(item.get(key), dates) for item in items)
        and len({item[key] for item in items}) > 10
    ]


def _ranked_value(value: Any, dates: bool) -> bool:
    if dates:
        return isinstance(value, str) and DATE.match(value) is not None
    return type(value) in (int, float)


def threshold_question(
    items: list[dict[str, Any]], field: str, rng: random.Random
) -> tuple[str, list[int]] | None:
    """A question for the items past a threshold of ``field`` that 5 to 20% of them pass
    ("Which ones have total over 18.5?"), and their indices; None when there is no such."""
    values = sorted(item[field] for item in items)
    share, above = rng.choice((0.05, 0.1, 0.2)), rng.random() < 0.6
    limit = values[int(len(values) * (1 - share))] if above else values[int(len(values) * share)]
    wanted = [i for i, x in enumerate(items) if (x[field] > limit if above else x[field] < limit)]
    if not wanted or len(wanted) > len(items) // 4:
        return None
    word = "over" if above else "under"
    shown = f"{limit:,}" if isinstance(limit, int) else str(limit)
    return f"Which ones have {field.replace('_', ' ')} {word} {shown}?", wanted


def date_threshold_question(
    items: list[dict[str, Any]], field: str, rng: random.Random
) -> tuple[str, list[int]] | None:
    """A question for the items dated after (or before) a day that 5 to 20% of them are
    ("Which ones have created at after March 9, 2021?"), and their indices."""
    days = sorted(item[field][:10] for item in items)
    share, after = rng.choice((0.05, 0.1, 0.2)), rng.random() < 0.6
    limit = days[int(len(days) * (1 - share))] if after else days[int(len(days) * share)]
    wanted = [i for i, x in enumerate(items) if (x[field][:10] > limit) == after]
    wanted = [i for i in wanted if items[i][field][:10] != limit]
    if not wanted or len(wanted) > len(items) // 4:
        return None
    year, month, day = limit.split("-")
    written = rng.choice((limit, f"{MONTHS[int(month) - 1]} {int(day)}, {year}"))
    word = "after" if after else "before"
    return f"Which ones have {field.replace('_', ' ')} {word} {written}?", wanted


def unit_of(field: str) -> str | None:
    """The unit a field holds, by its name: "ms" (``Milliseconds``) or "bytes"."""
    name = field.lower()
    if "millisecond" in name or name.endswith("_ms"):
        return "ms"
    return "bytes" if name in ("bytes", "size") or name.endswith("_bytes") else None


def unit_threshold_question(
    items: list[dict[str, Any]], field: str, rng: random.Random
) -> tuple[str, list[int]] | None:
    """``threshold_question`` in minutes or megabytes, for a field in ms or bytes."""
    values = sorted(item[field] for item in items)
    share, above = rng.choice((0.05, 0.1, 0.2)), rng.random() < 0.6
    raw = values[int(len(values) * (1 - share))] if above else values[int(len(values) * share)]
    per, words = (
        (60_000, ("longer", "shorter", "minutes"))
        if unit_of(field) == "ms"
        else (
            1e6,
            ("bigger", "smaller", "MB"),
        )
    )
    shown = round(raw / per, 1)
    limit = shown * per
    wanted = [i for i, x in enumerate(items) if (x[field] > limit if above else x[field] < limit)]
    if not wanted or len(wanted) > len(items) // 4:
        return None
    word = words[0] if above else words[1]
    return f"Which ones are {word} than {shown} {words[2]}?", wanted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-list", type=int, default=2)
    parser.add_argument("--follow-up", action="store_true")
    parser.add_argument("--dates", action="store_true")
    parser.add_argument(
        "--threshold", action="store_true", help='"the ones with total over 20" (a few of them)'
    )
    parser.add_argument("--units", action="store_true", help='"longer than 5 minutes", "MB"')
    args = parser.parse_args()
    rng, engine = random.Random(args.seed), Headroom()
    table = results_table(
        "Rankings asked for and not sent whole", "workload", "items", "question", "not sent"
    )
    asked = partial = lost = total = 0
    for name, request, at, items in workload_lists():
        dumps = [json.dumps(x, ensure_ascii=False) for x in items]
        fields = ranked_fields(items, args.dates)
        if args.units:
            fields = [f for f in fields if unit_of(f)]
        rng.shuffle(fields)
        for field in fields[: args.per_list]:
            if args.threshold:
                ask_for = date_threshold_question if args.dates else threshold_question
                ask_for = unit_threshold_question if args.units else ask_for
                asked_items = ask_for(items, field, rng)
                if asked_items is None:
                    continue
                question, wanted = asked_items
                sent = ask(engine, request, at, question, args.follow_up)
                ids = [x for x in (identity(items[i], dumps) for i in wanted) if x]
                missing = [x for x in ids if x not in sent]
                asked, total, lost = asked + 1, total + len(ids), lost + len(missing)
                if missing:
                    partial += 1
                    table.add_row(name[:6], str(len(items)), question, f"{len(missing)}/{len(ids)}")
                continue
            k, largest = rng.choice((3, 5)), rng.random() < 0.7
            templates = (LATEST, OLDEST) if args.dates else (LARGEST, SMALLEST)
            question = rng.choice(templates[0 if largest else 1]).format(k=k, field=field)
            # largest first, ties in position order (a stable sort)
            order = sorted(range(len(items)), key=lambda i: items[i][field], reverse=largest)
            sent = ask(engine, request, at, question, args.follow_up)
            ids = [x for x in (identity(items[i], dumps) for i in order[:k]) if x]
            missing = [x for x in ids if x not in sent]
            asked += 1
            total += len(ids)
            lost += len(missing)
            if missing:
                partial += 1
                shown = f"{len(missing)}/{len(ids)}"
                table.add_row(name[:6], str(len(items)), question, shown)
    console = Console()
    if partial:
        console.print(table)
    console.print(f"questions asked: {asked}; not answered whole: {partial}")
    console.print(f"items asked for: {total}; not sent: {lost}")


if __name__ == "__main__":
    main()
