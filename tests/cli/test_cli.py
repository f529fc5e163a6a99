"""The ``headroom`` command through typer's runner, and once for real as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from headroom import Headroom
from headroom.cli import app
from headroom.store import open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SESSION = EXAMPLES / "agent_session.json"
REQUESTS = EXAMPLES / "requests.jsonl"
runner = CliRunner()


def session_plan(mode: str = "optimize") -> dict[str, object]:
    body = json.loads(SESSION.read_text())
    return Headroom().simulate(body["messages"], body["model"], body["tools"], mode=mode).to_dict()


def test_simulate_prints_the_plan_as_tables() -> None:
    result = runner.invoke(app, ["simulate", str(SESSION)])
    assert result.exit_code == 0, result.output
    plan = session_plan()
    for text in (
        "Plan for gpt-4o (optimize)",
        f"{plan['tokens_before']:,}",
        f"{plan['tokens_after']:,}",
        "tool_output_compression",
        "Oversized tool output",
        "search_incidents",
    ):
        assert text in result.stdout


def test_simulate_names_plain_text_left_alone_and_takes_tool_profiles(tmp_path: Path) -> None:
    log = "\n".join(f"10:00:{i % 60:02d} INFO request {i} served in 12 ms" for i in range(400))
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Any slow requests?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "tail_log", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": log},
        ],
    }
    path = write(tmp_path, "logs.json", json.dumps(body))
    plain = runner.invoke(app, ["simulate", path], env={"COLUMNS": "200"})
    assert plain.exit_code == 0, plain.output
    assert "left as is: 1 plain text" in plain.stdout
    hint = 'try --tool-profiles \'{"tail_log": {"text_lines": true}}\''
    assert hint in " ".join(plain.stdout.split())
    opted = runner.invoke(
        app, ["simulate", path, "--json", "--tool-profiles", '{"tail_log": {"text_lines": true}}']
    )
    assert opted.exit_code == 0, opted.output
    expected = Headroom().simulate(
        body["messages"], "gpt-4o", tool_profiles={"tail_log": {"text_lines": True}}
    )
    assert json.loads(opted.stdout) == json.loads(json.dumps(expected.to_dict()))
    assert expected.tokens_saved > 1000
    json_tools = runner.invoke(app, ["simulate", str(SESSION)])
    assert "text_lines" not in json_tools.stdout
    body["messages"][2]["content"] = [{"type": "text", "text": log}]
    parts = runner.invoke(app, ["simulate", write(tmp_path, "parts.json", json.dumps(body))])
    assert 'try --tool-profiles \'{"tail_log": {"text_parts": true}}\'' in " ".join(
        parts.stdout.split()
    )


def test_simulate_json_is_the_plan() -> None:
    result = runner.invoke(app, ["simulate", str(SESSION), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == session_plan()


def test_simulate_audit_mode_changes_nothing() -> None:
    result = runner.invoke(app, ["simulate", str(SESSION), "--mode", "audit", "--json"])
    printed = json.loads(result.stdout)
    assert printed["mode"] == "audit"
    assert printed["tokens_after"] == printed["tokens_before"]
    assert printed["transforms"] == []


def test_simulate_out_writes_the_optimized_request(tmp_path: Path) -> None:
    out = tmp_path / "optimized.json"
    result = runner.invoke(app, ["simulate", str(SESSION), "--out", str(out)])
    assert result.exit_code == 0, result.output
    body = json.loads(SESSION.read_text())
    written = json.loads(out.read_text())
    plan = Headroom().simulate(body["messages"], body["model"], body["tools"])
    assert written["messages"] == plan.messages
    assert {k: v for k, v in written.items() if k != "messages"} == {
        k: v for k, v in body.items() if k != "messages"
    }
    # The user's turns reach the model byte for byte.
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    assert [m["content"] for m in written["messages"] if m["role"] == "user"] == users


def test_simulate_reads_a_workload_file_and_takes_the_model_option(tmp_path: Path) -> None:
    workload = tmp_path / "workload.json"
    body = json.loads(SESSION.read_text())
    workload.write_text(json.dumps({"id": "w1", "request": body, "needles": []}))
    result = runner.invoke(app, ["simulate", str(workload), "--model", "gpt-4.1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["context_window"] == 1_047_576


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "{tmp}/missing.json"], "missing.json: no such file"),
        (["simulate", "{bad_json}"], "not valid JSON"),
        (["simulate", "{not_request}"], "not a chat request"),
        (["simulate", "{tmp}"], "is a folder"),
        (["simulate", str(SESSION), "--mode", "fast"], "invalid headroom option mode='fast'"),
        (["simulate", "{huge}", "--model", "gpt-4"], "the request cannot fit"),
        (["simulate", str(SESSION), "--tool-profiles", "{{search"], "--tool-profiles: not valid"),
        (
            ["simulate", str(SESSION), "--tool-profiles", '{{"search": {{"max_items": 3}}}}'],
            "tool_profiles.search.max_items",
        ),
        (["audit", "{tmp}/missing.jsonl", "--store", "memory://"], "no such file"),
        (["audit", str(REQUESTS), "--store", "redis://x"], "unsupported store_url"),
        (["audit", "{not_request}", "--store", "memory://"], "no valid requests"),
        (["report", "--store", "sqlite:///{tmp}/nothing.db"], "no store at"),
        (["report", "--store", "memory://", "--since", "last week"], "invalid date"),
        (["report", "--store", "memory://", "-o", "{tmp}/no/dir/r.html"], "does not exist"),
        (["stats", "--store", "jsonl:///{tmp}/nothing.jsonl"], "no store at"),
        (["stats", "--store", "nope"], "unsupported store_url"),
    ],
)
def test_user_mistakes_print_one_line_and_exit_non_zero(
    tmp_path: Path, args: list[str], message: str
) -> None:
    values = {
        "tmp": str(tmp_path),
        "bad_json": write(tmp_path, "bad.json", '{"messages": ['),
        "not_request": write(tmp_path, "not_request.json", '{"prompt": "hi"}'),
        "huge": write(
            tmp_path,
            "huge.json",
            json.dumps({"messages": [{"role": "user", "content": "word " * 20000}]}),
        ),
    }
    result = runner.invoke(app, [a.format(**values) for a in args])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_audit_records_every_valid_line_and_counts_the_rest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(app, ["audit", str(REQUESTS), "--store", url])
    assert result.exit_code == 0, result.output
    assert "Audited 25 requests" in result.stdout
    assert "Skipped 2 invalid lines (12, 19)" in result.stdout
    assert "line 12: not valid JSON" in result.stdout
    store = open_store(url)
    records = store.query(limit=None)
    store.close()
    assert len(records) == 25
    assert {r.mode for r in records} == {"audit"} and {r.source for r in records} == {"cli"}
    assert all(r.tokens_after == r.tokens_before and r.content is None for r in records)
    # Timestamps and usage come from the log lines that kept them.
    first = min(records, key=lambda r: r.timestamp)
    assert first.datetime.strftime("%Y-%m-%d") == "2026-11-20"
    logged = [r for r in records if r.prompt_tokens is not None]
    assert logged and all(r.prompt_tokens == r.tokens_before for r in logged)
    assert sum(r.cached_tokens or 0 for r in logged) > 0
    assert {r.model for r in records} >= {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini"}


def test_report_and_stats_read_the_audited_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert runner.invoke(app, ["audit", str(REQUESTS), "--store", url]).exit_code == 0
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--store", url, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.stdout
    html = out.read_text()
    assert "25 requests (25 audited, 0 optimized)" in html
    assert "Give tool search_incidents a profile" in html

    stats = runner.invoke(app, ["stats", "--store", url, "--json"])
    summary = json.loads(stats.stdout)
    store = open_store(url)
    expected = store.summary()
    store.close()
    assert {k: summary[k] for k in expected} == expected
    assert summary["cache_hit_rate"] == round(
        expected["total_cached_tokens"] / expected["total_prompt_tokens"], 4
    )
    table = runner.invoke(app, ["stats", "--store", url])
    assert table.exit_code == 0 and "total requests" in table.stdout and "25" in table.stdout

    since = runner.invoke(app, ["report", "--store", url, "-o", str(out), "--since", "2026-11-25"])
    assert since.exit_code == 0
    assert "(8 audited, 0 optimized)" in out.read_text()


def test_audit_into_jsonl_and_report_on_an_empty_memory_store(tmp_path: Path) -> None:
    url = f"jsonl://{tmp_path / 'log.jsonl'}"
    assert runner.invoke(app, ["audit", str(REQUESTS), "--store", url]).exit_code == 0
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 25
    out = tmp_path / "empty.html"
    result = runner.invoke(app, ["report", "--store", "memory://", "-o", str(out)])
    assert result.exit_code == 0
    assert "No data yet" in out.read_text()


def test_the_readme_main_job_as_real_processes(tmp_path: Path) -> None:
    """`headroom audit examples/requests.jsonl --store sqlite:///demo.db && headroom report
    --store sqlite:///demo.db -o report.html`, run from a fresh folder, no API key."""
    console_script = Path(sys.executable).parent / "headroom"
    assert console_script.exists(), f"no headroom console script next to {sys.executable}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI")}
    env["COLUMNS"] = "120"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
        )

    audit = run(str(console_script), "audit", str(REQUESTS), "--store", "sqlite:///demo.db")
    assert audit.returncode == 0, audit.stderr
    assert "Audited 25 requests" in audit.stdout
    report = run(
        sys.executable,
        "-m",
        "headroom",
        "report",
        "--store",
        "sqlite:///demo.db",
        "-o",
        "report.html",
    )
    assert report.returncode == 0, report.stderr
    assert "25 requests" in (tmp_path / "report.html").read_text()
    simulate = run(str(console_script), "simulate", str(SESSION), "--json")
    assert simulate.returncode == 0
    assert json.loads(simulate.stdout)["tokens_saved"] > 0

    missing = run(str(console_script), "simulate", "missing.json")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: missing.json: no such file"


def test_audit_model_option_fills_in_lines_that_name_none(tmp_path: Path) -> None:
    user = [{"role": "user", "content": "hello"}]
    lines = tmp_path / "two.jsonl"
    lines.write_text(
        json.dumps({"messages": user}) + "\n\n" + json.dumps({"model": "gpt-4o", "messages": user})
    )
    url = f"sqlite:///{tmp_path / 'two.db'}"
    result = runner.invoke(app, ["audit", str(lines), "--store", url, "--model", "gpt-4.1"])
    assert result.exit_code == 0, result.output
    assert "Audited 2 requests" in result.stdout and "Skipped" not in result.stdout
    store = open_store(url)
    assert sorted(r.model for r in store.query(limit=None)) == ["gpt-4.1", "gpt-4o"]
    store.close()
