"""The ``headroom`` command: simulate one request, audit a log of them, report on a store.

User mistakes (a missing file, bad JSON, a bad store URL or date) print one line starting with
``error:`` and exit with status 1; no traceback.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .cli_input import InputError, count_lines, iter_jsonl, load_request_file
from .engine import Headroom
from .errors import HeadroomBudgetError
from .options import EngineOptions
from .plan import Plan
from .recording import Recorder, record_from_plan
from .report_data import WASTE_LABELS
from .report_time import parse_time
from .store import MetricsStore, open_store
from .store.urls import redact_url
from .transforms.opt_in import plain_text_tools, text_part_tools

app = typer.Typer(
    name="headroom",
    help="Count, audit and optimize the tokens of LLM chat requests.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Errors a user's input or environment can cause; anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, OSError, sqlite3.Error)


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    _err().print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(1)


# -- simulate ------------------------------------------------------------------------------


@app.command()
def simulate(
    request_file: Annotated[
        Path, typer.Argument(metavar="REQUEST.json", help="OpenAI request body or workload file")
    ],
    model: Annotated[
        str | None, typer.Option(help="Model to plan for (default: the body's)")
    ] = None,
    mode: Annotated[str, typer.Option(help="optimize or audit")] = "optimize",
    output_buffer_tokens: Annotated[
        int | None, typer.Option(help="Tokens reserved for the reply (default 4000)")
    ] = None,
    keep_turns: Annotated[
        int | None, typer.Option(help="Last turns never dropped (default 2)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the optimized request body to FILE")
    ] = None,
    tool_profiles: Annotated[
        str | None,
        typer.Option(
            "--tool-profiles",
            metavar="JSON",
            help='Per-tool profiles, e.g. \'{"search": {"max_array_items": 5}}\'',
        ),
    ] = None,
) -> None:
    """Show what Headroom would do to one request: tokens, transforms and waste."""
    try:
        request = load_request_file(request_file)
        engine = Headroom()
        options = engine.options(
            mode=mode,
            output_buffer_tokens=output_buffer_tokens,
            keep_turns=keep_turns,
            tool_profiles=_profiles_option(tool_profiles),
        )
        plan = engine.plan(request.messages, request.model(model), request.tools, options)
    except HeadroomBudgetError as exc:
        fail(f"the request cannot fit: {exc}")
    except USER_ERRORS as exc:
        fail(str(exc))
    if out is not None:
        optimized = {**request.body, "messages": plan.messages}
        try:
            out.write_text(json.dumps(optimized, ensure_ascii=False, indent=2) + "\n", "utf-8")
        except OSError as exc:
            fail(f"{out}: cannot write it ({exc.strerror})")
    if as_json:
        typer.echo(json.dumps(plan.to_dict(), indent=2))
    else:
        _print_plan(plan, _out())
        _print_text_hint(request.messages, options, _out())
    if out is not None and not as_json:
        _out().print(f"Wrote the {plan.mode}d request to {out}")


def _notes(details: dict[str, Any]) -> Text:
    """A transform's details in a line: ``left as is: 1 plain text, 2 malformed json``."""
    notes = []
    for key, value in details.items():
        label = key.replace("_", " ")
        if isinstance(value, dict):
            inner = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in value.items())
            notes.append(f"{label}: {inner}")
        elif value:
            notes.append(f"{label}: {value}")
    return printable("; ".join(notes))


def _profiles_option(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--tool-profiles: not valid JSON ({exc})") from None


def _print_text_hint(messages: list[Any], options: EngineOptions, console: Console) -> None:
    """Say which tools' output was left alone because only a profile opts it in (plain text,
    content-part lists), and how: a request full of logs otherwise looks like one Headroom
    cannot help."""
    kinds = (
        (plain_text_tools, "text_lines", "Plain-text output", "into line shortening"),
        (text_part_tools, "text_parts", "Output sent as a list of text parts", "in"),
    )
    for find, option, what, into in kinds:
        left = [name for name in find(messages) if not getattr(options.profile_for(name), option)]
        if not left:
            continue
        profiles = json.dumps({name: {option: True} for name in left})
        console.print(
            printable(
                f"{what} of {', '.join(left)} is left as it is unless a profile opts it {into}:"
                f" try --tool-profiles '{profiles}'"
            )
        )


def printable(text: str) -> Text:
    """A name taken from the request, printed as is: no rich markup, and anything UTF-8
    cannot encode (lone surrogates from odd input) as U+FFFD, so printing never fails."""
    return Text("".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text))


