"""What the question probes share: the long JSON lists of the workloads' tool outputs, and
asking the engine a question about one of them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from headroom import Headroom
from headroom.transforms.json_null_fields import NULL_FIELDS_KEY, expand_null_fields
from headroom.transforms.json_url_fields import URL_FIELDS_KEY, expand_url_fields
from headroom.transforms.tool_output import split_digest

WORKLOADS = Path(__file__).resolve().parents[2] / "shared" / "workloads" / "dev"


def long_lists(node: Any) -> Iterator[list[dict[str, Any]]]:
    """Lists of a dozen or more objects, outermost first."""
    if isinstance(node, list):
        if len(node) >= 12 and all(isinstance(x, dict) for x in node):
            yield node
            return
        for inner in node[:3]:
            yield from long_lists(inner)
    elif isinstance(node, dict):
        for inner in node.values():
            yield from long_lists(inner)


def scalars(item: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted field, value) for each string or number of ``item``, nested objects included."""
    for key, value in item.items():
        if isinstance(value, dict):
            yield from scalars(value, f"{prefix}{key}.")
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            yield prefix + key, value


def workload_lists() -> Iterator[tuple[str, dict[str, Any], int, list[dict[str, Any]]]]:
    """(workload name, request, index of the tool output, list) for the first two long
    lists of each JSON tool output of each workload."""
    for path in sorted(WORKLOADS.glob("*.json")):
        request = json.loads(path.read_text())["request"]
        for at, message in enumerate(request["messages"]):
            if message.get("role") != "tool" or not isinstance(message.get("content"), str):
                continue
            try:
                document = json.loads(message["content"])
            except ValueError:
                continue
            for items in list(long_lists(document))[:2]:
                yield path.name, request, at, items


def ask(
    engine: Headroom,
    request: dict[str, Any],
    at: int,
    question: str,
    follow_up: bool,
    system_line: str = "",
) -> str:
    """What would be sent (every message but the user's) when ``question`` replaces the one
    the tool output at ``at`` answered, or, ``follow_up``, is asked after the whole chat;
    with ``system_line`` ("Today's date is ...") first in the system prompt."""
    messages = request["messages"]
    if system_line:
        messages = _with_system_line(messages, system_line)
        at += len(messages) - len(request["messages"])
    chat = list(messages)
    if follow_up:
        chat += [{"role": "assistant", "content": "Done."}, {"role": "user", "content": question}]
    else:
        asking = max(i for i in range(at) if messages[i]["role"] == "user")
        chat[asking] = {"role": "user", "content": question}
    plan = engine.simulate(chat, model=request["model"], tools=request.get("tools"))
    return "\n".join(
        _written_out(m["content"])
        for m in plan.messages
        if m.get("role") != "user" and isinstance(m.get("content"), str)
    )


def _written_out(content: str) -> str:
    """``content`` with, after it, its JSON with the link fields it sends as one template
    (``"forks_url": "{url}/forks"``) and the null fields it sends as a list of names written
    out again: those values are in the request."""
    if URL_FIELDS_KEY not in content and NULL_FIELDS_KEY not in content:
        return content
    if content.startswith("[headroom:"):  # a recall unit: its header line, then the items
        body = content.split("\n", 1)[-1]
    else:  # a compressed output: the JSON, then its digest line
        body = split_digest(content)[0]
    try:
        document = json.loads(body)
    except ValueError:
        return content
    written = expand_null_fields(expand_url_fields(document))
    return f"{content}\n{json.dumps(written, ensure_ascii=False, separators=(',', ':'))}"


def _with_system_line(messages: list[Any], line: str) -> list[Any]:
    first = messages[0] if messages else {}
    if first.get("role") == "system" and isinstance(first.get("content"), str):
        return [{**first, "content": f"{line}\n\n{first['content']}"}, *messages[1:]]
    return [{"role": "system", "content": line}, *messages]


def results_table(title: str, *columns: str) -> Table:
    """The table a probe lists what it found not sent in."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    return table


def print_losses(table: Table, asked: int) -> None:
    """Print the table of what was not sent (if anything was not) and the count."""
    console = Console()
    if table.rows:
        console.print(table)
    console.print(f"questions asked: {asked}; items not sent: {len(table.rows)}")


class Tally:
    """What a probe counts per kind of question: the items asked for, those not sent, and
    (``verbose``) each question that lost some, as a row of ``losses``."""

    def __init__(self, losses: Table, verbose: bool) -> None:
        self.losses, self.verbose = losses, verbose
        self.asked: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()

    def add(self, workload: str, question: str, kind: str, ids: list[str], sent: str) -> None:
        """Count ``ids`` (texts of the items asked for) against what was ``sent``."""
        missing = [x for x in ids if x not in sent]
        self.asked[kind] += len(ids)
        self.lost[kind] += len(missing)
        if missing and self.verbose:
            self.losses.add_row(workload[:6], question, f"{len(missing)}/{len(ids)}")

    def print(self, title: str, kind: str, counted: str) -> None:
        print_tallies(self.losses, title, kind, counted, self.asked, self.lost)


def print_tallies(
    losses: Table, title: str, kind: str, counted: str, asked: Counter[str], lost: Counter[str]
) -> None:
    """Print the table of losses (if it has rows) and, per kind of question, how many
    ``counted`` were asked for and how many of them were not sent."""
    console = Console()
    if losses.rows:
        console.print(losses)
    summary = results_table(title, kind, counted, "not sent")
    for key in asked:
        summary.add_row(key, str(asked[key]), str(lost[key]))
    console.print(summary)
