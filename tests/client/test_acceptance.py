"""The seed's four acceptance scenarios, end to end: the real SDK, HeadroomClient, real HTTP
to the loopback server, and assertions on what the provider received and what was recorded."""

from __future__ import annotations

import json
from typing import Any

import openai

from headroom import HeadroomClient
from tests.support.openai_server import OpenAIServer

GUIDE = "Answer in British English, cite the runbook section, never guess a value. " * 120


def _dated(date: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": f"Current Date: {date}\nYou are the on-call helper. {GUIDE}"},
        {"role": "user", "content": "Is the nightly backup healthy?"},
    ]


def test_date_trap(client: HeadroomClient, openai_server: OpenAIServer) -> None:
    """Two requests that differ only in the date share a stable prefix hash; optimized, they
    share the system prompt's prefix, so the provider's prompt cache hits."""
    for date in ("2024-01-15", "2024-01-16"):
        client.chat.completions.create(model="gpt-4o", messages=_dated(date))
    audit_new, audit_old = client.get_metrics()
    assert audit_new.stable_prefix_hash == audit_old.stable_prefix_hash
    assert audit_new.prefix_hash != audit_old.prefix_hash
    assert audit_new.cached_tokens == 0  # the date at the top busts the provider's cache

    openai_server.reset()
    for date in ("2024-01-15", "2024-01-16"):
        client.chat.completions.create(
            model="gpt-4o", messages=_dated(date), headroom_mode="optimize"
        )
    first, second = (r.json["messages"][0]["content"] for r in openai_server.chat_requests)
    assert first != second
    assert first.startswith("You are the on-call helper.")
    assert first.split("[Context:")[0] == second.split("[Context:")[0]
    assert "2024-01-15" in first and "2024-01-16" in second  # moved, never removed
    optimized_new, optimized_old = client.get_metrics(mode="optimize")
    assert optimized_new.stable_prefix_hash == optimized_old.stable_prefix_hash
    assert optimized_new.cached_tokens is not None and optimized_new.cached_tokens >= 1024


def _agent_history(units: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a research agent."}]
    for i in range(units):
        rows = [{"id": i * 100 + j, "text": f"finding {i}-{j} " * 8} for j in range(40)]
        messages += [
            {"role": "user", "content": f"Step {i}: look up topic {i}."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{i}_{k}",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"topic": i})},
                    }
                    for k in range(2)
                ],
            },
            {"role": "tool", "tool_call_id": f"call_{i}_0", "content": json.dumps(rows)},
            {"role": "tool", "tool_call_id": f"call_{i}_1", "content": json.dumps(rows[:5])},
            {"role": "assistant", "content": f"Topic {i} summarised."},
        ]
    messages.append({"role": "user", "content": "Now write the final report."})
    return messages


def test_tool_orphan(bare: openai.OpenAI, openai_server: OpenAIServer) -> None:
    """The rolling window drops whole tool-call units: no tool result without its call."""
    client = HeadroomClient(
        original_client=bare, store_url="memory://", model_context_limits={"gpt-4o": 12000}
    )
    messages = _agent_history(30)
    client.chat.completions.create(
        model="gpt-4o", messages=messages, headroom_mode="optimize", max_tokens=1000
    )
    sent = openai_server.chat_requests[0].json["messages"]
    assert sent[0] == messages[0] and sent[-1] == messages[-1]
    open_calls: set[str] = set()
    for message in sent:
        if message["role"] == "assistant" and message.get("tool_calls"):
            assert not open_calls, "a tool call unit was cut in half"
            open_calls = {call["id"] for call in message["tool_calls"]}
        elif message["role"] == "tool":
            assert message["tool_call_id"] in open_calls, "orphaned tool result"
            open_calls.discard(message["tool_call_id"])
        else:
            assert not open_calls, "a tool call without all its results"
    (record,) = client.get_metrics()
    assert record.dropped_messages > 0
    assert record.tokens_after <= 12000 - 1000
    assert record.prompt_tokens == record.tokens_after


def test_streaming_with_metrics(client: HeadroomClient, openai_server: OpenAIServer) -> None:
    """A streamed optimized call yields every chunk and records once, with usage."""
    messages = _agent_history(2)
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
        headroom_mode="optimize",
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Hello!")
    usage = chunks[-1].usage
    assert usage is not None
    (record,) = client.get_metrics()
    assert record.stream is True and record.mode == "optimize"
    assert record.completion_tokens == usage.completion_tokens
    assert record.prompt_tokens == usage.prompt_tokens == record.tokens_after
    assert record.tokens_saved > 0
    summary = client.get_summary()
    assert summary["total_requests"] == 1
    assert summary["total_tokens_saved"] == record.tokens_saved


def test_malformed_json_passes_through_byte_for_byte(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    """Tool output that looks like JSON but does not parse reaches the model unchanged."""
    broken = '{"results": [' + ", ".join(f'{{"id": {i}, "v": "x"' for i in range(800)) + "]"
    messages = [
        {"role": "user", "content": "Fetch the records."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "fetch", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": broken},
        {"role": "user", "content": "How many records are there?"},
    ]
    client.chat.completions.create(model="gpt-4o", messages=messages, headroom_mode="optimize")
    (request,) = openai_server.chat_requests
    assert request.json["messages"][2]["content"] == broken
    assert json.dumps(broken).encode() in request.body
