"""Ask for every item of a list that holds a rare value, and check that each one is sent.

    python bench/filter_probe.py [--seed N] [--per-list K] [--lower] [--plural] [--flags]
                                 [--part] [--follow-up]

item_probe.py names one item; users also ask for a group: "Which ones have type
Organization?", "Show me all the Protected AAC audio file ones." This picks a field of a long
JSON list with a few distinct values, one value that a few of the items hold (up to a quarter
of them), asks for those items in place of the question the tool answered, and checks that
each of them is in what would be sent (by a value of its own that no other item holds). With
``--lower`` the value is written in lowercase, as a user who has not seen the data might;
with ``--plural``, as an English plural ("Which ones are Organizations?"). With ``--flags``
the group is the items with a yes/no field set, or unset, that a few of them have ("Which
ones are landlocked?", "Which ones are not un member?"). With ``--part`` the group is the
items that mention a name found inside longer values ("ProcessThread" in the thread
"ProcessThread(sid:1 cport:-1):"), held by as few items as compression keeps whole for a
question's terms (at most one in ten of a long list). With ``--follow-up`` the question comes
after the whole chat, as a later question, which recall answers.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.probe_support import ask, results_table, scalars, workload_lists  # noqa: E402
from headroom import Headroom  # noqa: E402

TEMPLATES = (
    "Which ones have {field} {value}?",
    "List every entry whose {field} is {value}.",
    "Show me all the {value} ones.",
    "Are there any with {field} = {value}? Give me all of them.",
)
PLURAL_TEMPLATES = ("Which ones are {value}?", "List the {value}.", "Show me all the {value}.")
PART_TEMPLATES = (
    "Which ones mention {term}?",
    "Show me all the entries with {term} in the {field}.",
    "What do we have for {term}?",
)
MAX_DISTINCT = 15
_NAME = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9_]{4,}(?![A-Za-z0-9_])")


def identity(item: dict[str, Any], dumps: list[str]) -> str | None:
    """A ``"key":value`` of ``item`` that no other item's JSON holds, or None."""
    for field, value in scalars(item):
        text = json.dumps(value, ensure_ascii=False)
        if 3 <= len(text) <= 80 and sum(text in d for d in dumps) == 1:
            return f"{json.dumps(field.rsplit('.', 1)[-1])}:{text}"
    return None


