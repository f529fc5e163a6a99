"""End to end: an LCEL chain (prompt template | model with tools) running a tool-calling loop
with a 300-item JSON tool result, against the loopback server, recorded in a SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from lc_helpers import assert_tool_pairing, issues_payload, keys_of, tool_contents

from headroom.store import open_store
from langchain_headroom import HeadroomCallbackHandler, HeadroomChatOpenAI
from tests.support.openai_server import DEFAULT_TEXT, OpenAIServer, tool_call_reply

PROMPT = ChatPromptTemplate.from_messages(
    [("system", "You triage issues for {project}."), MessagesPlaceholder("messages")]
)


@tool
def search_issues(query: str) -> str:
    """Search the issue tracker."""
    return issues_payload()


def _run_loop(server: OpenAIServer, llm: BaseChatModel, config: Any = None) -> list[BaseMessage]:
    """Two tool turns, then the answer."""
    server.queue(
        tool_call_reply([("search_issues", {"query": "build"})]),
        tool_call_reply([("search_issues", {"query": "deploy"})]),
    )
    chain = PROMPT | llm.bind_tools([search_issues])
    messages: list[BaseMessage] = [HumanMessage("Which build and deploy issues are open?")]
    for _ in range(5):
        reply = chain.invoke({"project": "headroom", "messages": messages}, config=config)
        messages.append(reply)
        if not reply.tool_calls:  # type: ignore[attr-defined]
            break
        messages += [search_issues.invoke(call) for call in reply.tool_calls]  # type: ignore[attr-defined]
    return messages


def test_optimize_chain_compresses_tool_output(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any], tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'headroom.db'}"
    llm = HeadroomChatOpenAI(**openai_kwargs, headroom_mode="optimize", store_url=store_url)
    messages = _run_loop(openai_server, llm)
    assert messages[-1].content == DEFAULT_TEXT
    bodies = [r.json for r in openai_server.chat_requests]
    assert len(bodies) == 3
    original = issues_payload()
    for body in bodies:
        assert not any(key.startswith("headroom") for key in keys_of(body))
        assert_tool_pairing(body["messages"])
        assert body["messages"][0]["content"] == "You triage issues for headroom."
    assert [len(tool_contents(b)) for b in bodies] == [0, 1, 2]
    for content in tool_contents(bodies[2]):
        assert len(content) < len(original) / 4
        assert "pipeline crashed" in content  # the error item is kept
    assert tool_contents(bodies[1])[0] == tool_contents(bodies[2])[0]  # prefix-stable

    store = open_store(store_url)
    records = list(reversed(store.query(limit=10)))
    store.close()
    assert len(records) == 3
    assert {(r.source, r.mode) for r in records} == {("langchain", "optimize")}
    assert records[0].tokens_saved == 0 and all(r.tokens_saved > 1000 for r in records[1:])
    assert all(r.prompt_tokens == r.tokens_after for r in records)


def test_callback_handler_audit_sends_the_original_bytes(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any], tmp_path: Path
) -> None:
    _run_loop(openai_server, ChatOpenAI(**openai_kwargs))
    plain = [r.body for r in openai_server.chat_requests]
    openai_server.reset()
    store_url = f"sqlite:///{tmp_path / 'audit.db'}"
    handler = HeadroomCallbackHandler(store_url=store_url)
    _run_loop(openai_server, ChatOpenAI(**openai_kwargs), config={"callbacks": [handler]})
    assert [r.body for r in openai_server.chat_requests] == plain
    bodies = [r.json for r in openai_server.chat_requests]
    assert tool_contents(bodies[2]) == [issues_payload(), issues_payload()]

    store = open_store(store_url)
    records = list(reversed(store.query(limit=10)))
    store.close()
    assert len(records) == 3 and handler.open_runs == 0
    assert {(r.source, r.mode, r.tokens_saved) for r in records} == {("langchain", "audit", 0)}
    assert all(r.prompt_tokens == r.tokens_before for r in records)
    assert records[0].waste["oversized_tool_output"] == 0
    assert all(r.waste["oversized_tool_output"] > 1000 for r in records[1:])


def test_headroom_chat_openai_audit_matches_the_same_bytes(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    _run_loop(openai_server, ChatOpenAI(**openai_kwargs))
    plain = [r.body for r in openai_server.chat_requests]
    openai_server.reset()
    llm = HeadroomChatOpenAI(**openai_kwargs, store_url="memory://")
    _run_loop(openai_server, llm)
    assert [r.body for r in openai_server.chat_requests] == plain
    assert len(llm.get_metrics()) == 3
