"""Bad input: a clear ValueError for bad options; inside a request, pass through unchanged."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import Headroom, count_tokens
from headroom.questions import phrases, question_terms
from headroom.relative_days import reference_day, relative_day_terms
from headroom.transforms.flags import asked_flag
from headroom.transforms.named_values import question_spans
from headroom.transforms.rankings import ranking
from headroom.transforms.thresholds import comparisons, date_comparisons
from headroom.written_forms import data_form_terms


def call(content: Any, call_id: str = "c1") -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "look this up"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": "x", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": content},
    ]


ODD_REQUESTS = {
    "non-dict messages": [1, "text", None, ["a"], {"role": "user", "content": "hi"}],
    "unknown roles": [
        {"role": "wizard", "content": "x"},
        {"content": "no role"},
        {"role": 7, "content": "numeric role"},
    ],
    "content None and parts": [
        {"role": "user", "content": None},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "mystery"}, 5]},
    ],
    "orphan tool result": [
        {"role": "user", "content": "q"},
        {"role": "tool", "tool_call_id": "nobody", "content": "[1,2,3]"},
    ],
    "call without result": [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c9", "type": "function", "function": {"name": "x", "arguments": "{}"}}
            ],
        },
    ],
    "malformed tool_calls": [
        {"role": "assistant", "tool_calls": "oops"},
        {"role": "assistant", "tool_calls": [None, 3, {"id": 5}]},
    ],
    "non-string tool content": call({"a": [1, 2, 3]}),
    "list tool content": call([{"type": "text", "text": "[1, 2]"}]),
    "NaN and Infinity": call(
        '{"a": NaN, "b": Infinity, "items": ' + json.dumps(list(range(500))) + "}"
    ),
    "huge integer": call(
        '{"n": ' + "9" * 5000 + ', "items": ' + json.dumps(list(range(500))) + "}"
    ),
    "deep nesting": call("[" * 100_000 + "]" * 100_000),
    "lone surrogate text": call("log line \ud800 with a lone surrogate\n" * 50),
    "lone surrogate json": call(json.dumps([{"v": "\ud800", "i": i} for i in range(300)])),
    "invalid utf-8 decoded with surrogateescape": call(
        b"\xff\xfe bytes \x80".decode("utf-8", "surrogateescape") * 100
    ),
    "thousands of tiny messages": [
        {"role": "user" if i % 2 else "assistant", "content": "k"} for i in range(5000)
    ],
}


@pytest.mark.parametrize("name", sorted(ODD_REQUESTS))
@pytest.mark.parametrize("mode", ["audit", "optimize"])
def test_odd_requests_pass_through(name: str, mode: str) -> None:
    messages = ODD_REQUESTS[name]
    plan = Headroom().simulate(messages, mode=mode)
    for message in plan.messages:
        if not isinstance(message, dict) or message.get("role") in ("user", "assistant"):
            assert any(message is original for original in messages)
    odd = [
        m
        for m in messages
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "tool")
    ]
    for message in odd:
        assert any(message is out for out in plan.messages)
    if name != "thousands of tiny messages":
        tool_in = [m for m in messages if isinstance(m, dict) and m.get("role") == "tool"]
        tool_out = [m for m in plan.messages if isinstance(m, dict) and m.get("role") == "tool"]
        for before, after in zip(tool_in, tool_out, strict=False):
            if not isinstance(before["content"], str) or name in (
                "NaN and Infinity",
                "huge integer",
                "deep nesting",
                "lone surrogate json",
            ):
                assert (
                    after["content"] is before["content"] or after["content"] == before["content"]
                )


def test_fifty_megabyte_tool_output_is_bounded() -> None:
    blob = ("log line with some words and numbers 12345 ok\n" * 1_100_000)[:50_000_000]
    messages = call(blob)
    audit = Headroom().simulate(messages, mode="audit")
    assert audit.tokens_before > 10_000_000 and audit.messages[2] is messages[2]
    plan = Headroom().simulate(messages)
    assert plan.fits and plan.tokens_after < 200_000


def test_an_integer_too_large_for_a_float_is_just_the_largest_value() -> None:
    """One 400-digit integer in a long list: compression still happens (it used to fail open
    with OverflowError), the item is kept as the column's largest value, digits intact."""
    rows = json.dumps([{"id": i, "v": i, "text": "word " * 20} for i in range(300)])
    huge = "9" * 400
    content = rows[:-1] + ', {"id": 1, "v": ' + huge + "}]"
    engine = Headroom()
    plan = engine.simulate(call(content))
    assert plan.tokens_after < plan.tokens_before / 2 and not engine.failures
    assert huge in plan.messages[2]["content"]


def test_huge_or_odd_call_arguments_pass_through() -> None:
    """Long arguments, deeply nested ones, and arguments that are not JSON: the
    call is sent as it was and its output still compressed."""
    rows = json.dumps([{"id": i, "text": f"row {i} " * 20} for i in range(500)])
    for arguments in (
        json.dumps({"query": "row 250", "payload": "x" * 300_000}),
        "[" * 50_000 + "]" * 50_000,
        "not json at all: row 250",
        '{"limit": 10, "unicode": "\ud800"}',
    ):
        messages = call(rows)
        messages[1]["tool_calls"][0]["function"]["arguments"] = arguments
        plan = Headroom().simulate(messages)
        assert plan.messages[1] is messages[1]
        assert plan.tokens_after < plan.tokens_before


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"mode": "fast"}, "'audit', 'optimize'"),
        ({"output_buffer_tokens": -1}, "output_buffer_tokens"),
        ({"keep_turns": -2}, "keep_turns"),
        ({"tool_profiles": {"search": {"bogus": 1}}}, "max_array_items"),
        ({"tool_profiles": ["search"]}, "tool_profiles"),
        ({"tool_profiles": {"search": {"max_array_items": -1}}}, "max_array_items"),
    ],
)
def test_invalid_options_name_what_is_valid(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as raised:
        Headroom().simulate([{"role": "user", "content": "hi"}], **options)
    assert fragment in str(raised.value)


def test_invalid_engine_arguments() -> None:
    with pytest.raises(ValueError, match="model_context_limits"):
        Headroom(model_context_limits={"m": -5})
    with pytest.raises(ValueError, match="model_context_limits"):
        Headroom(model_context_limits=["m"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown headroom option"):
        Headroom().options(colour="blue")
    with pytest.raises(ValueError, match="list of message dicts"):
        Headroom().simulate("hello")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="list of tool definitions"):
        Headroom().simulate([], tools="search")  # type: ignore[arg-type]


def test_unknown_model_never_raises() -> None:
    plan = Headroom().simulate([{"role": "user", "content": "hi"}], model="no-such-model")
    assert plan.tokens_before == count_tokens([{"role": "user", "content": "hi"}])
    Headroom().simulate([{"role": "user", "content": "hi"}], model=None)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_question_text_is_read_without_raising(question: str) -> None:
    """Digits of other scripts (``①``, ``²``), surrogates, anything a user may type."""
    question_terms(question)
    question_spans(question)
    ranking(question)
    phrases(question)
    data_form_terms(question)
    relative_day_terms(question, date(2021, 3, 10))
    reference_day(question)
    asked_flag(question, "unMember")
    comparisons(question)
    date_comparisons(question)


def test_a_question_with_odd_digits_still_compresses() -> None:
    items = json.dumps([{"id": i, "total": i * 7 % 100} for i in range(600)])
    messages = call(items)
    messages[0]["content"] = "the largest ① and 10² totals?"
    plan = Headroom().simulate(messages)
    assert plan.tokens_after < plan.tokens_before / 5