def flag_groups(items: list[Any]) -> list[tuple[str, str, list[int]]]:
    """(field, how a user asks for it, indices) for each top-level yes/no field of which
    at most a quarter of the items hold one value: "landlocked", "not un member"."""
    found = []
    for key in items[0] if isinstance(items[0], dict) else ():
        values = [item.get(key) for item in items]
        if not all(isinstance(v, bool) for v in values):
            continue
        words = " ".join(re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", key)).lower()
        for wanted in (True, False):
            held = [i for i, v in enumerate(values) if v is wanted]
            if 0 < len(held) <= len(items) // 4:
                found.append((key, words if wanted else f"not {words}", held))
    return found


def part_groups(items: list[Any], dumps: list[str]) -> list[tuple[str, str, list[int]]]:
    """(field, name, indices of the items whose JSON mentions it) for each name-like word
    (CamelCase, with a digit or an underscore, or a capitalised word never written in
    lowercase there: "Zappa", not "Thanks") found inside a longer value of a field, held by
    at least 4 items and at most as many as compression keeps for a term (``_tie_limit``)."""
    found: dict[str, tuple[str, str]] = {}
    for item in items:
        for field, value in scalars(item):
            if not isinstance(value, str) or "http" in value:
                continue
            for name in _NAME.findall(value):
                if name != value and _name_like(name):
                    found.setdefault(name.lower(), (field, name))
    lowered = [d.lower() for d in dumps]
    joined = "\n".join(dumps)
    found = {
        low: (field, name)
        for low, (field, name) in found.items()
        if not name.istitle() or not re.search(rf"(?<![A-Za-z0-9_]){low}(?![A-Za-z0-9_])", joined)
    }
    limit = _tie_limit(len(items))
    out = []
    for low, (field, name) in found.items():
        word = re.compile(rf"(?<![a-z0-9_]){re.escape(low)}(?![a-z0-9_])")
        held = [i for i, d in enumerate(lowered) if word.search(d)]
        if 4 <= len(held) <= limit:
            out.append((field, name, held))
    return sorted(out, key=lambda g: g[1])


def _name_like(word: str) -> bool:
    inner_capital = any(c.isupper() for c in word[1:]) and not word.isupper()
    return inner_capital or any(c.isdigit() or c == "_" for c in word) or word.istitle()


def _tie_limit(n: int) -> int:
    """How many items holding a question's term compression keeps, all alike
    (``question_hits._with_ties`` with the list's ``max_keep``)."""
    keep = min(25, max(5, n // 20))
    return max(2 * keep, n // 10)


def groups(items: list[Any]) -> list[tuple[str, str, list[int]]]:
    """(field, value, indices of the items holding it) for each rare value of each field
    with at most ``MAX_DISTINCT`` distinct string values."""
    by_field: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, item in enumerate(items):
        for field, value in scalars(item):
            if isinstance(value, str) and 2 <= len(value) <= 40:
                by_field[field].append((value, i))
    found = []
    for field, pairs in by_field.items():
        counts = Counter(value for value, _ in pairs)
        if 2 <= len(counts) <= MAX_DISTINCT:
            for value, held in counts.items():
                if held <= max(2, len(items) // 4):
                    found.append((field, value, [i for v, i in pairs if v == value]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-list", type=int, default=4)
    parser.add_argument("--lower", action="store_true")
    parser.add_argument(
        "--plural", action="store_true", help='ask for "Organizations" (words not ending in s)'
    )
    parser.add_argument("--flags", action="store_true", help='"Which ones are landlocked?"')
    parser.add_argument("--part", action="store_true", help='"Which ones mention ProcessThread?"')
    parser.add_argument("--follow-up", action="store_true", help="ask after the whole chat")
    args = parser.parse_args()
    rng, engine = random.Random(args.seed), Headroom()
    table = results_table(
        "Groups asked for and not sent whole", "workload", "question", "items not sent"
    )
    asked = partial = lost = total = 0
    for name, request, at, items in workload_lists():
        dumps = [json.dumps(x, ensure_ascii=False) for x in items]
        if args.part:
            found = part_groups(items, dumps)
        else:
            found = flag_groups(items) if args.flags else groups(items)
        if args.plural:
            found = [g for g in found if g[1].isalpha() and not g[1].endswith("s")]
        rng.shuffle(found)
        for field, value, holders in found[: args.per_list]:
            key = field.rsplit(".", 1)[-1].replace("_", " ")
            spelt = value.lower() if args.lower else value
            if args.part:
                question = rng.choice(PART_TEMPLATES).format(term=spelt, field=key)
            elif args.flags:
                question = rng.choice(PLURAL_TEMPLATES[:1]).format(value=value)
            elif args.plural:
                question = rng.choice(PLURAL_TEMPLATES).format(value=spelt + "s")
            else:
                question = rng.choice(TEMPLATES).format(field=key, value=spelt)
            sent = ask(engine, request, at, question, follow_up=args.follow_up)
            ids = [x for x in (identity(items[i], dumps) for i in holders) if x]
            missing = [x for x in ids if x not in sent]
            asked += 1
            total += len(ids)
            lost += len(missing)
            if missing:
                partial += 1
                table.add_row(name[:6], question, f"{len(missing)} of {len(ids)}")
    console = Console()
    if partial:
        console.print(table)
    console.print(f"questions asked: {asked}; not answered whole: {partial}")
    console.print(f"items asked for: {total}; not sent: {lost}")


if __name__ == "__main__":
    main()
