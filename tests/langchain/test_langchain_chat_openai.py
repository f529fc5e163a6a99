"""HeadroomChatOpenAI over the loopback server: audit sends ChatOpenAI's exact bytes, optimize
trims the exact payload, every call is recorded once, errors reach the caller unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
import tiktoken
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from lc_helpers import issues_payload, keys_of
from pydantic import BaseModel

from headroom import count_tokens
from langchain_headroom import HeadroomChatOpenAI, HeadroomResponsesAPIWarning
from tests.support.openai_server import OpenAIServer, error_reply, text_reply


@tool
def search_issues(query: str) -> str:
    """Search the issue tracker."""
    return issues_payload()


class Answer(BaseModel):
    """An answer with a confidence."""

    answer: str
    confidence: int


def _history() -> list[Any]:
    call = {"name": "search_issues", "args": {"query": "build"}, "id": "call_1"}
    return [
        SystemMessage("You triage issues."),
        HumanMessage("Which build issues are open?"),
        AIMessage("", tool_calls=[call]),
        ToolMessage(issues_payload(), tool_call_id="call_1"),
        HumanMessage("Summarise them."),
    ]


def _bodies(server: OpenAIServer) -> list[bytes]:
    return [r.body for r in server.chat_requests]


def _exercise(llm: ChatOpenAI) -> None:
    """invoke, stream, tools and structured output: each call ChatOpenAI can make."""
    llm.invoke(_history())
    list(llm.stream(_history()))
    llm.bind_tools([search_issues]).invoke("Find build issues")
    llm.with_structured_output(Answer).invoke("How sure are you?")
    llm.batch([[HumanMessage("one")], [HumanMessage("two")]], config={"max_concurrency": 1})


def test_audit_sends_chatopenai_bytes_unchanged(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    _exercise(ChatOpenAI(**openai_kwargs))
    plain = _bodies(openai_server)
    openai_server.reset()
    llm = HeadroomChatOpenAI(**openai_kwargs, store_url="memory://")
    _exercise(llm)
    assert _bodies(openai_server) == plain
    records = llm.get_metrics()
    assert len(records) == len(plain) == 6
    assert all(r.mode == "audit" and r.tokens_saved == 0 for r in records)
    assert {r.source for r in records} == {"langchain"}
    streamed = [r for r in records if r.stream]
    assert len(streamed) == 1 and streamed[0].prompt_tokens == count_tokens(
        json.loads(plain[1])["messages"], "gpt-4o"
    )
    history = records[-1]  # newest first: the first call is the oldest record
    assert history.waste.get("oversized_tool_output", 0) > 0


async def test_audit_async_matches_plain(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    await ChatOpenAI(**openai_kwargs).ainvoke(_history())
    chunks = [c async for c in ChatOpenAI(**openai_kwargs).astream(_history())]
    plain = _bodies(openai_server)
    openai_server.reset()
    llm = HeadroomChatOpenAI(**openai_kwargs, store_url="memory://")
    await llm.ainvoke(_history())
    ours = [c async for c in llm.astream(_history())]
    assert _bodies(openai_server) == plain
    assert [c.content for c in ours] == [c.content for c in chunks]
    assert len(llm.get_metrics()) == 2


def test_optimize_trims_the_exact_payload(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any], tmp_path: Path
) -> None:
    ChatOpenAI(**openai_kwargs).invoke(_history())
    plain = openai_server.chat_requests[0].json
    openai_server.reset()
    store = f"sqlite:///{tmp_path / 'h.db'}"
    llm = HeadroomChatOpenAI(**openai_kwargs, headroom_mode="optimize", store_url=store)
    reply = llm.invoke(_history())
    sent = openai_server.chat_requests[0].json
    assert {k: v for k, v in sent.items() if k != "messages"} == {
        k: v for k, v in plain.items() if k != "messages"
    }
    assert [m["role"] for m in sent["messages"]] == [m["role"] for m in plain["messages"]]
    assert sent["messages"][1] == plain["messages"][1]  # human text byte for byte
    assert sent["messages"][2]["tool_calls"][0]["id"] == sent["messages"][3]["tool_call_id"]
    assert len(sent["messages"][3]["content"]) < len(plain["messages"][3]["content"]) / 4
    assert "pipeline crashed" in sent["messages"][3]["content"]  # the error item survives
    assert not any(k.startswith("headroom") for k in keys_of(sent))
    (record,) = llm.get_metrics()
    assert record.mode == "optimize" and record.tokens_saved > 0
    assert record.prompt_tokens == reply.usage_metadata["input_tokens"] == record.tokens_after


def test_optimize_compresses_tool_output_sent_as_content_blocks(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    """MCP tools come back as a list of text blocks; ChatOpenAI sends them as text parts.
    With ``text_parts`` opted in, each part is compressed as string content would be."""
    history = _history()
    history[3] = ToolMessage(
        [{"type": "text", "text": issues_payload()}, {"type": "text", "text": "page 1 of 1"}],
        tool_call_id="call_1",
    )
    ChatOpenAI(**openai_kwargs).invoke(history)
    plain = openai_server.chat_requests[0].json["messages"][3]["content"]
    openai_server.reset()
    llm = HeadroomChatOpenAI(
        **openai_kwargs,
        headroom_mode="optimize",
        tool_profiles={"search_issues": {"text_parts": True}},
        store_url="memory://",
    )
    reply = llm.invoke(history)
    sent = openai_server.chat_requests[0].json["messages"][3]["content"]
    assert isinstance(plain, list) and isinstance(sent, list) and len(sent) == len(plain) == 2
    assert sent[1] == plain[1]
    assert len(sent[0]["text"]) < len(plain[0]["text"]) / 4
    assert "pipeline crashed" in sent[0]["text"]
    (record,) = llm.get_metrics()
    assert record.tokens_saved > 0
    assert record.prompt_tokens == reply.usage_metadata["input_tokens"] == record.tokens_after


def test_per_call_options_are_never_sent(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    llm = HeadroomChatOpenAI(**openai_kwargs, store_url="memory://")
    llm.invoke(_history(), headroom_mode="optimize", headroom_keep_turns=1)
    llm.bind(headroom_mode="audit").invoke(_history())
    first, second = (r.json for r in openai_server.chat_requests)
    assert not any(k.startswith("headroom") for k in keys_of(first) | keys_of(second))
    assert len(first["messages"][3]["content"]) < len(second["messages"][3]["content"])
    assert [r.mode for r in llm.get_metrics()] == ["audit", "optimize"]
    with pytest.raises(ValueError, match="headroom_moed"):
        llm.invoke("hi", headroom_moed="optimize")
    with pytest.raises(ValueError, match="mode"):
        llm.invoke("hi", headroom_mode="fast")
    assert len(openai_server.chat_requests) == 2  # nothing sent for bad options


def test_bad_constructor_options_raise() -> None:
    with pytest.raises(ValueError):
        HeadroomChatOpenAI(model="gpt-4o", api_key="k", headroom_mode="fast")
    with pytest.raises(ValueError, match="keep_turns"):
        HeadroomChatOpenAI(model="gpt-4o", api_key="k", keep_turns=-1)


def test_streams_token_by_token_and_records_usage(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    openai_server.queue(text_reply("one two three four five six"))
    llm = HeadroomChatOpenAI(**openai_kwargs, headroom_mode="optimize", store_url="memory://")
    chunks = list(llm.stream([HumanMessage("count")]))
    texts = [c.content for c in chunks if c.content]
    assert len(texts) >= 6 and "".join(texts) == "one two three four five six"
    assert openai_server.chat_requests[0].json["stream_options"] == {"include_usage": True}
    (record,) = llm.get_metrics()
    assert record.stream and record.completion_tokens == 6
    assert record.prompt_tokens == count_tokens([{"role": "user", "content": "count"}], "gpt-4o")


def test_provider_errors_reach_the_caller_and_are_recorded(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    llm = HeadroomChatOpenAI(**openai_kwargs, store_url="memory://")
    openai_server.queue(error_reply(500), error_reply(429))
    with pytest.raises(openai.InternalServerError) as server_error:
        llm.invoke("hi")
    with pytest.raises(openai.RateLimitError) as rate_limit:
        list(llm.stream("hi"))
    assert server_error.value.status_code == 500 and rate_limit.value.status_code == 429
    assert [r.error_type for r in llm.get_metrics()] == [
        type(rate_limit.value).__name__,
        type(server_error.value).__name__,
    ]


def test_counts_tokens_offline_like_the_api(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_download(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("tried to load a tiktoken tokenizer")

    monkeypatch.setattr(tiktoken, "encoding_for_model", no_download)
    monkeypatch.setattr(tiktoken, "get_encoding", no_download)
    llm = HeadroomChatOpenAI(**openai_kwargs)
    counted = llm.get_num_tokens_from_messages(_history(), tools=[search_issues])
    reply = llm.bind_tools([search_issues]).invoke(_history())
    assert counted == reply.usage_metadata["input_tokens"]
    assert llm.get_num_tokens("hello world") == 2


def test_responses_api_passes_through_unchanged(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    with pytest.raises(openai.NotFoundError) as plain_error:  # no /v1/responses here
        ChatOpenAI(**openai_kwargs, use_responses_api=True).invoke(_history())
    plain = [r.body for r in openai_server.requests]
    openai_server.reset()
    llm = HeadroomChatOpenAI(
        **openai_kwargs, use_responses_api=True, headroom_mode="optimize", store_url="memory://"
    )
    with pytest.warns(HeadroomResponsesAPIWarning), pytest.raises(openai.NotFoundError):
        llm.invoke(_history())
    assert openai_server.requests[0].path.endswith("/responses")
    assert [r.body for r in openai_server.requests] == plain
    (record,) = llm.get_metrics()
    assert record.mode == "audit" and record.error_type == type(plain_error.value).__name__
    assert record.waste.get("oversized_tool_output", 0) > 0


PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)


def test_image_parts_pass_through_optimize(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    message = HumanMessage(
        content=[
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
            {"type": "image", "base64": PIXEL, "mime_type": "image/png"},
        ]
    )
    ChatOpenAI(**openai_kwargs).invoke([message])
    llm = HeadroomChatOpenAI(**openai_kwargs, headroom_mode="optimize", store_url="memory://")
    reply = llm.invoke([message])
    plain, ours = (r.body for r in openai_server.chat_requests)
    assert ours == plain
    (record,) = llm.get_metrics()
    assert record.prompt_tokens == reply.usage_metadata["input_tokens"] == record.tokens_before


def test_concurrent_optimize_calls_record_their_own_plans(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    llm = HeadroomChatOpenAI(**openai_kwargs, headroom_mode="optimize", store_url="memory://")
    inputs = [[*_history()[:4], HumanMessage("question " * (i + 1))] for i in range(8)]
    replies = llm.batch(inputs, config={"max_concurrency": 4})
    records = llm.get_metrics()
    assert len(records) == 8
    assert sorted(r.prompt_tokens for r in records) == sorted(
        reply.usage_metadata["input_tokens"] for reply in replies
    )
    assert all(r.prompt_tokens == r.tokens_after and r.tokens_saved > 1000 for r in records)
