"""The eight invariants of DESIGN.md as properties over generated conversations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from headroom import Headroom, HeadroomBudgetError, Plan
from headroom.conversation import SYSTEM_ROLES, protected_start, role_of
from headroom.plan_alignment import is_inserted
from headroom.recording import record_from_plan
from headroom.tokens import clear_cache
from headroom.transforms import cache_alignment, tool_output
from headroom.transforms.json_compress import is_json_document, parse_json
from headroom.transforms.recall import is_recall_message

from .strategies import conversations, engine_settings, malformed_json

MODEL = "test-model"


def optimize(messages: list[Any], cfg: dict[str, Any]) -> Plan | None:
    engine = Headroom(model_context_limits={MODEL: cfg["window"]})
    try:
        return engine.simulate(
            messages,
            model=MODEL,
            output_buffer_tokens=cfg["output_buffer_tokens"],
            keep_turns=cfg["keep_turns"],
            tool_profiles=cfg.get("tool_profiles"),
        )
    except HeadroomBudgetError:
        return None


def canonical(messages: list[Any]) -> str:
    return json.dumps(messages, sort_keys=True, ensure_ascii=False)


@given(conversations(), engine_settings)
def test_1_human_content_is_never_changed(messages: list[Any], cfg: dict[str, Any]) -> None:
    plan = optimize(messages, cfg)
    if plan is None:
        return
    originals = {id(m): i for i, m in enumerate(messages)}
    positions = []
    for message in plan.messages:
        if role_of(message) in ("user", "assistant") and not is_inserted(message):
            assert id(message) in originals, "a user or assistant message was rewritten"
            positions.append(originals[id(message)])
    assert positions == sorted(positions), "human messages were reordered"


@given(conversations(), engine_settings)
def test_2_tool_results_keep_their_calls(messages: list[Any], cfg: dict[str, Any]) -> None:
    plan = optimize(messages, cfg)
    if plan is None:
        return
    answered = {m["tool_call_id"] for m in messages if role_of(m) == "tool"}
    out = plan.messages
    for i, message in enumerate(out):
        if role_of(message) == "tool":
            j = i - 1
            while j >= 0 and role_of(out[j]) == "tool":
                j -= 1
            assert j >= 0 and role_of(out[j]) == "assistant", "orphaned tool result"
            ids = {c["id"] for c in out[j]["tool_calls"]}
            assert message["tool_call_id"] in ids, "tool result separated from its call"
        if role_of(message) == "assistant" and message.get("tool_calls"):
            expected = {c["id"] for c in message["tool_calls"]} & (
                answered | {c["id"] for c in message["tool_calls"] if is_recall_message(message)}
            )
            following = set()
            k = i + 1
            while k < len(out) and role_of(out[k]) == "tool":
                following.add(out[k]["tool_call_id"])
                k += 1
            assert expected <= following, "a tool call unit was split"


@given(conversations(), engine_settings, malformed_json())
def test_3_malformed_json_passes_through(
    messages: list[Any], cfg: dict[str, Any], broken: str
) -> None:
    messages = [
        *messages,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_bad",
                    "type": "function",
                    "function": {"name": "db", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_bad", "content": broken},
    ]
    as_parts = [{"type": "text", "text": broken}]
    messages[-2]["tool_calls"].append({**messages[-2]["tool_calls"][0], "id": "call_bad_parts"})
    messages.append({"role": "tool", "tool_call_id": "call_bad_parts", "content": as_parts})
    assert not is_json_document(parse_json(broken))
    plan = optimize(messages, cfg)
    if plan is None:
        return
    for message in plan.messages:
        if role_of(message) == "tool" and message.get("tool_call_id") == "call_bad":
            assert message["content"] == broken
        if role_of(message) == "tool" and message.get("tool_call_id") == "call_bad_parts":
            assert message["content"] == as_parts


@given(conversations(), engine_settings)
def test_4_system_prompt_and_last_turns_are_kept(messages: list[Any], cfg: dict[str, Any]) -> None:
    plan = optimize(messages, cfg)
    if plan is None:
        return
    lead = [m for m in messages if role_of(m) in SYSTEM_ROLES][:1]
    out_contents = [m.get("content") for m in plan.messages if isinstance(m, dict)]
    for system in lead:
        assert cache_alignment.aligned_content(system["content"]) in out_contents
    start = protected_start(messages, cfg["keep_turns"])
    out_ids = {id(m) for m in plan.messages}
    out_tool_ids = {m.get("tool_call_id") for m in plan.messages if role_of(m) == "tool"}
    for message in messages[start:]:
        if role_of(message) in ("user", "assistant"):
            assert id(message) in out_ids, "a message of the last turns was dropped"
        elif role_of(message) == "tool":
            assert message["tool_call_id"] in out_tool_ids


@given(conversations(), engine_settings)
def test_5_deterministic_and_idempotent(messages: list[Any], cfg: dict[str, Any]) -> None:
    first = optimize(messages, cfg)
    tool_output._memo = tool_output._Memo()  # a cold second run must agree with the first
    second = optimize(json.loads(json.dumps(messages)), cfg)
    if first is None or second is None:
        assert first is None and second is None
        return
    assert canonical(first.messages) == canonical(second.messages)
    again = optimize(first.messages, cfg)
    assert again is not None
    assert canonical(again.messages) == canonical(first.messages), "not idempotent"
    assert again.stable_prefix_hash == first.stable_prefix_hash


def test_5_same_bytes_under_any_hash_seed(tmp_path: Any) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, random, sys
            from headroom import Headroom
            rng = random.Random(7)
            words = ["error", "ok", "node", "Moldova", "#42", "2025-03-04", "disk", "café"]
            digests = []
            for case in range(8):
                items = [{"id": i, "level": rng.choice(["INFO", "WARN", "ERROR"]),
                          "tags": {rng.choice(words): i for _ in range(3)},
                          "msg": " ".join(rng.choice(words) for _ in range(8))}
                         for i in range(rng.randint(25, 90))]
                msgs = [{"role": "system", "content": "Date: 05 April 2025\\n\\nBe brief."}]
                for turn in range(3):
                    msgs.append({"role": "user", "content": " ".join(rng.sample(words, 3))})
                    cid = f"call_{case}_{turn}"
                    msgs.append({"role": "assistant", "content": None, "tool_calls": [
                        {"id": cid, "type": "function",
                         "function": {"name": "search", "arguments": "{}"}}]})
                    msgs.append({"role": "tool", "tool_call_id": cid,
                                 "content": json.dumps(items, indent=2)})
                engine = Headroom(model_context_limits={"m": 9000 + 3000 * case})
                plan = engine.simulate(msgs, model="m", keep_turns=1)
                digests.append(json.dumps(plan.messages, sort_keys=True))
            print(json.dumps(digests))
            """
        )
    )
    outputs = []
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, check=True
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(json.loads(outputs[0])) == 8


