"""Ask about an item by a name typed without its accents ("Brasilia"), and check it is sent.

    python bench/accent_probe.py [--seed N] [--follow-up]

Picks string values with Latin accents (``Brasília``, ``Schröder``, ``Češka Republika``) that at
most two items of a long JSON list hold, and asks about each written as a user without those
keys types it, in place of the question the tool answered or, with ``--follow-up``, after the
whole chat.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

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

NAME = re.compile(r"[^\W\d_][\w' -]*")


def unaccented(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def accented_names(items: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(item, value) for names of 3 to 40 characters whose accents come off to plain ASCII."""
    found = []
    for i, item in enumerate(items):
        for _, value in scalars(item):
            if not isinstance(value, str) or value.isascii() or not 3 <= len(value) <= 40:
                continue
            plain = unaccented(value)
            if NAME.fullmatch(value) and plain != value and plain.isascii():
                found.append((i, value))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--follow-up", action="store_true")
    args = parser.parse_args()
    rng, engine = random.Random(args.seed), Headroom()
    table = results_table("Items asked for without accents and not sent", "workload", "value")
    asked = 0
    for name, request, at, items in workload_lists():
        dumps = [json.dumps(x, ensure_ascii=False) for x in items]
        candidates = accented_names(items)
        for i, value in rng.sample(candidates, min(4, len(candidates))):
            if sum(value in d for d in dumps) > 2:
                continue
            wanted = identity(items[i], dumps)
            if wanted is None:
                continue
            question = f"What do we know about {unaccented(value)}?"
            asked += 1
            if wanted not in ask(engine, request, at, question, args.follow_up):
                table.add_row(name[:6], value)
    print_losses(table, asked)


if __name__ == "__main__":
    main()
