"""Hostile input through the engine, the client (over the loopback server) and the CLI: the
checked-in corpus, the big cases built in code, and hypothesis. No crash, no hang (sizes are
bounded), human content never changed, a clear ValueError for invalid options, and the CLI
exits 1 with one ``error:`` line and no traceback on garbage files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from headroom import Headroom, HeadroomBudgetError, HeadroomClient, Plan
from headroom.cli import app
from tests.support.openai_server import OpenAIServer

from .conftest import FUZZ
from .hostile import (
    assert_human_content_kept,
    conversations,
    corpus_files,
    fifty_megabytes,
    fingerprint,
    generated_cases,
    json_values,
    load_corpus,
    strict_json,
)

MODES = ["audit", "optimize"]
GENERATED = generated_cases()
runner = CliRunner()


def plan_or_none(body: dict[str, Any], mode: str) -> Plan | None:
    """Plan ``body``; None when optimize says the protected part cannot fit (a ValueError)."""
    model = body.get("model") if isinstance(body.get("model"), str) else "gpt-4o"
    tools = body.get("tools") if isinstance(body.get("tools"), list) else None
    try:
        return Headroom().simulate(body["messages"], model=model, tools=tools, mode=mode)
    except HeadroomBudgetError:
        assert mode == "optimize"
        return None


def check_engine(body: dict[str, Any], mode: str) -> None:
    messages = body["messages"]
    try:
        before = fingerprint(messages)
    except RecursionError:  # 100,000 levels of objects: only identity can be compared
        before = None
    plan = plan_or_none(body, mode)
    if before is not None:
        assert fingerprint(messages) == before, "the caller's request was mutated"
    if plan is None:
        return
    if mode == "audit":
        assert len(plan.messages) == len(messages)
        assert all(a is b for a, b in zip(plan.messages, messages, strict=True))
    assert_human_content_kept(messages, plan.messages)
    json.dumps(plan.to_dict(), default=repr)  # the plan itself can be reported


# -- the engine -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.stem)
def test_corpus_through_the_engine(path: Path, mode: str) -> None:
    check_engine(load_corpus(path), mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_cases_through_the_engine(name: str, mode: str) -> None:
    check_engine(GENERATED[name](), mode)


@FUZZ
@given(conversations, st.sampled_from(MODES), st.integers(0, 5))
def test_fuzzed_conversations_through_the_engine(
    messages: list[Any], mode: str, keep_turns: int
) -> None:
    before = fingerprint(messages)
    try:
        plan = Headroom().simulate(messages, mode=mode, keep_turns=keep_turns)
    except HeadroomBudgetError:
        assert mode == "optimize"
        return
    assert fingerprint(messages) == before
    if mode == "audit":
        assert all(a is b for a, b in zip(plan.messages, messages, strict=True))
    assert_human_content_kept(messages, plan.messages)


option_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(),
    st.text(max_size=10),
    json_values,
)
OPTION_WORDS = ("mode", "output_buffer_tokens", "keep_turns", "tool_profiles", "max_")


@FUZZ
@given(
    mode=st.one_of(st.sampled_from([*MODES, None]), option_values),
    output_buffer_tokens=option_values,
    keep_turns=option_values,
    tool_profiles=st.one_of(
        st.none(),
        json_values,
        st.dictionaries(st.text(max_size=6), st.dictionaries(st.text(max_size=20), json_values)),
    ),
)
def test_any_options_are_accepted_or_a_value_error_naming_them(**options: Any) -> None:
    engine = Headroom()
    try:
        engine.options(**options)
    except ValueError as exc:
        assert any(word in str(exc) for word in OPTION_WORDS), str(exc)


# -- the client, over the loopback server -----------------------------------------------------


def send(client: Any, body: dict[str, Any], **extra: Any) -> tuple[str, Any]:
    """("ok", reply) or (exception type name, exception) for one create() call."""
    request = {"model": "gpt-4o", "messages": body["messages"], **extra}
    if isinstance(body.get("tools"), list):
        request["tools"] = body["tools"]
    try:
        return "ok", client.chat.completions.create(**request)
    except Exception as exc:  # noqa: BLE001 - compared with the bare SDK
        return type(exc).__name__, exc


def check_client(bare: openai.OpenAI, server: OpenAIServer, body: dict[str, Any]) -> None:
    """Audit: the same bytes (or the same failure) as the bare SDK, and one record; optimize:
    the call completes (or cannot fit) and is recorded."""
    server.reset()
    client = HeadroomClient(original_client=bare, store_url="memory://")
    bare_outcome, _ = send(bare, body)
    outcome, _ = send(client, body)
    assert outcome == bare_outcome
    sent = [r.body for r in server.chat_requests]
    assert len(sent) in (0, 2) and (not sent or sent[0] == sent[1])
    assert len(client.get_metrics()) == 1
    if bare_outcome != "ok":
        return
    outcome, _ = send(client, body, headroom_mode="optimize")
    assert outcome in ("ok", "HeadroomBudgetError")
    assert len(client.get_metrics()) == (2 if outcome == "ok" else 1)


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.stem)
def test_corpus_through_the_client(
    path: Path, bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    check_client(bare, openai_server, load_corpus(path))


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_cases_through_the_client(
    name: str, bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    check_client(bare, openai_server, GENERATED[name]())


@settings(FUZZ, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=conversations.map(strict_json))
def test_fuzzed_conversations_through_the_client(
    messages: list[Any], bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    check_client(bare, openai_server, {"messages": messages})


# -- the command line -------------------------------------------------------------------------


def check_cli(path: Path, *extra: str) -> Result:
    result = runner.invoke(app, ["simulate", str(path), *extra])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return result


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.stem)
def test_corpus_through_the_cli(path: Path) -> None:
    for extra in ((), ("--json",), ("--mode", "audit")):
        result = check_cli(path, *extra)
        if path.stem == "invalid_utf8_tool_output":
            assert result.exit_code == 1 and "not UTF-8" in result.stderr


def test_generated_cases_through_the_cli(tmp_path: Path) -> None:
    deep_text = tmp_path / "deep_text.json"
    deep_text.write_text(json.dumps(GENERATED["nesting_100k_as_text"]()))
    assert check_cli(deep_text, "--json").exit_code == 0
    deep = tmp_path / "deep.json"
    deep.write_text('{"model": "gpt-4o", "messages": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = check_cli(deep)
    assert result.exit_code == 1 and "nested too deeply" in result.stderr
    digits = tmp_path / "digits.json"
    digits.write_text(
        '{"model": "gpt-4o", "messages": [{"role": "user", "content": 1}], "n": ' + "9" * 5000 + "}"
    )
    assert check_cli(digits).exit_code == 1
    tiny = tmp_path / "tiny.json"
    tiny.write_text(json.dumps(GENERATED["thousands_of_tiny_messages"]()))
    assert check_cli(tiny, "--json").exit_code in (0, 1)


def test_fifty_megabyte_tool_output_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    messages = [
        {"role": "user", "content": "read the log"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "cat", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": fifty_megabytes()},
        {"role": "user", "content": "what failed?"},
    ]
    path.write_text(json.dumps({"model": "gpt-4o", "messages": messages}))
    result = check_cli(path, "--json")
    assert result.exit_code == 0
    plan = json.loads(result.stdout)
    assert plan["fits"] and plan["tokens_before"] > 10_000_000 > plan["tokens_after"]


garbage_files = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.fixed_dictionaries({"messages": conversations}).map(
        lambda body: json.dumps(body, allow_nan=True, default=repr)
    ),
    st.fixed_dictionaries(
        {"model": json_values, "messages": conversations, "tools": json_values}
    ).map(lambda body: json.dumps(body, allow_nan=True, default=repr)),
)


@settings(FUZZ, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=garbage_files)
def test_fuzzed_files_through_the_cli(content: bytes | str, tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    check_cli(path)
