"""HeadroomChatModel: any chat model behind Headroom. The wrapped model receives the caller's
own message objects (audit, and every message optimize leaves alone); sync, async, streaming,
tools and structured output delegate to it."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from lc_helpers import RecordingChatModel, issues_payload, keys_of, replies
from pydantic import BaseModel

from headroom import HeadroomBudgetError
from langchain_headroom import HeadroomChatModel
from tests.support.openai_server import OpenAIServer, tool_call_reply

USAGE = {"input_tokens": 900, "output_tokens": 7, "total_tokens": 907}


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
        SystemMessage("You triage issues.", id="m0"),
        HumanMessage("Which build issues are open?", id="m1", name="ana"),
        AIMessage(
            "",
            id="m2",
            tool_calls=[call],
            additional_kwargs={"trace": "t-2"},
            response_metadata={"model_name": "claude"},
        ),
        ToolMessage(
            issues_payload(),
            tool_call_id="call_1",
            id="m3",
            name="search_issues",
            additional_kwargs={"source": "tracker"},
        ),
        HumanMessage("Summarise them.", id="m4"),
    ]


def _fake(*texts: str) -> RecordingChatModel:
    return RecordingChatModel(messages=replies(*texts, usage=USAGE))


def test_audit_hands_over_the_callers_objects() -> None:
    fake = _fake("fine")
    llm = HeadroomChatModel(llm=fake, store_url="memory://")
    history = _history()
    assert llm.invoke(history).content == "fine"
    (received,) = fake.received
    assert all(a is b for a, b in zip(received, history, strict=True))
    (record,) = llm.get_metrics()
    assert record.mode == "audit" and record.source == "langchain"
    assert (record.prompt_tokens, record.completion_tokens) == (900, 7)
    assert record.waste["oversized_tool_output"] > 0


def test_optimize_keeps_unchanged_messages_as_the_same_objects() -> None:
    fake = _fake("fine")
    llm = HeadroomChatModel(llm=fake, mode="optimize", store_url="memory://")
    history = _history()
    original_output = history[3].content
    llm.invoke(history)
    (received,) = fake.received
    assert len(received) == 5
    for index in (0, 1, 2, 4):
        assert received[index] is history[index]
    tool_message = received[3]
    assert tool_message is not history[3] and isinstance(tool_message, ToolMessage)
    assert (tool_message.id, tool_message.tool_call_id, tool_message.name) == (
        "m3",
        "call_1",
        "search_issues",
    )
    assert tool_message.additional_kwargs == {"source": "tracker"}
    assert len(tool_message.content) < len(original_output) / 4
    assert history[3].content == original_output  # the caller's message is untouched
    (record,) = llm.get_metrics()
    assert record.mode == "optimize" and record.tokens_saved > 0


def test_streams_through_the_wrapped_model() -> None:
    fake = _fake("one two three four")
    llm = HeadroomChatModel(llm=fake, mode="optimize", store_url="memory://")
    chunks = list(llm.stream(_history()))
    assert len(chunks) >= 4
    assert "".join(str(c.content) for c in chunks) == "one two three four"
    (record,) = llm.get_metrics()
    assert record.stream and record.tokens_saved > 0


async def test_async_calls_delegate() -> None:
    fake = _fake("first", "second answer here")
    llm = HeadroomChatModel(llm=fake, mode="optimize", store_url="memory://")
    assert (await llm.ainvoke(_history())).content == "first"
    chunks = [c async for c in llm.astream(_history())]
    assert "".join(str(c.content) for c in chunks) == "second answer here"
    assert len(fake.received) == 2
    assert [r.stream for r in llm.get_metrics()] == [True, False]


def test_budget_error_before_anything_is_sent() -> None:
    fake = _fake("never")
    llm = HeadroomChatModel(
        llm=fake,
        mode="optimize",
        model="small-model",
        model_context_limits={"small-model": 600},
        output_buffer_tokens=100,
    )
    with pytest.raises(HeadroomBudgetError):
        llm.invoke([HumanMessage("word " * 2000)])
    assert fake.received == []


def test_tools_round_trip_through_a_wrapped_chat_openai(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    llm = HeadroomChatModel(llm=ChatOpenAI(**openai_kwargs), mode="optimize", store_url="memory://")
    bound = llm.bind_tools([search_issues])
    openai_server.queue(tool_call_reply([("search_issues", {"query": "build"})]))
    messages: list[Any] = [HumanMessage("Which build issues are open?")]
    first = bound.invoke(messages, headroom_keep_turns=1)
    assert isinstance(first, AIMessage) and first.tool_calls[0]["name"] == "search_issues"
    messages += [first, search_issues.invoke(first.tool_calls[0])]
    final = bound.invoke(messages)
    assert isinstance(final, AIMessage) and final.content
    first_body, second_body = (r.json for r in openai_server.chat_requests)
    assert first_body["tools"][0]["function"]["name"] == "search_issues"
    assert not any(k.startswith("headroom") for k in keys_of(first_body))
    sent_tool = second_body["messages"][2]
    assert sent_tool["tool_call_id"] == second_body["messages"][1]["tool_calls"][0]["id"]
    assert len(sent_tool["content"]) < len(issues_payload()) / 4
    assert [r.tokens_saved > 0 for r in llm.get_metrics()] == [True, False]


def test_structured_output_through_a_wrapped_chat_openai(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    llm = HeadroomChatModel(llm=ChatOpenAI(**openai_kwargs), store_url="memory://")
    for method in ("json_schema", "function_calling"):
        result = llm.with_structured_output(Answer, method=method).invoke("How sure?")
        assert isinstance(result, Answer)
    raw = llm.with_structured_output(Answer, include_raw=True).invoke("How sure?")
    assert isinstance(raw["parsed"], Answer) and isinstance(raw["raw"], AIMessage)
    assert len(llm.get_metrics()) == len(openai_server.chat_requests) == 3


def test_counts_in_the_openai_form() -> None:
    llm = HeadroomChatModel(llm=_fake("x"))
    assert llm.get_num_tokens_from_messages(_history()) > 1000
    assert llm._llm_type == "headroom-generic-fake-chat-model"
