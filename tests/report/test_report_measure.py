"""With stored content the report measures a tool profile instead of estimating it."""

from __future__ import annotations

import json
from pathlib import Path

from headroom import Headroom
from headroom.recording import record_from_plan
from headroom.report import render_report
from headroom.report_advice import recommend
from headroom.report_data import build_report_data
from headroom.report_measure import MeasuredProfile, measure_profiles, measure_text_profiles
from headroom.store import RequestRecord

SESSION = Path(__file__).resolve().parents[2] / "examples" / "agent_session.json"


def stored_session() -> tuple[RequestRecord, dict[str, object]]:
    body = json.loads(SESSION.read_text())
    plan = Headroom().simulate(body["messages"], body["model"], body["tools"], mode="audit")
    content = {"messages": body["messages"], "tools": body["tools"]}
    return record_from_plan(plan, source="cli", content=content), body


def test_measured_saving_is_the_engine_s_own_difference() -> None:
    record, body = stored_session()
    measured = measure_profiles([record], {"search_incidents": 3, "list_deployments": 5})
    engine = Headroom()
    base = engine.simulate(body["messages"], "gpt-4o", body["tools"]).tokens_after
    tuned = engine.simulate(
        body["messages"],
        "gpt-4o",
        body["tools"],
        tool_profiles={"search_incidents": {"max_array_items": 3}},
    ).tokens_after
    search = measured["search_incidents"]
    assert (search.requests, search.limit) == (1, 3)
    assert search.extra_tokens == base - tuned > 0
    assert search.saved_tokens == record.tokens_before - tuned
    assert "fetch_logs" not in measured  # not asked for


def test_recommendation_uses_the_measurement_and_drops_profiles_that_add_nothing() -> None:
    # twelve stored requests: the saving beyond the built-in profile (~45 tokens each) must
    # pass the 500-token bar for advice
    records = [stored_session()[0] for _ in range(12)]
    data = build_report_data(records)
    measured = measure_profiles(records, {"search_incidents": 3, "fetch_logs": 5})
    assert measured["search_incidents"].requests == 12
    assert measured["search_incidents"].extra_tokens >= 500
    assert measured["fetch_logs"].extra_tokens == 0  # the built-in profile already does it
    found = recommend(data, measured)
    by_title = {r.title: r for r in found}
    search = by_title["Give tool search_incidents a profile {max_array_items: 3}"]
    assert search.tokens == measured["search_incidents"].extra_tokens
    assert search.detail.startswith("Measured on 12 stored requests")
    assert not any("fetch_logs" in r.title for r in found)
    # A measured profile that saves (almost) nothing beyond the built-in one is not advice.
    small = {"search_incidents": MeasuredProfile("search_incidents", 3, 1, 10, 5000)}
    assert not any(
        r.kind == "tool_profile" and "search_incidents" in r.title for r in recommend(data, small)
    )


def test_records_without_content_are_not_measured() -> None:
    record, _ = stored_session()
    record.content = None
    assert measure_profiles([record], {"search_incidents": 3}) == {}


def test_report_shows_the_measured_recommendation() -> None:
    html = render_report([stored_session()[0] for _ in range(6)])
    assert "Measured on 6 stored requests" in html


def _log_request(seed: int) -> dict[str, object]:
    lines = [
        f"2026-11-27T10:{i // 60:02d}:{i % 60:02d}Z INFO worker-{i % 7} heartbeat ok seq={seed}{i}"
        for i in range(1500)
    ]
    lines[900] = "2026-11-27T10:15:00Z ERROR worker-3 payment gateway timeout after 30s"
    call = {
        "id": "call_logs",
        "type": "function",
        "function": {"name": "tail_logs", "arguments": '{"service": "payments"}'},
    }
    return {
        "model": "gpt-4o",
        "tools": None,
        "messages": [
            {"role": "user", "content": "Why did payments fail last night?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_logs", "content": "\n".join(lines)},
        ],
    }


def _stored(body: dict[str, object]) -> RequestRecord:
    plan = Headroom().simulate(body["messages"], "gpt-4o", mode="audit")  # type: ignore[arg-type]
    content = {"messages": body["messages"], "tools": None}
    return record_from_plan(plan, source="cli", content=content)


def test_plain_text_output_is_measured_with_line_shortening() -> None:
    """The built-in profile leaves plain text alone; the report measures what opting the
    tool in would save, exactly, and keeps JSON tools out of it."""
    body = _log_request(1)
    records = [_stored(body), stored_session()[0]]
    measured = measure_text_profiles(records)
    assert set(measured) == {"tail_logs"}
    engine = Headroom()
    base = engine.simulate(body["messages"], "gpt-4o").tokens_after  # type: ignore[arg-type]
    tuned = engine.simulate(
        body["messages"],
        "gpt-4o",
        tool_profiles={"tail_logs": {"text_lines": True}},  # type: ignore[arg-type]
    ).tokens_after
    logs = measured["tail_logs"]
    assert logs.requests == 1 and logs.settings == {"text_lines": True}
    assert logs.extra_tokens == base - tuned > 10_000
    (advice,) = [
        r for r in recommend(build_report_data(records), None, measured) if "tail_logs" in r.title
    ]
    assert advice.action == 'headroom_tool_profiles={"tail_logs": {"text_lines": true}}'
    assert advice.tokens == logs.extra_tokens
    html = render_report(records)
    assert "Opt tool tail_logs&#39;s plain-text output into line shortening" in html


def test_short_or_unstored_text_is_not_measured() -> None:
    body = _log_request(2)
    body["messages"][2]["content"] = "one line of plain text"  # type: ignore[index]
    assert measure_text_profiles([_stored(body)]) == {}
    unstored = _stored(_log_request(3))
    unstored.content = None
    assert measure_text_profiles([unstored]) == {}


def test_output_sent_as_text_parts_is_measured_with_text_parts() -> None:
    rows = [{"id": i, "status": "ok", "latency_ms": 20 + i % 9} for i in range(400)]
    body = _log_request(4)
    body["messages"][2]["content"] = [  # type: ignore[index]
        {"type": "text", "text": json.dumps({"rows": rows}, indent=2)}
    ]
    records = [_stored(body)]
    measured = measure_text_profiles(records)
    assert set(measured) == {"tail_logs"}
    parts = measured["tail_logs"]
    assert parts.settings == {"text_parts": True} and parts.extra_tokens > 5_000
    (advice,) = [
        r for r in recommend(build_report_data(records), None, measured) if "tail_logs" in r.title
    ]
    assert advice.title == "Opt tool tail_logs's output sent as text parts into compression"
    assert advice.action == 'headroom_tool_profiles={"tail_logs": {"text_parts": true}}'
