"""The loopback server the whole suite relies on behaves like the API, through the real SDK."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from headroom import count_tokens
from headroom.tokens import count_text
from tests.support import example_from_schema, token_pieces
from tests.support.openai_server import (
    DEFAULT_TEXT,
    OpenAIServer,
    cut_stream_reply,
    error_reply,
    raw_reply,
    text_reply,
    tool_call_reply,
)

from .conftest import SEARCH_TOOL

HELLO = [{"role": "user", "content": "Hello there"}]


def test_default_text_reply_with_exact_usage(bare: openai.OpenAI) -> None:
    reply = bare.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert reply.choices[0].message.content == DEFAULT_TEXT
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == count_tokens(HELLO, "gpt-4o")
    assert reply.usage.completion_tokens == count_text(DEFAULT_TEXT)
    assert reply.usage.prompt_tokens_details is not None
    assert reply.usage.prompt_tokens_details.cached_tokens == 0


def test_records_raw_body_headers_and_path(
    bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    bare.chat.completions.create(model="gpt-4o", messages=HELLO, temperature=0.5)
    (request,) = openai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert json.loads(request.body) == request.json
    assert request.json == {"model": "gpt-4o", "messages": HELLO, "temperature": 0.5}


def test_default_tool_call_follows_the_schema(bare: openai.OpenAI) -> None:
    reply = bare.chat.completions.create(model="gpt-4o", messages=HELLO, tools=[SEARCH_TOOL])
    (call,) = reply.choices[0].message.tool_calls or []
    assert reply.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "search"
    assert json.loads(call.function.arguments) == {"query": "example", "limit": 1}


def test_no_tool_call_after_a_tool_result_or_with_tool_choice_none(bare: openai.OpenAI) -> None:
    reply = bare.chat.completions.create(
        model="gpt-4o", messages=HELLO, tools=[SEARCH_TOOL], tool_choice="none"
    )
    assert reply.choices[0].message.tool_calls is None
    history = HELLO + [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "[]"},
    ]
    reply = bare.chat.completions.create(model="gpt-4o", messages=history, tools=[SEARCH_TOOL])
    assert reply.choices[0].message.content == DEFAULT_TEXT


def test_structured_output_conforms_to_the_schema(bare: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "kind": {"enum": ["bug", "feature"]},
            "when": {"type": "string", "format": "date"},
            "owner": {"$ref": "#/$defs/person"},
        },
        "$defs": {"person": {"type": "object", "properties": {"age": {"type": "integer"}}}},
    }
    reply = bare.chat.completions.create(
        model="gpt-4o",
        messages=HELLO,
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )
    assert json.loads(reply.choices[0].message.content or "") == {
        "name": "example",
        "tags": ["example", "example"],
        "kind": "bug",
        "when": "2024-01-15",
        "owner": {"age": 1},
    }
    assert example_from_schema({"anyOf": [{"type": "null"}, {"type": "number"}]}) == 1.5


def test_stream_without_usage_unless_asked(bare: openai.OpenAI) -> None:
    chunks = list(bare.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == DEFAULT_TEXT
    assert len(chunks) == len(token_pieces(DEFAULT_TEXT)) + 2  # role chunk, pieces, finish
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)

    chunks = list(
        bare.chat.completions.create(
            model="gpt-4o", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == count_text(DEFAULT_TEXT)


def test_stream_tool_call_argument_deltas(bare: openai.OpenAI) -> None:
    stream = bare.chat.completions.create(
        model="gpt-4o", messages=HELLO, tools=[SEARCH_TOOL], stream=True
    )
    pieces = []
    for chunk in stream:
        for call in chunk.choices[0].delta.tool_calls or []:
            assert call.function is not None
            pieces.append(call.function.arguments or "")
    assert len(pieces) > 3
    assert json.loads("".join(pieces)) == {"query": "example", "limit": 1}


def test_queued_replies_in_order_then_default(
    bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    openai_server.queue(
        text_reply("first", usage={"prompt_tokens_details": {"cached_tokens": 7}}),
        tool_call_reply([("lookup", {"id": 3})]),
    )
    first = bare.chat.completions.create(model="gpt-4o", messages=HELLO)
    second = bare.chat.completions.create(model="gpt-4o", messages=HELLO)
    third = bare.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert first.choices[0].message.content == "first"
    assert first.usage is not None and first.usage.prompt_tokens_details is not None
    assert first.usage.prompt_tokens_details.cached_tokens == 7
    calls = second.choices[0].message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("lookup", {"id": 3})
    ]
    assert third.choices[0].message.content == DEFAULT_TEXT


def test_errors_come_back_as_the_sdk_exceptions(
    bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    openai_server.queue(error_reply(429, headers={"Retry-After": "1"}), error_reply(500))
    with pytest.raises(openai.RateLimitError) as rate:
        bare.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert rate.value.response.headers["retry-after"] == "1"
    with pytest.raises(openai.InternalServerError):
        bare.chat.completions.create(model="gpt-4o", messages=HELLO)
    openai_server.queue(raw_reply(b"not json", status=502, content_type="text/plain"))
    with pytest.raises(openai.APIStatusError):
        bare.chat.completions.create(model="gpt-4o", messages=HELLO)


def test_cut_stream_breaks_the_connection(bare: openai.OpenAI, openai_server: OpenAIServer) -> None:
    openai_server.queue(cut_stream_reply(after=3))
    received = []
    with pytest.raises(httpx.RemoteProtocolError):
        for chunk in bare.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True):
            received.append(chunk)
    assert len(received) == 3
    assert openai_server.chat_requests[0].stream_state == "cut"


def test_prefix_cache_counts_from_1024_tokens_in_128_steps(bare: openai.OpenAI) -> None:
    system = {"role": "system", "content": "alpha beta gamma delta " * 400}
    cached = []
    for question in ("first question", "second question"):
        reply = bare.chat.completions.create(
            model="gpt-4o", messages=[system, {"role": "user", "content": question}]
        )
        assert reply.usage is not None and reply.usage.prompt_tokens_details is not None
        cached.append(reply.usage.prompt_tokens_details.cached_tokens)
        prompt = reply.usage.prompt_tokens
    assert cached[0] == 0
    assert cached[1] is not None and cached[1] >= 1024 and cached[1] % 128 == 0
    assert cached[1] <= prompt
    short = [{"role": "user", "content": "tiny"}]
    bare.chat.completions.create(model="gpt-4o", messages=short)
    again = bare.chat.completions.create(model="gpt-4o", messages=short)
    assert again.usage is not None and again.usage.prompt_tokens_details is not None
    assert again.usage.prompt_tokens_details.cached_tokens == 0


def test_prefix_cache_counts_billed_tokens_of_what_was_sent_before(bare: openai.OpenAI) -> None:
    """JSON-escaped text is longer than what is billed: the cached prefix is measured in billed
    tokens, so a request never gets more from the cache than the earlier one it extends."""
    rows = json.dumps([{"id": i, "name": f"row {i}", "ok": True} for i in range(400)], indent=1)
    first = [
        {"role": "system", "content": "You read tables."},
        {"role": "user", "content": rows},
    ]
    follow_up = {"role": "user", "content": "and the next table " * 100}
    second = [*first, {"role": "assistant", "content": "Read."}, follow_up]
    usages = [
        bare.chat.completions.create(model="gpt-4o", messages=messages).usage
        for messages in (first, second)
    ]
    assert usages[0] is not None and usages[1] is not None
    details = usages[1].prompt_tokens_details
    assert details is not None and details.cached_tokens is not None
    first_prompt = usages[0].prompt_tokens
    assert first_prompt - 128 - 3 < details.cached_tokens <= first_prompt


def test_models_embeddings_and_unknown_paths(bare: openai.OpenAI) -> None:
    assert "gpt-4o" in [m.id for m in bare.models.list().data]
    vector = bare.embeddings.create(model="text-embedding-3-small", input="hi").data[0].embedding
    assert len(vector) == 16
    with pytest.raises(openai.NotFoundError):
        bare.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi")


async def test_async_sdk_against_the_server(abare: openai.AsyncOpenAI) -> None:
    reply = await abare.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert reply.choices[0].message.content == DEFAULT_TEXT
    stream = await abare.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == DEFAULT_TEXT