def _print_plan(plan: Plan, console: Console) -> None:
    pct = 100.0 * plan.tokens_saved / plan.tokens_before if plan.tokens_before else 0.0
    title = printable(f"Plan for {plan.model} ({plan.mode})")
    summary = Table(title=title, show_header=False)
    summary.add_column("what")
    summary.add_column("value", justify="right")
    for label, value in (
        ("tokens before", f"{plan.tokens_before:,}"),
        ("tokens after", f"{plan.tokens_after:,}"),
        ("tokens saved", f"{plan.tokens_saved:,} ({pct:.1f}%)"),
        ("estimated savings", f"${plan.estimated_savings:.6f}"),
        ("context window", f"{plan.context_window:,}"),
        ("budget (window - output buffer)", f"{plan.budget:,}"),
        ("fits", "yes" if plan.fits else "no"),
        ("dropped messages", f"{plan.dropped_messages:,}"),
    ):
        summary.add_row(label, value)
    console.print(summary)

    if plan.transforms:
        transforms = Table(title="Transforms")
        transforms.add_column("transform", no_wrap=True)
        transforms.add_column("tokens saved", justify="right", no_wrap=True)
        transforms.add_column("messages changed", justify="right", no_wrap=True)
        transforms.add_column("notes")
        for t in plan.transforms:
            transforms.add_row(
                t.name, f"{t.tokens_saved:,}", f"{t.messages_changed:,}", _notes(t.details)
            )
        console.print(transforms)

    waste = Table(title=f"Waste (Context MRI): {plan.waste.waste_tokens:,} tokens")
    waste.add_column("category")
    waste.add_column("tokens", justify="right")
    waste.add_column("share", justify="right")
    for category, tokens in plan.waste.by_category.items():
        share = 100.0 * tokens / plan.tokens_before if plan.tokens_before else 0.0
        waste.add_row(WASTE_LABELS.get(category, category), f"{tokens:,}", f"{share:.1f}%")
    console.print(waste)

    if plan.waste.by_tool:
        tools = Table(title="Tool output")
        tools.add_column("tool")
        tools.add_column("tokens", justify="right")
        for name, tokens in sorted(plan.waste.by_tool.items(), key=lambda kv: -kv[1]):
            tools.add_row(printable(name), f"{tokens:,}")
        console.print(tools)


# -- audit ---------------------------------------------------------------------------------


@app.command()
def audit(
    requests_file: Annotated[
        Path, typer.Argument(metavar="REQUESTS.jsonl", help="One logged request body per line")
    ],
    store: Annotated[str, typer.Option("--store", help="Store URL, e.g. sqlite:///headroom.db")],
    model: Annotated[str | None, typer.Option(help="Model for lines that name none")] = None,
) -> None:
    """Audit a file of logged requests into a metrics store (requests are not changed)."""
    try:
        total = count_lines(requests_file) if requests_file.is_file() else 0
        lines = iter_jsonl(requests_file)
        first = next(lines, None)
    except USER_ERRORS as exc:
        fail(str(exc))
    metrics = _open(store)
    recorder = Recorder(metrics)
    engine = Headroom(mode="audit")
    audited = 0
    skipped: list[tuple[int, str]] = []
    try:
        with _progress() as progress:
            task = progress.add_task("auditing", total=total)
            pending = [] if first is None else [first]
            for number, item in _chain(pending, lines):
                progress.advance(task)
                if isinstance(item, InputError):
                    skipped.append((number, str(item)))
                    continue
                try:
                    plan = engine.simulate(
                        item.messages,
                        model=item.model(None, model or "gpt-4o"),
                        tools=item.tools,
                        mode="audit",
                    )
                except ValueError as exc:
                    skipped.append((number, str(exc)))
                    continue
                record = record_from_plan(plan, source="cli", usage=item.usage)
                if item.timestamp is not None:
                    record = dataclasses.replace(record, timestamp=item.timestamp)
                if recorder.write(record):
                    audited += 1
    finally:
        recorder.close()
    _report_audit(requests_file, store, audited, skipped, recorder.dropped_records)


