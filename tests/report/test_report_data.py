"""The report's numbers, checked by hand against the seeded records."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from headroom import Headroom
from headroom.models import resolve_model
from headroom.recording import record_from_plan
from headroom.report import render_report
from headroom.report_advice import recommend
from headroom.report_data import build_report_data, cacheable, potential_savings
from headroom.report_time import parse_time
from headroom.store import RequestRecord

from .conftest import ATTR_TOOL, DAY0, IMG_MODEL, SCRIPT_TOOL, seed_records


def test_headline_totals() -> None:
    head = build_report_data(seed_records()).headline
    assert (head.requests, head.audit_count, head.optimize_count) == (3, 2, 1)
    assert (head.tokens_before, head.tokens_after, head.tokens_saved) == (23000, 20000, 3000)
    assert head.usd_saved == pytest.approx(0.0075)
    # Audited: r1 would save its compressible output (1500 + 4000), r2 its whitespace (500).
    assert head.potential_tokens == 6000
    assert head.potential_usd == pytest.approx(6000 * 2.50 / 1e6)
    assert head.cache_hit_rate == pytest.approx(100 * 1024 / 18000)
    assert head.tpm_gain_pct == pytest.approx(100 * (23000 / 20000 - 1))
    assert head.tpm_gain_potential_pct == pytest.approx(100 * (23000 / 14000 - 1))


def test_potential_savings_is_the_larger_of_compression_and_the_window_overflow() -> None:
    record = RequestRecord(
        model="gpt-4o",
        mode="audit",
        tokens_before=9000,
        waste={"json_whitespace": 100, "beyond_window": 700},
    )
    assert potential_savings(record) == 700
    record.waste["oversized_tool_output"] = 900
    assert potential_savings(record) == 1000


def test_waste_by_category_sums_every_record() -> None:
    rows = {w.category: w for w in build_report_data(seed_records()).waste}
    assert rows["json_whitespace"].tokens == 2600
    assert rows["oversized_tool_output"].tokens == 6500
    assert rows["dynamic_prefix"].tokens == 2400
    assert rows["blobs"].tokens == 0
    assert rows["json_whitespace"].pct_of_tokens == pytest.approx(100 * 2600 / 23000)


def test_timeline_is_daily_with_empty_days_kept() -> None:
    data = build_report_data(seed_records())
    assert data.bucket == "day"
    assert [b.label for b in data.timeline] == [
        "2026-11-02",
        "2026-11-03",
        "2026-11-04",
        "2026-11-05",
    ]
    assert [b.requests for b in data.timeline] == [1, 1, 0, 1]
    assert [b.tokens_before for b in data.timeline] == [12000, 6000, 0, 5000]
    assert [b.tokens_after for b in data.timeline] == [6500, 5500, 0, 2000]


def test_timeline_is_hourly_over_short_spans() -> None:
    records = seed_records()[:1] + [
        RequestRecord(model="gpt-4o", mode="audit", timestamp=DAY0 + 5 * 3600 + 10)
    ]
    data = build_report_data(records)
    assert data.bucket == "hour"
    assert len(data.timeline) == 6


def test_top_requests_rank_by_waste_with_their_breakdown() -> None:
    top = build_report_data(seed_records()).top
    assert [t.record.id for t in top] == ["r1", "r3", "r2"]
    assert top[0].waste_tokens == 6700
    assert top[0].breakdown == [
        ("json_whitespace", 1500),
        ("oversized_tool_output", 4000),
        ("dynamic_prefix", 1200),
    ]
    assert top[0].tools == sorted(["search_docs", SCRIPT_TOOL])


def test_per_model_and_per_tool_tables() -> None:
    data = build_report_data(seed_records())
    models = {m.model: m for m in data.models}
    assert models["gpt-4o"].requests == 2
    assert models["gpt-4o"].potential_tokens == 6000
    assert models["gpt-4o"].cached_tokens == 1024
    assert models[IMG_MODEL].tokens_saved == 3000
    tools = {t.tool: t for t in data.tools}
    # r1's 5,500 compressible tokens split 8,000 : 2,000 between its two tools.
    assert tools["search_docs"].compressible_tokens == 4400 + 500
    assert tools[SCRIPT_TOOL].compressible_tokens == 1100
    assert tools["run_sql"].compressible_tokens == round(3100 * 3 / 4)
    assert tools[ATTR_TOOL].compressible_tokens == round(3100 / 4)
    assert tools["search_docs"].requests == 2
    assert tools["search_docs"].max_tokens == 8000
    assert [t.tool for t in data.tools][0] == "search_docs"


def test_cache_analysis_sees_a_date_only_prefix_change() -> None:
    cache = build_report_data(seed_records()).cache
    assert (cache.distinct_prefixes, cache.distinct_stable_prefixes) == (3, 2)
    assert (cache.prefix_changes, cache.dynamic_changes) == (1, 1)
    assert cache.recoverable_tokens == cacheable(1200) == 1152
    info = resolve_model("gpt-4o")
    assert cache.recoverable_usd == pytest.approx(
        1152 * (info.input_price - info.cached_input_price) / 1e6
    )
    assert cache.cached_tokens == 1024


def test_cacheable_follows_openai_steps() -> None:
    assert [cacheable(n) for n in (0, 1023, 1024, 1151, 1152, 5000)] == [
        0,
        0,
        1024,
        1024,
        1152,
        4992,
    ]


def test_recommendations_name_the_tool_the_limit_and_the_saving() -> None:
    found = recommend(build_report_data(seed_records()))
    by_title = {r.title: r for r in found}
    search = by_title["Give tool search_docs a profile {max_array_items: 5}"]
    assert search.tokens == 4900
    assert search.action == 'headroom_tool_profiles={"search_docs": {"max_array_items": 5}}'
    assert by_title[f"Give tool {SCRIPT_TOOL} a profile {{max_array_items: 5}}"].tokens == 1100
    kinds = [r.kind for r in found]
    assert kinds.count("optimize_mode") == 1 and kinds.count("cache_alignment") == 1
    assert next(r for r in found if r.kind == "optimize_mode").tokens == 6000
    assert next(r for r in found if r.kind == "cache_alignment").tokens == 1152
    assert [r.tokens for r in found] == sorted((r.tokens for r in found), reverse=True)


def test_no_recommendations_without_waste() -> None:
    clean = [
        RequestRecord(
            model="gpt-4o",
            mode="audit",
            tokens_before=500,
            tokens_after=500,
            prefix_hash="p",
            stable_prefix_hash="s",
        )
    ]
    assert recommend(build_report_data(clean)) == []


def test_window_recommendation_for_audited_requests_over_budget() -> None:
    over = RequestRecord(
        model="gpt-4",
        mode="audit",
        tokens_before=9000,
        tokens_after=9000,
        context_window=8192,
        waste={"beyond_window": 4808},
    )
    found = recommend(build_report_data([over]))
    window = next(r for r in found if r.kind == "window")
    assert window.tokens == 4808
    assert "8,192-token window" in window.detail


def test_time_bounds_parse_dates_datetimes_and_epochs() -> None:
    midnight = datetime(2026, 11, 20, tzinfo=UTC).timestamp()
    assert parse_time("2026-11-20") == midnight
    assert parse_time("2026-11-20", end_of_day=True) == midnight + 86400
    assert parse_time(date(2026, 11, 20)) == midnight
    assert parse_time("2026-11-20T06:00:00Z") == midnight + 6 * 3600
    assert parse_time("2026-11-20T06:00") == midnight + 6 * 3600
    assert parse_time(datetime(2026, 11, 20, 6, tzinfo=UTC)) == midnight + 6 * 3600
    assert parse_time(midnight) == midnight
    assert parse_time(None) is None
    for bad in ("yesterday", "2026-13-01", "", True):
        with pytest.raises(ValueError, match="date"):
            parse_time(bad)  # type: ignore[arg-type]


def test_a_date_already_after_the_static_text_is_no_cache_loss() -> None:
    """Two days of a prompt whose date line comes last: the prefix hash changes, the stable
    one does not, and nothing is recoverable (the cache serves all before the date)."""
    records = []
    for day in ("2025-09-19", "2025-09-20"):
        messages = [
            {"role": "system", "content": "You are the on-call helper.\n\nToday is " + day},
            {"role": "user", "content": "Anything on fire?"},
        ]
        plan = Headroom().simulate(messages, mode="audit")
        records.append(record_from_plan(plan, source="cli"))
    cache = build_report_data(records).cache
    assert (cache.prefix_changes, cache.dynamic_changes) == (1, 0)
    assert cache.trailing_date_changes == 1 and cache.recoverable_tokens == 0
    assert not [r for r in recommend(build_report_data(records)) if r.kind == "cache_alignment"]
    assert "only a date or time after the stable part" in render_report(records)
