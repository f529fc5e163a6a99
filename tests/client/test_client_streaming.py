"""Streams hand the provider's chunks through unchanged, close upstream on an early stop, and
record once: usage from the usage chunk when asked for, otherwise counted from the deltas."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from headroom import AsyncHeadroomClient, HeadroomClient
from headroom.client import AsyncHeadroomStream, HeadroomStream
from headroom.tokens import count_text
from tests.support.openai_server import (
    DEFAULT_TEXT,
    OpenAIServer,
    cut_stream_reply,
    error_reply,
    text_reply,
    tool_call_reply,
)

from .conftest import SEARCH_TOOL

LONG_TEXT = " ".join(f"word{i}" for i in range(120))
# Slow enough (about 10 s if read to the end) that the consumer always stops it mid-way.
SLOW_TEXT = " ".join(f"word{i}" for i in range(1000))
REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me a story"}]}


def _dumps(chunks: list[object]) -> list[str]:
    """Chunks as JSON, without the completion id (which differs per request)."""
    return [c.model_dump_json(exclude={"id"}) for c in chunks]  # type: ignore[attr-defined]


def test_chunks_are_the_provider_chunks_in_order(
    bare: openai.OpenAI, client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(LONG_TEXT), text_reply(LONG_TEXT))
    direct = list(bare.chat.completions.create(**REQUEST, stream=True))
    stream = client.chat.completions.create(**REQUEST, stream=True)
    assert isinstance(stream, HeadroomStream)
    wrapped = list(stream)
    assert type(wrapped[0]) is type(direct[0])
    assert _dumps(wrapped) == _dumps(direct)
    assert "".join(c.choices[0].delta.content or "" for c in wrapped) == LONG_TEXT
    body = openai_server.chat_requests[1].json
    assert "stream_options" not in body  # Headroom never asks for usage on its own
    assert openai_server.chat_requests[0].body == openai_server.chat_requests[1].body


def test_completion_tokens_counted_from_text_without_usage_chunk(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(LONG_TEXT))
    for _chunk in client.chat.completions.create(**REQUEST, stream=True):
        pass
    (record,) = client.get_metrics()
    assert record.stream is True
    assert record.completion_tokens == count_text(LONG_TEXT)
    assert record.prompt_tokens is None  # the provider reported none
    assert record.tokens_before > 0
    assert record.error_type is None


def test_completion_tokens_from_the_usage_chunk_when_asked(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    # The scripted usage differs from the text's count: the record must take the provider's.
    usage = {"completion_tokens": 999, "prompt_tokens_details": {"cached_tokens": 256}}
    openai_server.queue(text_reply(LONG_TEXT, usage=usage))
    chunks = list(
        client.chat.completions.create(
            **REQUEST, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    (record,) = client.get_metrics()
    assert record.completion_tokens == 999
    assert record.cached_tokens == 256
    assert record.prompt_tokens == chunks[-1].usage.prompt_tokens


def test_tool_call_deltas_are_counted(client: HeadroomClient, openai_server: OpenAIServer) -> None:
    arguments = {"query": "flaky test in the scheduler", "limit": 5}
    openai_server.queue(tool_call_reply([("search", arguments)]))
    pieces = []
    for chunk in client.chat.completions.create(**REQUEST, tools=[SEARCH_TOOL], stream=True):
        for call in chunk.choices[0].delta.tool_calls or []:
            pieces.append(call.function.arguments or "" if call.function else "")
    assert json.loads("".join(pieces)) == arguments
    (record,) = client.get_metrics()
    expected = count_text("search") + count_text(json.dumps(arguments))
    assert record.completion_tokens == expected


def test_context_manager_early_exit_closes_upstream_and_records_once(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(SLOW_TEXT, chunk_delay=0.005))
    with client.chat.completions.create(**REQUEST, stream=True) as stream:
        seen = [next(stream) for _ in range(4)]
    assert len(seen) == 4
    assert stream.response.is_closed
    assert openai_server.wait_for(
        lambda: openai_server.chat_requests[0].stream_state == "client_closed"
    )
    stream.close()  # closing again records nothing more
    (record,) = client.get_metrics()
    assert record.error_type is None
    assert 0 < (record.completion_tokens or 0) < count_text(SLOW_TEXT)


def test_break_out_of_a_for_loop_then_close(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(LONG_TEXT))
    stream = client.chat.completions.create(**REQUEST, stream=True)
    for index, _chunk in enumerate(stream):
        if index == 2:
            break
    stream.close()
    assert stream.response.is_closed
    assert len(client.get_metrics()) == 1


def test_close_before_iterating_records_once(client: HeadroomClient) -> None:
    stream = client.chat.completions.create(**REQUEST, stream=True)
    stream.close()
    assert stream.response.is_closed
    (record,) = client.get_metrics()
    assert record.completion_tokens == 0


def test_full_iteration_then_close_records_once(client: HeadroomClient) -> None:
    with client.chat.completions.create(**REQUEST, stream=True) as stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == DEFAULT_TEXT
    assert len(client.get_metrics()) == 1


def test_stream_cut_mid_way_reaches_the_caller_and_is_recorded(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(cut_stream_reply(LONG_TEXT, after=5))
    received = []
    with pytest.raises(httpx.RemoteProtocolError):
        for chunk in client.chat.completions.create(**REQUEST, stream=True):
            received.append(chunk)
    assert len(received) == 5
    (record,) = client.get_metrics()
    assert record.error_type == "RemoteProtocolError"
    assert record.completion_tokens == count_text(
        "".join(c.choices[0].delta.content or "" for c in received)
    )


def test_stream_request_rejected_by_the_provider(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(error_reply(429))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**REQUEST, stream=True)
    (record,) = client.get_metrics()
    assert record.stream is True and record.error_type == "RateLimitError"


async def test_async_stream_chunks_unchanged(
    abare: openai.AsyncOpenAI, aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(LONG_TEXT), text_reply(LONG_TEXT))
    direct = [c async for c in await abare.chat.completions.create(**REQUEST, stream=True)]
    stream = await aclient.chat.completions.create(**REQUEST, stream=True)
    assert isinstance(stream, AsyncHeadroomStream)
    wrapped = [c async for c in stream]
    assert _dumps(wrapped) == _dumps(direct)
    (record,) = aclient.get_metrics()
    assert record.completion_tokens == count_text(LONG_TEXT)


async def test_async_with_early_exit_closes_upstream(
    aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(SLOW_TEXT, chunk_delay=0.005))
    stream = await aclient.chat.completions.create(
        **REQUEST, stream=True, stream_options={"include_usage": True}
    )
    async with stream:
        count = 0
        async for _chunk in stream:
            count += 1
            if count == 3:
                break
    assert stream.response.is_closed
    assert openai_server.wait_for(
        lambda: openai_server.chat_requests[0].stream_state == "client_closed"
    )
    await stream.close()
    (record,) = aclient.get_metrics()
    assert record.error_type is None
    assert 0 < (record.completion_tokens or 0) < count_text(SLOW_TEXT)


async def test_async_stream_cut_is_recorded(
    aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(cut_stream_reply(after=2))
    stream = await aclient.chat.completions.create(**REQUEST, stream=True)
    with pytest.raises(httpx.RemoteProtocolError):
        async for _chunk in stream:
            pass
    (record,) = aclient.get_metrics()
    assert record.error_type == "RemoteProtocolError"
