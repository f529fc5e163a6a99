"""Ask the shared workloads' lists questions as users write them, and check every item asked
for is sent.

    python bench/plain_probe.py [--follow-up] [--verbose]

The other probes build their questions from the data; these are written by hand, one per
kind of group a user asks for in plain words: a value without its field ("Which countries
are in Africa?"), a yes/no field ("Which countries are landlocked?"), a threshold with a
unit ("Which tracks are longer than 10 minutes?", "under a dollar"), a lowercase plural
("Which repos belong to organizations?"), a missing value ("Which countries have no
capital?") or a present one ("Which customers have a fax number?"), a log level written as a
code ("Show me the errors." of Android's ``"level": "E"``), a period or a range of them
("Which invoices are from 2023?", "from January 2022 to March 2022"), words the data joins
("pull request" for ``pull_request``), a verb for the state it leaves ("What files did this
PR add?" of ``"status": "added"``). Each question names its workload and says which items it
asks for. Groups of more than a third of a short list or a quarter of a long one are beyond
what a question singles out, and are not asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.filter_probe import identity  # noqa: E402
from bench.probe_support import ask, results_table, workload_lists  # noqa: E402
from headroom import Headroom  # noqa: E402


def field(item: Any, path: str) -> Any:
    """The value at a dotted ``path`` of ``item`` (None where there is none)."""
    for key in path.split("."):
        item = item.get(key) if isinstance(item, dict) else None
    return item


def equals(path: str, value: Any) -> Callable[[Any], bool]:
    return lambda item: field(item, path) == value


QUESTIONS: list[tuple[str, str, Callable[[Any], bool]]] = [
    ("dev-02", "Show me all the ERROR events.", equals("level", "ERROR")),
    ("dev-07", "Show me the errors.", equals("level", "E")),
    ("dev-07", "Which events are warnings?", equals("level", "W")),
    ("dev-07", "What did the ActivityManager log?", equals("tag", "ActivityManager")),
    (
        "dev-09",
        "Which issues are in milestone Version 1.13.0?",
        equals("milestone.title", "Version 1.13.0"),
    ),
    ("dev-10", "Which runs were on the master branch?", equals("head_branch", "master")),
    ("dev-10", "Which runs were triggered by a pull request?", equals("event", "pull_request")),
    ("dev-10", "Which runs did someone cancel?", equals("conclusion", "cancelled")),
    ("dev-13", "Which advisories are high severity?", equals("severity", "high")),
    ("dev-13", "Which ones were closed?", equals("state", "closed")),
    ("dev-13", "Which advisories did they close?", equals("state", "closed")),
    ("dev-14", "Which files were added?", equals("status", "added")),
    ("dev-14", "What files did this PR add?", equals("status", "added")),
    ("dev-16", "Which repos belong to organizations?", equals("owner.type", "Organization")),
    ("dev-16", "Which repos use develop as default branch?", equals("default_branch", "develop")),
    ("dev-18", "Which results are in MiniParse?", equals("repository.name", "MiniParse")),
    ("dev-20", "Which invoices were billed to Germany?", equals("BillingCountry", "Germany")),
    ("dev-20", "Which invoices are over $20?", lambda x: x["Total"] > 20),
    ("dev-20", "Which invoices were under a dollar?", lambda x: x["Total"] < 1),
    ("dev-20", "Which invoices are from 2023?", lambda x: x["InvoiceDate"].startswith("2023")),
    (
        "dev-20",
        "Which invoices are from January 2022 to March 2022?",
        lambda x: "2022-01" <= x["InvoiceDate"][:7] <= "2022-03",
    ),
    ("dev-21", "Which tracks are by Led Zeppelin?", equals("Artist", "Led Zeppelin")),
    ("dev-21", "List the tracks composed by Jimi Hendrix.", equals("Composer", "Jimi Hendrix")),
    ("dev-21", "Which tracks are longer than 10 minutes?", lambda x: x["Milliseconds"] > 600_000),
    ("dev-21", "Which tracks are shorter than 2 minutes?", lambda x: x["Milliseconds"] < 120_000),
    ("dev-17", "Which issues have an assignee?", lambda x: bool(x.get("assignee"))),
    ("dev-17", "Which issues have a milestone?", lambda x: bool(x.get("milestone"))),
    ("dev-22", "Which customers live in the USA?", equals("Country", "USA")),
    ("dev-22", "Which customers have a fax number?", lambda x: bool(x.get("Fax"))),
    ("dev-22", "List the customers with a company.", lambda x: bool(x.get("Company"))),
    ("dev-25", "Which files are executable?", equals("mode", "100755")),
    ("dev-25", "Which files are larger than 20 KB?", lambda x: x["size"] > 20_000),
    ("dev-28", "Which countries are landlocked?", equals("landlocked", True)),
    (
        "dev-28",
        "Which countries use the Swiss franc?",
        lambda x: "CHF" in (x.get("currencies") or {}),
    ),
    ("dev-29", "Which countries use the Euro?", lambda x: "EUR" in (x.get("currencies") or {})),
    ("dev-29", "Which countries are in Africa?", equals("region", "Africa")),
    ("dev-29", "Which countries are in Oceania?", equals("region", "Oceania")),
    (
        "dev-29",
        "Which countries speak Spanish?",
        lambda x: "Spanish" in (x.get("languages") or {}).values(),
    ),
    ("dev-29", "Which countries are not UN members?", equals("unMember", False)),
    ("dev-29", "Which countries have no capital?", lambda x: not x.get("capital")),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follow-up", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="print every question")
    args = parser.parse_args()
    engine = Headroom()
    lists = list(workload_lists())
    table = results_table("Plain questions", "workload", "question", "asked for", "not sent")
    asked = lost = 0
    for workload, question, wanted in QUESTIONS:
        for name, request, at, items in lists:
            if not name.startswith(workload):
                continue
            try:
                held = [i for i, item in enumerate(items) if wanted(item)]
            except (KeyError, TypeError):
                continue  # another list of the workload
            if not held:
                continue
            dumps = [json.dumps(x, ensure_ascii=False) for x in items]
            ids = [x for x in (identity(items[i], dumps) for i in held) if x]
            sent = ask(engine, request, at, question, args.follow_up)
            missing = sum(1 for x in ids if x not in sent)
            asked += len(ids)
            lost += missing
            if missing or args.verbose:
                table.add_row(name[:6], question, f"{len(ids)} of {len(items)}", str(missing))
            break
    console = Console()
    if table.rows:
        console.print(table)
    console.print(f"questions: {len(QUESTIONS)}; items asked for: {asked}; not sent: {lost}")


if __name__ == "__main__":
    main()