@given(conversations(), engine_settings, st.data())
def test_6_prefix_stable_as_the_conversation_grows(
    messages: list[Any], cfg: dict[str, Any], data: st.DataObject
) -> None:
    if len(messages) < 2:
        return
    k = data.draw(st.integers(1, len(messages) - 1))
    shorter, longer = optimize(messages[:k], cfg), optimize(messages[: k + 1], cfg)
    if shorter is None or longer is None:
        return
    slid = any(t.name == "rolling_window" for t in shorter.transforms + longer.transforms)
    if slid:
        return  # the window had to slide: the one case the invariant allows
    prefix = shorter.messages
    assert canonical(longer.messages[: len(prefix)]) == canonical(prefix)


@given(conversations(), engine_settings)
def test_7_a_failing_transform_fails_open(messages: list[Any], cfg: dict[str, Any]) -> None:
    engine = Headroom(model_context_limits={MODEL: 10**7})

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    original = tool_output.apply
    tool_output.apply = explode  # type: ignore[assignment]
    try:
        plan = engine.simulate(messages, model=MODEL, keep_turns=cfg["keep_turns"])
    finally:
        tool_output.apply = original  # type: ignore[assignment]
    assert engine.failures["tool_output_compression"] == 1
    for before, after in zip(messages, plan.messages, strict=True):
        if role_of(before) != "system":
            assert after is before


@given(conversations(), engine_settings)
def test_8_records_keep_no_prompt_text(messages: list[Any], cfg: dict[str, Any]) -> None:
    marked = [
        {**m, "content": f"ZQX-secret {m['content']}"} if isinstance(m.get("content"), str) else m
        for m in messages
    ]
    plan = optimize(marked, cfg)
    if plan is None:
        return
    record = json.dumps(record_from_plan(plan).to_dict(), ensure_ascii=False)
    assert "ZQX-secret" not in record


@given(conversations(), engine_settings)
def test_result_fits_or_budget_error(messages: list[Any], cfg: dict[str, Any]) -> None:
    engine = Headroom(model_context_limits={MODEL: cfg["window"]})
    try:
        plan = engine.simulate(
            messages,
            model=MODEL,
            output_buffer_tokens=cfg["output_buffer_tokens"],
            keep_turns=cfg["keep_turns"],
        )
    except HeadroomBudgetError as exc:
        assert exc.protected_tokens > exc.budget
        return
    assert plan.tokens_after <= plan.budget
    assert plan.tokens_after == engine.count_tokens(plan.messages, MODEL)
    clear_cache()  # counts derived from others' (the aligned system prompt) are exact too
    assert plan.tokens_after == engine.count_tokens(plan.messages, MODEL)


@given(conversations())
def test_audit_never_changes_anything(messages: list[Any]) -> None:
    before = canonical(messages)
    plan = Headroom().simulate(messages, mode="audit")
    assert plan.messages == messages
    assert all(a is b for a, b in zip(plan.messages, messages, strict=True))
    assert canonical(messages) == before
    assert plan.tokens_after == plan.tokens_before


@given(conversations(), engine_settings)
def test_input_is_never_mutated(messages: list[Any], cfg: dict[str, Any]) -> None:
    before = canonical(messages)
    optimize(messages, cfg)
    assert canonical(messages) == before
