"""Optimize mode sends the engine's plan: the provider receives the optimized messages and
nothing else changes in the request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pydantic

from headroom import AsyncHeadroomClient, HeadroomClient
from tests.support.openai_server import OpenAIServer

from .conftest import SEARCH_TOOL


def _tool_history(rows: int = 300) -> list[dict[str, Any]]:
    output = json.dumps(
        {"results": [{"id": i, "title": f"Issue {i}", "state": "open"} for i in range(rows)]},
        indent=2,
    )
    return [
        {"role": "system", "content": "You are a triage assistant."},
        {"role": "user", "content": "List the open issues."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "search", "arguments": '{"query": "is:open"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": output},
    ]


def test_optimized_body_is_the_plan(client: HeadroomClient, openai_server: OpenAIServer) -> None:
    messages = _tool_history()
    kwargs = {"model": "gpt-4o", "messages": messages, "tools": [SEARCH_TOOL], "temperature": 0}
    plan = client.chat.completions.simulate(**kwargs)
    assert plan.tokens_saved > 0
    client.chat.completions.create(**kwargs, headroom_mode="optimize")
    (sent,) = openai_server.chat_requests
    body = sent.json
    assert body["messages"] == plan.messages
    assert body["tools"] == [SEARCH_TOOL]
    assert body["temperature"] == 0 and body["model"] == "gpt-4o"
    assert not any(key.startswith("headroom") for key in body)
    assert len(sent.body) < len(json.dumps(kwargs))
    assert messages == _tool_history()  # the caller's messages are untouched
    (record,) = client.get_metrics()
    assert record.mode == "optimize"
    assert record.tokens_saved == plan.tokens_saved > 0
    assert record.tokens_after == record.prompt_tokens  # what was billed is what we sent
    assert record.transforms["tool_output_compression"] > 0


def test_default_mode_optimize_and_per_call_audit(
    make_client: Callable[..., HeadroomClient], openai_server: OpenAIServer
) -> None:
    client = make_client(default_mode="optimize")
    messages = _tool_history()
    client.chat.completions.create(model="gpt-4o", messages=messages)
    client.chat.completions.create(model="gpt-4o", messages=messages, headroom_mode="audit")
    optimized, audited = openai_server.chat_requests
    assert audited.json["messages"] == messages
    assert optimized.json["messages"] != messages
    assert [r.mode for r in client.get_metrics()] == ["audit", "optimize"]


def test_nothing_to_optimize_sends_identical_bytes(
    bare: openai.OpenAI, client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    kwargs = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi there"}]}
    bare.chat.completions.create(**kwargs)
    client.chat.completions.create(**kwargs, headroom_mode="optimize")
    direct, optimized = openai_server.chat_requests
    assert optimized.body == direct.body


def test_tool_profiles_and_keep_turns_reach_the_engine(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    messages = _tool_history()
    gentle = client.chat.completions.simulate(model="gpt-4o", messages=messages)
    tight = client.chat.completions.simulate(
        model="gpt-4o",
        messages=messages,
        headroom_tool_profiles={"search": {"max_array_items": 2, "min_tokens": 0}},
    )
    assert tight.tokens_after < gentle.tokens_after
    client.chat.completions.create(
        model="gpt-4o",
        messages=messages,
        headroom_mode="optimize",
        headroom_tool_profiles={"search": {"max_array_items": 2, "min_tokens": 0}},
        headroom_keep_turns=1,
        headroom_output_buffer_tokens=1000,
    )
    assert openai_server.chat_requests[0].json["messages"] == tight.messages


def test_max_tokens_is_the_output_buffer(
    make_client: Callable[..., HeadroomClient], openai_server: OpenAIServer
) -> None:
    client = make_client(model_context_limits={"small-model": 6000})
    messages = _tool_history(rows=40) * 1
    for turn in range(6):
        messages = messages + [
            {"role": "user", "content": f"Question {turn}: " + "details " * 300},
            {"role": "assistant", "content": f"Answer {turn}"},
        ]
    messages.append({"role": "user", "content": "And now?"})
    small_buffer = client.chat.completions.simulate(
        model="small-model", messages=messages, max_tokens=100
    )
    big_buffer = client.chat.completions.simulate(
        model="small-model", messages=messages, max_tokens=3000
    )
    assert big_buffer.budget == 3000 and small_buffer.budget == 5900
    assert big_buffer.tokens_after <= 3000 < small_buffer.tokens_before
    client.chat.completions.create(
        model="small-model", messages=messages, max_tokens=3000, headroom_mode="optimize"
    )
    assert openai_server.chat_requests[0].json["messages"] == big_buffer.messages


async def test_async_optimize_sends_the_plan(
    aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    messages = _tool_history()
    plan = aclient.chat.completions.simulate(model="gpt-4o", messages=messages)
    stream = await aclient.chat.completions.create(
        model="gpt-4o", messages=messages, headroom_mode="optimize", stream=True
    )
    async for _chunk in stream:
        pass
    assert openai_server.chat_requests[0].json["messages"] == plan.messages
    (record,) = aclient.get_metrics()
    assert record.stream and record.mode == "optimize" and record.tokens_saved > 0


class Triage(pydantic.BaseModel):
    open_issues: int
    summary: str


def test_parse_is_optimized_and_recorded(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    """Structured outputs go through the same plan as create: the provider receives the
    optimized messages and the pydantic reply still parses."""
    kwargs = {"model": "gpt-4o", "messages": _tool_history(), "response_format": Triage}
    plan = client.chat.completions.simulate(**kwargs)
    completion = client.chat.completions.parse(**kwargs, headroom_mode="optimize")
    assert isinstance(completion.choices[0].message.parsed, Triage)
    (sent,) = openai_server.chat_requests
    assert sent.json["messages"] == plan.messages
    assert sent.json["response_format"]["type"] == "json_schema"
    (record,) = client.get_metrics()
    assert record.mode == "optimize" and record.tokens_saved == plan.tokens_saved > 0
    assert record.prompt_tokens == plan.tokens_after


async def test_async_parse_is_recorded(
    aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    completion = await aclient.chat.completions.parse(
        model="gpt-4o", messages=_tool_history(), response_format=Triage
    )
    assert isinstance(completion.choices[0].message.parsed, Triage)
    (record,) = aclient.get_metrics()
    assert record.mode == "audit" and record.tokens_before > 0
    assert openai_server.chat_requests[0].json["messages"] == _tool_history()
