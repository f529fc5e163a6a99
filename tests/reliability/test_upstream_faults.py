"""Upstream faults the other suites do not script: a connection reset (TCP RST) mid-response
and a stream cut mid-way, each compared with the bare SDK against the same reply; and streams
abandoned to the garbage collector. 429/500/400/timeouts: tests/client/test_client_failures.py."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

from headroom import AsyncHeadroomClient, HeadroomClient
from headroom.tokens import count_text
from tests.support.openai_server import OpenAIServer, cut_stream_reply, text_reply

from .reset_server import ResetServer, half_json_then_reset, stream_then_reset

REQUEST: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
PIECES = ["Partial", " answer", " before", " the", " reset"]
SLOW_TEXT = " ".join(f"word{i}" for i in range(400))


@pytest.fixture
def reset_server() -> Iterator[ResetServer]:
    server = ResetServer()
    yield server
    server.close()


@pytest.fixture
def reset_bare(reset_server: ResetServer) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=reset_server.base_url, api_key="sk-test", max_retries=0)
    yield client
    client.close()


def consume(create: Callable[..., Any], **extra: Any) -> tuple[list[str], BaseException | None]:
    """The chunks (as JSON) a caller saw, and what the stream raised at the end."""
    seen: list[str] = []
    try:
        for chunk in create(**REQUEST, stream=True, **extra):
            seen.append(chunk.model_dump_json(exclude={"id"}))  # the server numbers its ids
    except Exception as exc:  # noqa: BLE001 - compared below
        return seen, exc
    return seen, None


def same_failure(ours: BaseException | None, theirs: BaseException | None) -> None:
    assert ours is not None and theirs is not None
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs)
    assert type(ours.__cause__) is type(theirs.__cause__)


@pytest.mark.parametrize("mode", ["audit", "optimize"])
def test_reset_mid_stream_is_what_the_bare_sdk_sees_and_is_recorded(
    mode: str, reset_server: ResetServer, reset_bare: openai.OpenAI
) -> None:
    client = HeadroomClient(original_client=reset_bare, store_url="memory://")
    reset_server.queue(stream_then_reset(PIECES), stream_then_reset(PIECES))
    bare_chunks, bare_error = consume(reset_bare.chat.completions.create)
    chunks, error = consume(client.chat.completions.create, headroom_mode=mode)
    assert chunks == bare_chunks and len(chunks) == len(PIECES) + 1
    same_failure(error, bare_error)
    assert isinstance(error, httpx.ReadError)
    (record,) = client.get_metrics()
    assert record.stream is True and record.mode == mode
    assert record.error_type == "ReadError"
    assert record.completion_tokens == count_text("".join(PIECES))  # the partial usage
    assert reset_server.requests[0] == reset_server.requests[1]  # same bytes went out


def test_reset_mid_body_is_the_sdk_connection_error_and_is_recorded(
    reset_server: ResetServer, reset_bare: openai.OpenAI
) -> None:
    client = HeadroomClient(original_client=reset_bare, store_url="memory://")
    reset_server.queue(half_json_then_reset(), half_json_then_reset())
    errors = []
    for create in (reset_bare.chat.completions.create, client.chat.completions.create):
        with pytest.raises(openai.APIConnectionError) as caught:
            create(**REQUEST)
        errors.append(caught.value)
    same_failure(errors[1], errors[0])
    (record,) = client.get_metrics()
    assert record.error_type == "APIConnectionError"
    assert record.prompt_tokens is None and record.completion_tokens is None  # none arrived
    assert record.tokens_before > 0


async def test_async_reset_mid_stream_is_recorded(reset_server: ResetServer) -> None:
    abare = openai.AsyncOpenAI(base_url=reset_server.base_url, api_key="sk-test", max_retries=0)
    client = AsyncHeadroomClient(original_client=abare, store_url="memory://")
    reset_server.queue(stream_then_reset(PIECES))
    seen: list[str] = []
    with pytest.raises(httpx.ReadError):
        async for chunk in await client.chat.completions.create(**REQUEST, stream=True):
            seen.append(chunk.choices[0].delta.content or "")
    assert "".join(seen) == "".join(PIECES)
    (record,) = client.get_metrics()
    assert record.error_type == "ReadError"
    assert record.completion_tokens == count_text("".join(PIECES))
    await abare.close()


def test_cut_stream_with_usage_requested_matches_the_bare_sdk(
    bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    """The usage chunk never came: the record counts the streamed text instead."""
    client = HeadroomClient(original_client=bare, store_url="memory://")
    text = "A fairly long answer that the provider stops sending half way through."
    openai_server.queue(cut_stream_reply(text, after=6), cut_stream_reply(text, after=6))
    options = {"stream_options": {"include_usage": True}}
    bare_chunks, bare_error = consume(bare.chat.completions.create, **options)
    chunks, error = consume(client.chat.completions.create, **options)
    assert chunks == bare_chunks and len(chunks) == 6
    same_failure(error, bare_error)
    assert openai_server.chat_requests[0].body == openai_server.chat_requests[1].body
    (record,) = client.get_metrics()
    assert record.error_type == type(error).__name__
    seen = "".join(json.loads(c)["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert 0 < len(seen) < len(text)
    assert record.completion_tokens == count_text(seen)


def test_stream_abandoned_mid_way_to_the_garbage_collector(
    bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    client = HeadroomClient(original_client=bare, store_url="memory://")
    openai_server.queue(text_reply(SLOW_TEXT, chunk_delay=0.005))
    stream = client.chat.completions.create(**REQUEST, stream=True)
    seen = [next(stream).choices[0].delta.content or "" for _ in range(4)]
    del stream  # no close(), no with: the consumer simply lets go
    gc.collect()
    assert openai_server.wait_for(
        lambda: openai_server.chat_requests[0].stream_state == "client_closed"
    )
    (record,) = client.get_metrics()
    assert record.error_type is None
    assert record.completion_tokens == count_text("".join(seen))
    gc.collect()
    assert len(client.get_metrics()) == 1  # once


def test_stream_never_iterated_then_garbage_collected(
    bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    client = HeadroomClient(original_client=bare, store_url="memory://")
    openai_server.queue(text_reply(SLOW_TEXT, chunk_delay=0.005))
    stream = client.chat.completions.create(**REQUEST, stream=True)
    del stream
    gc.collect()
    assert openai_server.wait_for(
        lambda: openai_server.chat_requests[0].stream_state == "client_closed"
    )
    (record,) = client.get_metrics()
    assert record.stream is True and record.completion_tokens == 0
    gc.collect()
    assert len(client.get_metrics()) == 1


async def test_async_stream_never_iterated_then_garbage_collected(
    openai_server: OpenAIServer,
) -> None:
    abare = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    client = AsyncHeadroomClient(original_client=abare, store_url="memory://")
    stream = await client.chat.completions.create(**REQUEST, stream=True)
    del stream
    gc.collect()
    (record,) = client.get_metrics()
    assert record.stream is True and record.completion_tokens == 0
    await abare.close()
