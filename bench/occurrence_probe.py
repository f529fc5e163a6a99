"""Ask for the first or the last item holding a value that many items hold, and check it is sent.

    python bench/occurrence_probe.py [--seed N] [--follow-up] [--verbose]

"When was the last 'Send worker leaving thread'?" names a value that 141 of 1000 events
hold; the question's terms single out all of them alike, more than are kept, and the answer
is the last one. This picks values of each long JSON list that between 6 items and half of
the list hold (as whole words), and asks for the first or the last of them in a few
writings, in place of the question the tool answered or, with ``--follow-up``, after the
whole chat. Prints, per writing, how many questions' item was not sent.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.filter_probe import identity  # noqa: E402
from bench.probe_support import ask, print_tallies, results_table, scalars, workload_lists  # noqa: E402
from headroom import Headroom  # noqa: E402

WRITINGS = {
    "first": ('When was the first "{value}"?', 0),
    "last": ('When was the last "{value}"?', -1),
    "latest": ("Show me the latest {value}.", -1),
    "most recent": ("What was the most recent {value} entry?", -1),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-list", type=int, default=3)
    parser.add_argument("--follow-up", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list every question with a loss")
    args = parser.parse_args()
    rng, engine = random.Random(args.seed), Headroom()
    table = results_table("Occurrences asked for and not sent", "workload", "question", "held by")
    asked: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    for name, request, at, items in workload_lists():
        dumps = [json.dumps(x, ensure_ascii=False) for x in items]
        lowered = [d.lower() for d in dumps]
        values = sorted(
            {
                value
                for item in items
                for _, value in scalars(item)
                if isinstance(value, str)
                and 4 <= len(value) <= 60
                and value.isprintable()
                and '"' not in value
                and "\\" not in value
            }
        )
        joined = "\n".join(lowered)
        found = []
        for value in values:
            if joined.count(value.lower()) < 6:  # fewer holders for sure: skip the search
                continue
            whole = re.compile(rf"(?<!\w){re.escape(value.lower())}(?!\w)")
            holders = [i for i, d in enumerate(lowered) if whole.search(d)]
            if 6 <= len(holders) <= len(items) // 2:
                found.append((value, holders))
        for value, holders in rng.sample(found, min(args.per_list, len(found))):
            for kind, (template, end) in WRITINGS.items():
                item = identity(items[holders[end]], dumps)
                if item is None:
                    continue
                question = template.format(value=value)
                sent = ask(engine, request, at, question, args.follow_up)
                asked[kind] += 1
                if item not in sent:
                    lost[kind] += 1
                    if args.verbose:
                        table.add_row(name[:6], question[:80], f"{len(holders)} of {len(items)}")
    print_tallies(table, "First and last occurrences", "writing", "questions", asked, lost)


if __name__ == "__main__":
    main()
