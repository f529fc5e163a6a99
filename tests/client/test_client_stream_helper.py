"""``chat.completions.stream(...)``, the SDK's stream helper: the request is planned like
``create``, the caller gets the SDK's own events and final completion, and one record is
written when the ``with`` block ends, whatever way it ends."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pydantic
import pytest

from headroom import AsyncHeadroomClient, HeadroomClient
from headroom.tokens import count_text
from tests.support.openai_server import (
    OpenAIServer,
    cut_stream_reply,
    error_reply,
    text_reply,
    tool_call_reply,
)

from .conftest import SEARCH_TOOL
from .test_client_optimize import _tool_history
from .test_client_streaming import LONG_TEXT, SLOW_TEXT

REQUEST: dict[str, Any] = {"model": "gpt-4o", "messages": _tool_history()}


def test_optimized_request_and_the_sdk_events_unchanged(
    client: HeadroomClient, bare: openai.OpenAI, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(LONG_TEXT), text_reply(LONG_TEXT))
    with bare.chat.completions.stream(**REQUEST) as direct:
        direct_events = [event.type for event in direct]
    plan = client.chat.completions.simulate(**REQUEST)
    with client.chat.completions.stream(**REQUEST, headroom_mode="optimize") as stream:
        events = [event.type for event in stream]
        final = stream.get_final_completion()
    assert events == direct_events and "content.delta" in events
    assert final.choices[0].message.content == LONG_TEXT
    direct_body, sent = openai_server.chat_requests
    assert direct_body.json["messages"] == REQUEST["messages"]
    assert sent.json["messages"] == plan.messages != REQUEST["messages"]
    assert sent.json["stream"] is True
    (record,) = client.get_metrics()
    assert record.stream is True and record.mode == "optimize"
    assert record.tokens_saved == plan.tokens_saved > 0
    assert record.completion_tokens == count_text(LONG_TEXT)
    assert record.error_type is None


def test_audit_mode_sends_the_request_as_it_was(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    with client.chat.completions.stream(**REQUEST) as stream:
        stream.until_done()
    assert openai_server.chat_requests[0].json["messages"] == REQUEST["messages"]
    (record,) = client.get_metrics()
    assert record.mode == "audit" and record.tokens_before > 0


def test_usage_chunk_is_the_record_when_asked_for(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    usage = {"completion_tokens": 999, "prompt_tokens_details": {"cached_tokens": 256}}
    openai_server.queue(text_reply(LONG_TEXT, usage=usage))
    with client.chat.completions.stream(
        **REQUEST, stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    assert final.usage is not None
    (record,) = client.get_metrics()
    assert record.completion_tokens == 999 and record.cached_tokens == 256
    assert record.prompt_tokens == final.usage.prompt_tokens


def test_tool_calls_and_structured_output(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    arguments = {"query": "flaky test", "limit": 5}
    openai_server.queue(tool_call_reply([("search", arguments)]))
    with client.chat.completions.stream(**REQUEST, tools=[SEARCH_TOOL]) as stream:
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == arguments

    class Triage(pydantic.BaseModel):
        open_issues: int

    openai_server.queue(text_reply('{"open_issues": 300}'))
    with client.chat.completions.stream(**REQUEST, response_format=Triage) as stream:
        parsed = stream.get_final_completion().choices[0].message.parsed
    assert parsed == Triage(open_issues=300)
    tools_record, parse_record = reversed(client.get_metrics())
    expected = count_text("search") + count_text(json.dumps(arguments))
    assert tools_record.completion_tokens == expected
    assert parse_record.completion_tokens == count_text('{"open_issues": 300}')


def test_provider_error_reaches_the_caller_and_is_recorded(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(error_reply(429))
    manager = client.chat.completions.stream(**REQUEST)
    with pytest.raises(openai.RateLimitError), manager:
        pass
    (record,) = client.get_metrics()
    assert record.stream is True and record.error_type == "RateLimitError"


def test_stream_cut_mid_way_is_recorded_with_what_came(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(cut_stream_reply(LONG_TEXT, after=5))
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.chat.completions.stream(**REQUEST) as stream,
    ):
        for _event in stream:
            pass
    (record,) = client.get_metrics()
    assert record.error_type == "RemoteProtocolError"
    assert 0 < (record.completion_tokens or 0) < count_text(LONG_TEXT)


def test_leaving_early_hangs_up_and_records_once(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(SLOW_TEXT, chunk_delay=0.005))
    with client.chat.completions.stream(**REQUEST) as stream:
        for index, _event in enumerate(stream):
            if index == 6:
                break
    assert openai_server.wait_for(
        lambda: openai_server.chat_requests[0].stream_state == "client_closed"
    )
    (record,) = client.get_metrics()
    assert record.error_type is None
    assert 0 < (record.completion_tokens or 0) < count_text(SLOW_TEXT)


def test_bad_headroom_option_is_a_clear_error_before_sending(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    with pytest.raises(ValueError, match="headroom_mode"):
        client.chat.completions.stream(**REQUEST, headroom_mood="optimize")
    assert openai_server.chat_requests == []


async def test_async_stream_helper(
    aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(LONG_TEXT))
    plan = aclient.chat.completions.simulate(**REQUEST)
    async with aclient.chat.completions.stream(**REQUEST, headroom_mode="optimize") as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == LONG_TEXT
    assert openai_server.chat_requests[0].json["messages"] == plan.messages
    (record,) = aclient.get_metrics()
    assert record.stream and record.mode == "optimize" and record.tokens_saved > 0
    assert record.completion_tokens == count_text(LONG_TEXT)


async def test_async_stream_helper_error_and_cut(
    aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(error_reply(500), cut_stream_reply(after=2))
    with pytest.raises(openai.InternalServerError):
        async with aclient.chat.completions.stream(**REQUEST):
            pass
    with pytest.raises(httpx.RemoteProtocolError):
        async with aclient.chat.completions.stream(**REQUEST) as stream:
            async for _event in stream:
                pass
    cut, failed = aclient.get_metrics()
    assert failed.error_type == "InternalServerError"
    assert cut.error_type == "RemoteProtocolError"
