"""Ask about random items of the workloads' JSON lists, and check that each item is sent.

    python bench/item_probe.py [--seed N] [--per-list K] [--follow-up] [--next-to]

The shared workloads ask one question each. This asks many more, the way users do: it picks
an item of a long JSON list, names it by one of its own values ("What is the Bytes of All
Because Of You?") and checks that another of the item's fields is in what would be sent.
By default the question is the one the tool answered (the user message before the call);
with ``--follow-up`` it comes after the output, as a later question, which recall answers.
With ``--next-to`` it asks what came right before or after the item instead, and checks the
item next to it.
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

from bench.probe_support import ask, results_table, scalars, workload_lists  # noqa: E402
from headroom import Headroom  # noqa: E402

NEXT_TO = (
    ('What happened right before "{name}"?', -1),
    ("Show me the entry just before {name}.", -1),
    ('What came right after "{name}"?', 1),
)
TEMPLATES = (
    "Tell me everything about {name}.",
    "What is the {field} of {name}?",
    'I need the {field} for "{name}" please.',
    "Find {name} in that list and give me its {field}.",
)


def unique_name(item: dict[str, Any], items: list[Any], rng: random.Random) -> str | None:
    """A string value of ``item`` that names it (no other item holds it), or None."""
    names = [
        v
        for _, v in scalars(item)
        if isinstance(v, str)
        and 4 <= len(v) <= 60
        and re.search("[A-Za-z]", v)
        and "http" not in v
        and sum(json.dumps(v) in json.dumps(x) for x in items) == 1
    ]
    return rng.choice(names) if names else None


def probe(item: dict[str, Any], items: list[Any], rng: random.Random) -> tuple[str, str] | None:
    """(a question naming ``item`` by a value no other item holds, the text of another of its
    fields that must be sent), or None when the item has no such value."""
    name = unique_name(item, items, rng)
    if name is None:
        return None
    others = [
        (f, v)
        for f, v in scalars(item)
        if v != name
        and (not isinstance(v, str) or 1 <= len(v) <= 80)
        and json.dumps(v) not in json.dumps(name)
    ]
    if not others:
        return None
    field, value = rng.choice(others)
    key = field.rsplit(".", 1)[-1]
    question = rng.choice(TEMPLATES).format(name=name, field=key.replace("_", " "))
    return question, f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False)}"


def next_to_probe(at: int, items: list[Any], rng: random.Random) -> tuple[str, str] | None:
    """(a question naming the item at ``at`` and asking what came right before or after it,
    a value of that neighbour that no other item holds), or None."""
    name = unique_name(items[at], items, rng) if 0 < at < len(items) - 1 else None
    if name is None:
        return None
    template, step = rng.choice(NEXT_TO)
    dumps = [json.dumps(x) for x in items]
    unique = [
        f"{json.dumps(k.rsplit('.', 1)[-1])}:{json.dumps(v, ensure_ascii=False)}"
        for k, v in scalars(items[at + step])
        if isinstance(v, (str, int)) and sum(json.dumps(v) in d for d in dumps) == 1
    ]
    return (template.format(name=name), rng.choice(unique)) if unique else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-list", type=int, default=8)
    parser.add_argument("--follow-up", action="store_true")
    parser.add_argument("--next-to", action="store_true")
    args = parser.parse_args()
    rng, engine = random.Random(args.seed), Headroom()
    table = results_table(
        "Items named by a question and not sent",
        "workload",
        "question",
        "field that must be sent",
    )
    asked = lost = 0
    for name, request, at, items in workload_lists():
        for _ in range(args.per_list):
            pick = rng.randrange(len(items))
            if args.next_to:
                found = next_to_probe(pick, items, rng)
            else:
                found = probe(items[pick], items, rng)
            if found is None:
                continue
            question, needle = found
            sent = ask(engine, request, at, question, args.follow_up)
            asked += 1
            if needle not in sent:
                lost += 1
                table.add_row(name[:6], question, needle[:60])
    console = Console()
    if lost:
        console.print(table)
    console.print(f"questions asked: {asked}; items not sent: {lost}")


if __name__ == "__main__":
    main()
