"""Ask about a commit by its short SHA ("5b0224e8"), and check the item holding it is sent.

    python bench/sha_probe.py [--follow-up]

Takes up to six 40-character SHAs of each long JSON list that at most three items hold, and
asks "What about commit <first 7, 8, 10 or 12 characters>?", in place of the question the
tool answered or, with ``--follow-up``, after the whole chat. Counts the questions whose
commit is not sent, apart for short SHAs ending in a digit (a digit after a number makes it
another number: 49 is not 1492; a SHA's start names the SHA) and in a letter.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.probe_support import ask, results_table, workload_lists  # noqa: E402
from headroom import Headroom  # noqa: E402

SHA = re.compile(r'"([0-9a-f]{40})"')
LENGTHS = (7, 8, 10, 12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follow-up", action="store_true")
    args = parser.parse_args()
    engine = Headroom()
    asked: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    for _, request, at, items in workload_lists():
        dumps = [json.dumps(x) for x in items]
        shas = sorted({sha for d in dumps for sha in SHA.findall(d)})
        for sha in shas[:6]:
            if sum(sha in d for d in dumps) > 3:
                continue
            for length in LENGTHS:
                short = sha[:length]
                ending = "digit" if short[-1].isdigit() else "letter"
                sent = ask(engine, request, at, f"What about commit {short}?", args.follow_up)
                asked[ending] += 1
                lost[ending] += sha not in sent
    table = results_table("Short SHAs asked about", "ending in", "questions", "commit not sent")
    for ending in sorted(asked):
        table.add_row(ending, str(asked[ending]), str(lost[ending]))
    Console().print(table)


if __name__ == "__main__":
    main()
