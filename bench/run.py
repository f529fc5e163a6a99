"""Headroom's engine on the shared agent workloads: quality, speed and prompt-cache economics.

    python bench/run.py [--filter TEXT] [--tool-profiles JSON]

Prints one table per question: what was saved and kept (every needle, every request within
gpt-4o's window with a 4,000-token output buffer), how long the engine took (cold, against one
tiktoken pass over the request's text, each cold run paired with a pass and the median of five
ratios taken; and warm, as in an agent loop, the median of five new questions), and, replaying each
multi-turn session as the agent loop that produced it, the prefix-cache hit rate and the
effective input cost of the optimized requests against the unchanged ones.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from headroom import Headroom, count_tokens, questions  # noqa: E402
from headroom.encodings import get_encoding  # noqa: E402
from headroom.models import resolve_model  # noqa: E402
from headroom.tokens import clear_cache  # noqa: E402
from headroom.transforms import (  # noqa: E402
    cache_alignment,
    empty_fields,
    flags,
    json_null_fields,
    named_values,
    neighbours,
    rankings,
    recall,
    spellings,
    thresholds,
    tool_output,
)
from tests.support.prefix_cache import PrefixCache  # noqa: E402

WORKLOADS = ROOT.parent / "shared" / "workloads" / "dev"
# Cold engine runs, each followed by a tiktoken pass over the same request: the ratio is the
# median of the runs' ratios, so a load change on the machine affects both sides alike.
TIMING_RUNS = 5


def cold_engine() -> Headroom:
    """A new engine with every memo emptied, as in a fresh process (compiled regexes too:
    a new question's terms make a new pattern)."""
    clear_cache()
    re.purge()
    questions.clear_caches()
    named_values.question_spans.cache_clear()
    rankings.ranking.cache_clear()
    rankings.question_stems.cache_clear()
    rankings.asks_for_the_last.cache_clear()
    rankings.date_columns_memo.clear()
    empty_fields.lacked_fields.cache_clear()
    empty_fields.held_fields.cache_clear()
    neighbours.neighbour_reach.cache_clear()
    thresholds.comparisons.cache_clear()
    thresholds.date_comparisons.cache_clear()
    flags._question_words.cache_clear()
    spellings.unaccented.cache_clear()
    cache_alignment._align_cached.cache_clear()
    tool_output._memo = tool_output._Memo()
    tool_output._candidates = tool_output._Memo()
    recall._memo = recall._Memo()
    recall._outputs = recall._Memo(max_entries=32)
    recall._asked_of = recall._Memo(max_entries=256)
    recall._visible_json.cache_clear()
    recall._recall_body.cache_clear()
    flags.spells_field.cache_clear()
    json_null_fields._listable.cache_clear()
    from headroom import analysis
    from headroom.transforms import json_compress

    analysis._memo = analysis._FactMemo()
    json_compress._parsed = json_compress._ParseMemo()
    json_compress._minified = json_compress._ParseMemo()
    json_compress._signals_memo.clear()
    json_compress._parts_memo.clear()
    json_compress._columns_memo.clear()
    return Headroom()


def request_text(request: dict[str, Any]) -> list[str]:
    texts = []
    for message in request["messages"]:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        for call in message.get("tool_calls") or []:
            texts.append(call["function"]["arguments"])
    texts.append(json.dumps(request.get("tools") or []))
    return texts


def one_tiktoken_pass(texts: list[str], encoding: str) -> float:
    enc = get_encoding(encoding)
    start = time.perf_counter()
    for text in texts:
        enc.encode_ordinary(text)
    return time.perf_counter() - start


def needles_missing(messages: list[Any], needles: list[str]) -> int:
    blob = "\n".join(m["content"] for m in messages if isinstance(m.get("content"), str))
    return sum(1 for n in needles if n not in blob and json.dumps(n)[1:-1] not in blob)


def replay_points(messages: list[Any]) -> list[int]:
    """Request lengths of the agent loop: one request per point where the assistant answers,
    and the final request."""
    points = [j for j, m in enumerate(messages) if m.get("role") == "assistant" and j > 0]
    if len(messages) not in points:
        points.append(len(messages))
    return points


def session_economics(
    request: dict[str, Any], profiles: dict[str, Any] | None = None
) -> dict[str, float]:
    """Replay the agent loop with and without Headroom through a simulated prefix cache.

    Besides the hit rate (cached / prompt tokens), ``reuse`` is the share of each previous
    request that the next one got from the cache: 100% means a prefix-stable session; it drops
    only where a request changes what was sent before (the window sliding).
    """
    messages, tools, model = request["messages"], request.get("tools"), request["model"]
    info = resolve_model(model)
    engine = Headroom()
    totals = dict.fromkeys(
        (
            "plain_prompt",
            "plain_cached",
            "opt_prompt",
            "opt_cached",
            "plain_prev",
            "opt_prev",
            "plain_reused",
            "opt_reused",
            "plain_hits",
            "opt_hits",
        ),
        0,
    )
    plain_cache, opt_cache = PrefixCache(), PrefixCache()
    plain_before = opt_before = 0
    for point in replay_points(messages):
        prefix = messages[:point]
        plain_tokens = count_tokens(prefix, model, tools)
        plain_cached = plain_cache.cached_tokens(
            {"model": model, "messages": prefix, "tools": tools}, plain_tokens
        )
        plan = engine.simulate(prefix, model=model, tools=tools, tool_profiles=profiles)
        opt_cached = opt_cache.cached_tokens(
            {"model": model, "messages": plan.messages, "tools": tools}, plan.tokens_after
        )
        totals["plain_prompt"] += plain_tokens
        totals["plain_cached"] += plain_cached
        totals["opt_prompt"] += plan.tokens_after
        totals["opt_cached"] += opt_cached
        totals["plain_hits"] += 1 if plain_cached else 0
        totals["opt_hits"] += 1 if opt_cached else 0
        # Reuse counts only where the previous request was long enough to be cached at all.
        if plain_before >= 1024:
            totals["plain_prev"] += plain_before
            totals["plain_reused"] += min(plain_cached, plain_before)
        if opt_before >= 1024:
            totals["opt_prev"] += opt_before
            totals["opt_reused"] += min(opt_cached, opt_before)
        plain_before, opt_before = plain_tokens, plan.tokens_after
    return {
        "requests": len(replay_points(messages)),
        "plain_hits": totals["plain_hits"],
        "opt_hits": totals["opt_hits"],
        "plain_hit": totals["plain_cached"] / max(totals["plain_prompt"], 1),
        "opt_hit": totals["opt_cached"] / max(totals["opt_prompt"], 1),
        "plain_reuse": totals["plain_reused"] / totals["plain_prev"] if totals["plain_prev"] else 1,
        "opt_reuse": totals["opt_reused"] / totals["opt_prev"] if totals["opt_prev"] else 1,
        "plain_cost": info.input_cost(totals["plain_prompt"], totals["plain_cached"]),
        "opt_cost": info.input_cost(totals["opt_prompt"], totals["opt_cached"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="", help="only workloads whose name contains this")
    parser.add_argument(
        "--tool-profiles",
        type=json.loads,
        default=None,
        help="tool profiles as JSON, e.g. "
        '\'{"*": {"text_lines": true, "shorten_arrays_over": 20}}\'',
    )
    args = parser.parse_args()
    profiles = args.tool_profiles
    files = sorted(p for p in WORKLOADS.glob("*.json") if args.filter in p.stem)
    if not files:
        sys.exit(f"no workloads found in {WORKLOADS}")
    console = Console(width=170)
    quality = Table(title="Quality and speed per workload (gpt-4o, 4,000-token output buffer)")
    for col in (
        "workload",
        "before",
        "after",
        "saved",
        "needles",
        "fits",
        "cold ms",
        "tiktoken ms",
        "cold/tiktoken",
        "warm ms",
    ):
        quality.add_column(col, justify="right" if col != "workload" else "left")
    sessions = Table(
        title="Agent-loop replay with a simulated prefix cache (1,024 min, 128 steps); "
        "prefix reuse = share of each previous request served from the cache"
    )
    for col in (
        "workload",
        "requests",
        "hit rate unchanged",
        "hit rate optimized",
        "requests hit unchanged",
        "requests hit optimized",
        "prefix reuse unchanged",
        "prefix reuse optimized",
        "cost unchanged $",
        "cost optimized $",
        "cost ratio",
    ):
        sessions.add_column(col, justify="right" if col != "workload" else "left")
    get_encoding("o200k_base"), get_encoding("cl100k_base")  # load once, outside the timings
    saved, ratios, warm_all, missing_total, unfit = [], [], [], 0, 0
    cold_total = tiktoken_total = 0.0
    econ_rows = []
    for path in files:
        workload = json.loads(path.read_text())
        request = workload["request"]
        info = resolve_model(request["model"])
        colds, passes = [], []
        texts = request_text(request)
        for _ in range(TIMING_RUNS):  # engine and tiktoken in turn: both see the same load
            engine = cold_engine()
            start = time.perf_counter()
            plan = engine.simulate(
                request["messages"],
                model=request["model"],
                tools=request.get("tools"),
                tool_profiles=profiles,
            )
            colds.append(time.perf_counter() - start)
            clear_cache()
            passes.append(one_tiktoken_pass(texts, info.encoding))
        cold = statistics.median(colds)
        tiktoken_pass = statistics.median(passes)
        ratio = statistics.median(c / t for c, t in zip(colds, passes, strict=True))
        engine.simulate(
            request["messages"],
            model=request["model"],
            tools=request.get("tools"),
            tool_profiles=profiles,
        )
        warms = []
        for run in range(TIMING_RUNS):  # each time the same history plus a new question
            grown = [
                *json.loads(json.dumps(request["messages"])),
                {"role": "user", "content": f"Thanks. One more question about that ({run})."},
            ]
            start = time.perf_counter()
            engine.simulate(
                grown, model=request["model"], tools=request.get("tools"), tool_profiles=profiles
            )
            warms.append(time.perf_counter() - start)
        warm = statistics.median(warms)
        missing = needles_missing(plan.messages, workload["needles"])
        missing_total += missing
        unfit += 0 if plan.fits else 1
        share = plan.tokens_saved / plan.tokens_before
        saved.append(share)
        ratios.append(ratio)
        cold_total += cold
        tiktoken_total += tiktoken_pass
        warm_all.append(warm * 1000)
        quality.add_row(
            path.stem[:44],
            f"{plan.tokens_before:,}",
            f"{plan.tokens_after:,}",
            f"{share:.1%}",
            f"{len(workload['needles']) - missing}/{len(workload['needles'])}",
            "yes" if plan.fits else "NO",
            f"{cold * 1000:.0f}",
            f"{tiktoken_pass * 1000:.0f}",
            f"{ratio:.2f}",
            f"{warm * 1000:.2f}",
        )
        if len(replay_points(request["messages"])) > 1:
            econ = session_economics(request, profiles)
            messages = request["messages"]
            econ["user_turns"] = sum(1 for m in messages if m.get("role") == "user")
            econ["tool_outputs"] = sum(1 for m in messages if m.get("role") == "tool")
            econ_rows.append(econ)
            sessions.add_row(
                path.stem[:44],
                str(econ["requests"]),
                f"{econ['plain_hit']:.1%}",
                f"{econ['opt_hit']:.1%}",
                str(econ["plain_hits"]),
                str(econ["opt_hits"]),
                f"{econ['plain_reuse']:.1%}",
                f"{econ['opt_reuse']:.1%}",
                f"{econ['plain_cost']:.4f}",
                f"{econ['opt_cost']:.4f}",
                f"{econ['opt_cost'] / econ['plain_cost']:.2f}",
            )
    console.print(quality)
    console.print(sessions)
    summary = Table(title="Summary")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    summary.add_row("workloads", str(len(files)))
    summary.add_row("median tokens saved", f"{statistics.median(saved):.1%}")
    summary.add_row("needles lost", str(missing_total))
    summary.add_row("requests over the window", str(unfit))
    summary.add_row(
        "cold / one tiktoken pass (median, max)",
        f"{statistics.median(ratios):.2f}, {max(ratios):.2f}",
    )
    summary.add_row(
        "cold / one tiktoken pass, all workloads summed",
        f"{cold_total / tiktoken_total:.2f}" if tiktoken_total else "-",
    )
    summary.add_row(
        "warm ms (median, max)", f"{statistics.median(warm_all):.2f}, {max(warm_all):.2f}"
    )
    if econ_rows:
        worse = sum(1 for e in econ_rows if e["opt_hit"] < e["plain_hit"])
        summary.add_row("sessions with a lower hit rate than unchanged", str(worse))
        summary.add_row(
            "sessions with fewer requests served from the cache than unchanged",
            str(sum(1 for e in econ_rows if e["opt_hits"] < e["plain_hits"])),
        )
        summary.add_row(
            "sessions with a lower prefix reuse than unchanged",
            str(sum(1 for e in econ_rows if e["opt_reuse"] < e["plain_reuse"])),
        )
        summary.add_row(
            "sessions at or under half the unchanged cost",
            f"{sum(1 for e in econ_rows if e['opt_cost'] <= e['plain_cost'] / 2)}"
            f" of {len(econ_rows)}",
        )
        for label, group in (
            ("multi-turn sessions (2+ user turns)", [e for e in econ_rows if e["user_turns"] > 1]),
            ("agent loops (2+ tool outputs)", [e for e in econ_rows if e["tool_outputs"] > 1]),
        ):
            summary.add_row(
                f"{label}: lower hit rate / at or under half the cost",
                f"{sum(1 for e in group if e['opt_hit'] < e['plain_hit'])}"
                f" / {sum(1 for e in group if e['opt_cost'] <= e['plain_cost'] / 2)}"
                f" of {len(group)}",
            )
        summary.add_row(
            "max cost ratio (optimized / unchanged)",
            f"{max(e['opt_cost'] / e['plain_cost'] for e in econ_rows):.2f}",
        )
    console.print(summary)


if __name__ == "__main__":
    main()
