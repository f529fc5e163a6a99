"""``generate_report``: one self-contained HTML file showing where a store's tokens go.

No CDN, no fonts, no external scripts: charts are inline SVG and the one small script (table
sorting) is inline and pinned by a Content-Security-Policy hash, so the file opens offline and
can be mailed. Every value from the store is HTML-escaped by jinja2's autoescape.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import time
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .plan import WASTE_CATEGORIES
from .report_advice import recommend, suggested_array_limit
from .report_charts import compact, horizontal_bars, vertical_bars
from .report_data import WASTE_LABELS, ReportData, build_report_data
from .report_measure import measure_profiles, measure_text_profiles
from .report_time import TimeBound, format_time, parse_time
from .store import RequestRecord, open_store
from .store.urls import redact_url

WASTE_COLORS = {
    "json_whitespace": "#7aa6ef",
    "oversized_tool_output": "#2f6fdf",
    "repeated_content": "#d98b2b",
    "dynamic_prefix": "#8a63d2",
    "beyond_window": "#d2495a",
    "blobs": "#3aa17e",
}
MAX_TOOL_BARS = 10


def generate_report(
    store_url: str,
    output_path: str | os.PathLike[str] = "report.html",
    since: TimeBound = None,
    until: TimeBound = None,
) -> Path:
    """Write the report for the records in ``store_url`` (optionally between ``since`` and
    ``until``: dates, datetimes, ISO strings or epoch seconds) and return its path."""
    start = parse_time(since)
    end = parse_time(until, end_of_day=True)
    if start is not None and end is not None and start >= end:
        raise ValueError("since must be earlier than until")
    store = open_store(store_url)
    try:
        records = store.query(limit=None, since=start, until=end)
    finally:
        store.close()
    html = render_report(records, store_url=store_url, since=start, until=end)
    path = Path(output_path)
    _write_atomically(path, html)
    return path


def render_report(
    records: Sequence[RequestRecord],
    *,
    store_url: str = "",
    since: float | None = None,
    until: float | None = None,
    generated: float | None = None,
) -> str:
    """The report's HTML for ``records``."""
    data = build_report_data(records, since=since, until=until)
    measured = measure_profiles(
        data.records, {t.tool: suggested_array_limit(t) for t in data.tools}
    )
    script = _script()
    from . import __version__

    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            recommendations=(
                recommend(data, measured, measure_text_profiles(data.records))
                if not data.empty
                else []
            ),
            waste_chart=_waste_chart(data),
            time_chart=_time_chart(data),
            tool_chart=_tool_chart(data),
            categories=WASTE_CATEGORIES,
            colors=WASTE_COLORS,
            labels=WASTE_LABELS,
            store_url=redact_url(store_url),
            period=_period(since, until),
            generated=format_time(time.time() if generated is None else generated),
            version=__version__,
            script=script,
            script_hash="sha256-"
            + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode(),
        )
    )


def _waste_chart(data: ReportData) -> Any:
    rows = [w for w in data.waste if w.tokens > 0]
    return horizontal_bars(
        "waste",
        [(w.label, w.tokens) for w in rows],
        colors=[WASTE_COLORS.get(w.category, "#2f6fdf") for w in rows],
    )


def _time_chart(data: ReportData) -> Any:
    return vertical_bars(
        "tokens-over-time",
        [(b.label, b.tokens_before, b.tokens_after) for b in data.timeline],
    )


def _tool_chart(data: ReportData) -> Any:
    return horizontal_bars("tools", [(t.tool, t.output_tokens) for t in data.tools[:MAX_TOOL_BARS]])


def _period(since: float | None, until: float | None) -> str:
    if since is None and until is None:
        return ""
    start = format_time(since) if since is not None else "the first request"
    end = f"before {format_time(until)}" if until is not None else "the last request"
    return f"from {start} to {end}"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("headroom", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v: f"{v:,.0f}"
    env.filters["pct"] = lambda v: f"{v:.1f}%"
    env.filters["usd"] = _usd
    env.filters["when"] = lambda v: format_time(v) if v is not None else "n/a"
    env.filters["compact"] = compact
    return env


def _usd(value: float) -> str:
    if value and abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


@lru_cache(maxsize=1)
def _script() -> str:
    return resources.files("headroom").joinpath("templates/report.js").read_text("utf-8")


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, so a reader never sees half a report."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot write the report: folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".headroom-report-", suffix=".html", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