def _chain(first: list[Any], rest: Any) -> Any:
    yield from first
    yield from rest


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err(),
        transient=False,
    )


def _report_audit(
    path: Path, store: str, audited: int, skipped: list[tuple[int, str]], dropped: int
) -> None:
    console = _out()
    console.print(f"Audited {audited} requests from {path} into {redact_url(store)}")
    if skipped:
        where = ", ".join(str(n) for n, _ in skipped[:10]) + (", ..." if len(skipped) > 10 else "")
        console.print(f"Skipped {len(skipped)} invalid lines ({where}):")
        for number, reason in skipped[:10]:
            console.print(f"  line {number}: {reason}", markup=False)
    if dropped:
        fail(f"{dropped} records could not be written to {redact_url(store)}")
    if audited == 0:
        fail(f"{path}: no valid requests")


# -- report and stats ----------------------------------------------------------------------


@app.command()
def report(
    store: Annotated[str, typer.Option("--store", help="Store URL, e.g. sqlite:///headroom.db")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write")] = Path(
        "report.html"
    ),
    since: Annotated[str | None, typer.Option(help="From this date (YYYY-MM-DD, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="Up to and including this date")] = None,
) -> None:
    """Write the HTML report (one self-contained file) for a store."""
    from .report import generate_report

    try:
        parse_time(since)
        parse_time(until, end_of_day=True)
        _require_existing(store)
        path = generate_report(store_url=store, output_path=output, since=since, until=until)
    except USER_ERRORS as exc:
        fail(str(exc))
    _out().print(f"Wrote {path}")


@app.command()
def stats(
    store: Annotated[str, typer.Option("--store", help="Store URL, e.g. sqlite:///headroom.db")],
    since: Annotated[str | None, typer.Option(help="From this date (YYYY-MM-DD, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="Up to and including this date")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Print a store's summary: requests, tokens, savings, cache."""
    try:
        start, end = parse_time(since), parse_time(until, end_of_day=True)
        _require_existing(store)
        metrics = open_store(store)
        try:
            summary = metrics.summary(since=start, until=end)
        finally:
            metrics.close()
    except USER_ERRORS as exc:
        fail(str(exc))
    prompt = summary.get("total_prompt_tokens") or 0
    summary["cache_hit_rate"] = (
        round(summary.get("total_cached_tokens", 0) / prompt, 4) if prompt else None
    )
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    table = Table(title=f"Headroom store {redact_url(store)}", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), _format(key, value))
    _out().print(table)


def _format(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key == "cache_hit_rate":
        return f"{100 * value:.1f}%"
    if key.endswith("_usd"):
        return f"${value:,.4f}"
    if isinstance(value, (int, float)):
        return f"{value:,}"
    return str(value)


# -- helpers -------------------------------------------------------------------------------


def _open(url: str) -> MetricsStore:
    try:
        return open_store(url)
    except USER_ERRORS as exc:
        fail(str(exc))


def _require_existing(url: str) -> None:
    """Reading a file store that does not exist is a typo, not an empty store."""
    if url.startswith("sqlite:///"):
        from .store.sqlite import path_from_url as sqlite_path

        path = Path(sqlite_path(url))
    elif url.startswith("jsonl://"):
        from .store.jsonl import path_from_url as jsonl_path

        path = Path(jsonl_path(url))
    else:
        return
    if not path.exists():
        raise ValueError(
            f"no store at {path} ({url}); record into it first, e.g. "
            f"headroom audit REQUESTS.jsonl --store {url}"
        )


def main() -> None:
    """Entry point of the ``headroom`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        _err().print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback, unless debugging
        if os.environ.get("HEADROOM_DEBUG"):
            raise
        _err().print(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(set HEADROOM_DEBUG=1 for the traceback)",
            markup=False,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
