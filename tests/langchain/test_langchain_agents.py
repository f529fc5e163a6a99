"""LangChain 1.x agents (create_agent) run several tool turns to completion against the
loopback server, with HeadroomMiddleware or with HeadroomChatOpenAI as the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from lc_helpers import (
    RecordingChatModel,
    assert_tool_pairing,
    issues_payload,
    keys_of,
    replies,
    tool_contents,
)

from headroom.store import open_store
from langchain_headroom import HeadroomChatOpenAI, HeadroomMiddleware
from tests.support.openai_server import DEFAULT_TEXT, OpenAIServer, tool_call_reply

SYSTEM = "You triage issues. Use the tools."
QUESTION = "Which build, deploy and release issues are open?"


@tool
def search_issues(query: str) -> str:
    """Search the issue tracker."""
    return issues_payload()


def _script(server: OpenAIServer) -> None:
    """Three tool turns, then the answer (the server's default once a tool result is last)."""
    server.queue(
        *(tool_call_reply([("search_issues", {"query": q})]) for q in ("build", "deploy", "rel"))
    )


def _check_compressed(server: OpenAIServer) -> list[dict[str, Any]]:
    bodies = [r.json for r in server.chat_requests]
    assert len(bodies) == 4
    assert [len(tool_contents(b)) for b in bodies] == [0, 1, 2, 3]
    for body in bodies:
        assert_tool_pairing(body["messages"])
        assert body["messages"][0] == {"content": SYSTEM, "role": "system"}
        assert not any(key.startswith("headroom") for key in keys_of(body))
        for content in tool_contents(body):
            assert len(content) < len(issues_payload()) / 4
    return bodies


def _final(result: dict[str, Any]) -> AIMessage:
    last = result["messages"][-1]
    assert isinstance(last, AIMessage) and last.content == DEFAULT_TEXT
    assert sum(1 for m in result["messages"] if m.type == "tool") == 3
    return last


def test_agent_with_middleware(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any], tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'agent.db'}"
    middleware = HeadroomMiddleware(mode="optimize", store_url=store_url)
    agent = create_agent(
        ChatOpenAI(**openai_kwargs), [search_issues], system_prompt=SYSTEM, middleware=[middleware]
    )
    _script(openai_server)
    result = agent.invoke({"messages": [HumanMessage(QUESTION)]})
    _final(result)
    _check_compressed(openai_server)
    # The agent's own state keeps the full tool results: only what is sent is trimmed.
    assert all(m.content == issues_payload() for m in result["messages"] if m.type == "tool")
    store = open_store(store_url)
    records = list(reversed(store.query(limit=10)))
    store.close()
    assert len(records) == 4 and {r.mode for r in records} == {"optimize"}
    assert records[0].tokens_saved == 0 and all(r.tokens_saved > 1000 for r in records[1:])
    assert all(r.prompt_tokens == r.tokens_after for r in records)


async def test_agent_with_middleware_async(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    middleware = HeadroomMiddleware(mode="optimize", store_url="memory://")
    agent = create_agent(
        ChatOpenAI(**openai_kwargs), [search_issues], system_prompt=SYSTEM, middleware=[middleware]
    )
    _script(openai_server)
    _final(await agent.ainvoke({"messages": [HumanMessage(QUESTION)]}))
    _check_compressed(openai_server)
    assert len(middleware.get_metrics()) == 4


def test_agent_with_headroom_chat_openai(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    llm = HeadroomChatOpenAI(**openai_kwargs, headroom_mode="optimize", store_url="memory://")
    agent = create_agent(llm, [search_issues], system_prompt=SYSTEM)
    _script(openai_server)
    _final(agent.invoke({"messages": [HumanMessage(QUESTION)]}))
    _check_compressed(openai_server)
    records = llm.get_metrics()
    assert len(records) == 4 and all(r.tokens_saved > 1000 for r in records[:3])


def test_audit_middleware_changes_nothing(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    plain_agent = create_agent(ChatOpenAI(**openai_kwargs), [search_issues], system_prompt=SYSTEM)
    _script(openai_server)
    plain_agent.invoke({"messages": [HumanMessage(QUESTION)]})
    plain = [r.body for r in openai_server.chat_requests]
    openai_server.reset()
    middleware = HeadroomMiddleware(store_url="memory://")
    agent = create_agent(
        ChatOpenAI(**openai_kwargs), [search_issues], system_prompt=SYSTEM, middleware=[middleware]
    )
    _script(openai_server)
    agent.invoke({"messages": [HumanMessage(QUESTION)]})
    assert [r.body for r in openai_server.chat_requests] == plain
    records = middleware.get_metrics()
    assert len(records) == 4 and {(r.mode, r.tokens_saved) for r in records} == {("audit", 0)}
    assert all(r.prompt_tokens == r.tokens_before for r in records)


def test_middleware_with_a_non_openai_model() -> None:
    """Whatever the chat model: the fake gets the trimmed tool output and, for every message
    Headroom left alone, the agent's own message object."""
    fake = RecordingChatModel(
        messages=replies("done", usage={"input_tokens": 9, "output_tokens": 1, "total_tokens": 10})
    )
    middleware = HeadroomMiddleware(mode="optimize", model="claude-sonnet-4-5")
    agent = create_agent(fake, [], system_prompt=SYSTEM, middleware=[middleware])
    call = {"name": "search_issues", "args": {"query": "build"}, "id": "call_1"}
    history = [
        HumanMessage(QUESTION, id="h1"),
        AIMessage("", tool_calls=[call], id="a1"),
        ToolMessage(issues_payload(), tool_call_id="call_1", id="t1"),
        HumanMessage("Summarise them.", id="h2"),
    ]
    result = agent.invoke({"messages": history})
    assert result["messages"][-1].content == "done"
    (received,) = fake.received
    assert received[0].content == SYSTEM
    assert [m.id for m in received[1:]] == ["h1", "a1", "t1", "h2"]
    assert received[3].tool_call_id == "call_1"
    assert len(received[3].content) < len(issues_payload()) / 4
    assert middleware.last_plan is not None and middleware.last_plan.tokens_saved > 1000
    assert middleware.last_plan.model == "claude-sonnet-4-5"
