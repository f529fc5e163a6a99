"""Audit mode is invisible on the wire: the provider receives exactly the bytes the bare SDK
would send; headroom_* options never leave the process; everything else passes through."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion

from headroom import AsyncHeadroomClient, HeadroomClient
from tests.support.openai_server import OpenAIServer

from .conftest import SEARCH_TOOL, chat_bodies

WORKLOADS = Path(__file__).resolve().parents[3] / "shared" / "workloads" / "dev"

REQUESTS: dict[str, dict[str, Any]] = {
    "plain": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]},
    "tools and sampling": {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are helpful. Current date: 2024-01-15"},
            {"role": "user", "content": "Find issue 42"},
        ],
        "tools": [SEARCH_TOOL],
        "tool_choice": "auto",
        "temperature": 0.2,
        "max_tokens": 300,
        "seed": 7,
        "user": "u-1",
        "metadata": {"team": "infra"},
        "parallel_tool_calls": False,
    },
    "tool history and parts": {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is in the log?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "search", "arguments": '{"query": "log"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"rows": [1] * 200})},
        ],
        "tools": [SEARCH_TOOL],
        "response_format": {"type": "json_object"},
        "extra_body": {"provider_flag": True},
    },
    "stream with usage": {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Stream please"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    },
}


def _consume(result: Any) -> None:
    if isinstance(result, ChatCompletion):
        return
    for _chunk in result:
        pass


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_audit_body_is_byte_identical(
    name: str, bare: openai.OpenAI, client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    request = REQUESTS[name]
    _consume(bare.chat.completions.create(**request))
    _consume(client.chat.completions.create(**request))
    _consume(
        client.chat.completions.create(**request, headroom_mode="audit", headroom_keep_turns=3)
    )
    direct, wrapped, with_options = chat_bodies(openai_server)
    assert wrapped == direct
    assert with_options == direct
    assert b"headroom" not in wrapped


def test_audit_body_is_byte_identical_on_a_real_workload(
    bare: openai.OpenAI, client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    path = WORKLOADS / "dev-12-github-issue-comment-lookup.json"
    request = json.loads(path.read_text())["request"]
    bare.chat.completions.create(**request)
    client.chat.completions.create(**request)
    direct, wrapped = chat_bodies(openai_server)
    assert wrapped == direct
    (record,) = client.get_metrics()
    assert record.tokens_before == record.prompt_tokens  # Headroom's count is what was billed


async def test_async_audit_body_is_byte_identical(
    abare: openai.AsyncOpenAI, aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    for name in sorted(REQUESTS):
        request = REQUESTS[name]
        for target in (abare, aclient):
            result = await target.chat.completions.create(**request)
            if request.get("stream"):
                async for _chunk in result:
                    pass
    bodies = chat_bodies(openai_server)
    assert bodies[0::2] == bodies[1::2]
    assert len(aclient.get_metrics()) == len(REQUESTS)


def test_returns_the_sdk_own_response_objects(client: HeadroomClient) -> None:
    reply = client.chat.completions.create(**REQUESTS["plain"])
    assert type(reply) is ChatCompletion
    raw = client.chat.completions.with_raw_response.create(**REQUESTS["plain"])
    assert raw.http_response.status_code == 200
    assert type(raw.parse()) is ChatCompletion


@pytest.mark.parametrize(
    "options, message",
    [
        ({"headroom_turbo": True}, "headroom_turbo"),
        ({"headroom_mode": "simulate"}, "mode"),
        ({"headroom_mode": "fast"}, "optimize"),
        ({"headroom_keep_turns": -1}, "keep_turns"),
        ({"headroom_output_buffer_tokens": "lots"}, "output_buffer_tokens"),
        ({"headroom_tool_profiles": {"search": {"max_array_items": -2}}}, "max_array_items"),
        ({"headroom_tool_profiles": {"search": {"bogus": 1}}}, "bogus"),
    ],
)
def test_bad_headroom_options_raise_before_sending(
    options: dict[str, Any],
    message: str,
    client: HeadroomClient,
    openai_server: OpenAIServer,
) -> None:
    with pytest.raises(ValueError, match=message):
        client.chat.completions.create(**REQUESTS["plain"], **options)
    with pytest.raises(ValueError, match=message):
        client.chat.completions.create(**REQUESTS["plain"], stream=True, **options)
    assert openai_server.requests == []
    assert client.get_metrics() == []


def test_bad_construction_arguments(bare: openai.OpenAI, abare: openai.AsyncOpenAI) -> None:
    with pytest.raises(ValueError, match="sqlite:///"):
        HeadroomClient(original_client=bare, store_url="mysql://db")
    with pytest.raises(ValueError, match="optimize"):
        HeadroomClient(original_client=bare, store_url="memory://", default_mode="simulate")
    with pytest.raises(ValueError, match="AsyncHeadroomClient"):
        HeadroomClient(original_client=abare, store_url="memory://")
    with pytest.raises(ValueError, match="HeadroomClient"):
        AsyncHeadroomClient(original_client=bare, store_url="memory://")
    with pytest.raises(ValueError, match="chat.completions.create"):
        HeadroomClient(original_client=object(), store_url="memory://")


def test_other_attributes_pass_through(
    bare: openai.OpenAI, client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    assert client.models is bare.models
    assert client.embeddings is bare.embeddings
    assert client.responses is bare.responses
    assert client.base_url == bare.base_url
    assert client.chat.completions.with_streaming_response is not None
    assert "gpt-4o" in [m.id for m in client.models.list().data]
    client.embeddings.create(model="text-embedding-3-small", input="x")
    slower = client.with_options(timeout=30)
    assert isinstance(slower, openai.OpenAI)
    assert client.original_client is bare
    assert client.get_metrics() == []  # only chat completions are recorded
    assert [r.path for r in openai_server.requests] == ["/v1/models", "/v1/embeddings"]


def test_context_manager_closes_store_and_client(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    base = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with HeadroomClient(original_client=base, store_url=url) as client:
        client.chat.completions.create(**REQUESTS["plain"])
    assert base.is_closed()
    reopened = HeadroomClient(original_client=openai.OpenAI(api_key="x"), store_url=url)
    assert len(reopened.get_metrics()) == 1
    reopened.close()


async def test_async_context_manager(openai_server: OpenAIServer) -> None:
    base = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    async with AsyncHeadroomClient(original_client=base, store_url="memory://") as client:
        reply = await client.chat.completions.create(**REQUESTS["plain"])
        assert reply.choices[0].message.content
        assert client.get_summary()["total_requests"] == 1
    assert base.is_closed()


def test_messages_from_a_generator_are_sent_and_recorded(
    bare: openai.OpenAI,
    make_client: Callable[..., HeadroomClient],
    openai_server: OpenAIServer,
) -> None:
    messages = REQUESTS["plain"]["messages"]
    bare.chat.completions.create(model="gpt-4o", messages=messages)
    client = make_client()
    client.chat.completions.create(model="gpt-4o", messages=(m for m in messages))
    direct, wrapped = chat_bodies(openai_server)
    assert wrapped == direct
    assert client.get_metrics()[0].tokens_before > 0


def test_simulate_returns_a_plan_without_calling_the_api(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    request = REQUESTS["tool history and parts"]
    plan = client.chat.completions.simulate(
        model=request["model"], messages=request["messages"], tools=request["tools"]
    )
    assert plan.mode == "optimize"
    assert plan.tokens_saved > 0
    audit = client.chat.completions.simulate(**request, headroom_mode="audit")
    assert audit.mode == "audit" and audit.tokens_saved == 0
    assert audit.tokens_before == plan.tokens_before
    assert openai_server.requests == []
    assert client.get_metrics() == []
    with pytest.raises(ValueError, match="headroom_nope"):
        client.chat.completions.simulate(**request, headroom_nope=1)
