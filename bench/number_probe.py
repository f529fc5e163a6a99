"""Ask for an item by a number written with thousands separators ("12,345"), and check it is sent.

    python bench/number_probe.py [--seed N] [--follow-up]

Picks integer fields of 1,000 or more from the long JSON lists of the workloads, and, for up
to three items per field whose value no other item has, asks about that value written as a
person writes it ("Which entry has size 5,242,880?"), in place of the question the tool
answered or, with ``--follow-up``, after the whole chat.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.filter_probe import identity  # noqa: E402
from bench.probe_support import (  # noqa: E402
    ask,
    print_losses,
    results_table,
    scalars,
    workload_lists,
)
from headroom import Headroom  # noqa: E402

QUESTIONS = (
    "Which entry has {field} {value:,}?",
    "Show me the one with {value:,} {field}.",
    "Anything at {value:,}?",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--follow-up", action="store_true")
    args = parser.parse_args()
    rng, engine = random.Random(args.seed), Headroom()
    table = results_table("Items asked for by number and not sent", "workload", "question")
    asked = 0
    for name, request, at, items in workload_lists():
        dumps = [json.dumps(x, ensure_ascii=False) for x in items]
        columns: dict[str, list[tuple[int, int]]] = {}
        for i, item in enumerate(items):
            for field, value in scalars(item):
                if type(value) is int and value >= 1000:
                    columns.setdefault(field, []).append((i, value))
        for field, pairs in list(columns.items())[:3]:
            for i, value in rng.sample(pairs, min(3, len(pairs))):
                if sum(1 for _, v in pairs if v == value) > 1:
                    continue
                wanted = identity(items[i], dumps)
                if wanted is None:
                    continue
                question = rng.choice(QUESTIONS).format(field=field.split(".")[-1], value=value)
                asked += 1
                if wanted not in ask(engine, request, at, question, args.follow_up):
                    table.add_row(name[:6], question)
    print_losses(table, asked)


if __name__ == "__main__":
    main()
