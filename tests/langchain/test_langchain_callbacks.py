"""HeadroomCallbackHandler: audit metrics from any chain or chat model, without changing a
request, never raising into the chain, and keeping concurrent runs apart."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import openai
import pytest
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from lc_helpers import RecordingChatModel, replies

from headroom import count_tokens
from langchain_headroom import HeadroomCallbackHandler
from tests.support.openai_server import OpenAIServer, error_reply

USAGE = {
    "input_tokens": 40,
    "output_tokens": 3,
    "total_tokens": 43,
    "input_token_details": {"cache_read": 16},
}


def test_records_a_non_openai_model() -> None:
    handler = HeadroomCallbackHandler(store_url="memory://", model="claude-sonnet-4-5")
    fake = RecordingChatModel(messages=replies("hello there", usage=USAGE))
    history = [HumanMessage("Hi, who are you?")]
    assert fake.invoke(history, config={"callbacks": [handler]}).content == "hello there"
    assert fake.received[0][0] is history[0]
    (record,) = handler.get_metrics()
    assert (record.mode, record.source, record.model) == ("audit", "langchain", "claude-sonnet-4-5")
    assert (record.prompt_tokens, record.completion_tokens, record.cached_tokens) == (40, 3, 16)
    assert record.tokens_before == count_tokens([{"role": "user", "content": history[0].content}])
    assert handler.open_runs == 0


def test_concurrent_runs_are_kept_apart(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    handler = HeadroomCallbackHandler(store_url="memory://")
    chain = (
        ChatPromptTemplate.from_messages([("human", "{question}")])
        | ChatOpenAI(**openai_kwargs)
        | StrOutputParser()
    )
    questions = [{"question": "word " * (10 * i + 1)} for i in range(8)]
    answers = chain.batch(questions, config={"callbacks": [handler], "max_concurrency": 4})
    assert len(answers) == 8 and all(answers)
    records = handler.get_metrics()
    assert len(records) == 8 and handler.open_runs == 0
    # Each record pairs its own plan with its own usage (the server bills exactly the count).
    assert all(r.prompt_tokens == r.tokens_before for r in records)
    assert len({r.tokens_before for r in records}) == 8


async def test_async_chain_and_streams(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    handler = HeadroomCallbackHandler(store_url="memory://")
    llm = ChatOpenAI(**openai_kwargs)
    await llm.ainvoke("hello", config={"callbacks": [handler]})
    chunks = [c async for c in llm.astream("hello", config={"callbacks": [handler]})]
    assert len(chunks) > 2
    records = handler.get_metrics()
    assert len(records) == 2 and all(r.prompt_tokens == r.tokens_before for r in records)


def test_provider_errors_are_recorded_and_raised(
    openai_server: OpenAIServer, openai_kwargs: dict[str, Any]
) -> None:
    handler = HeadroomCallbackHandler(store_url="memory://")
    openai_server.queue(error_reply(500))
    with pytest.raises(openai.InternalServerError) as caught:
        ChatOpenAI(**openai_kwargs).invoke("hi", config={"callbacks": [handler]})
    (record,) = handler.get_metrics()
    assert record.error_type == type(caught.value).__name__ and handler.open_runs == 0


def test_store_failures_never_reach_the_chain(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    handler = HeadroomCallbackHandler(store_url=f"jsonl:///{folder / 'h.jsonl'}")
    fake = RecordingChatModel(messages=replies("one", "two", "three", usage=USAGE))
    fake.invoke("first", config={"callbacks": [handler]})
    shutil.rmtree(folder)
    folder.write_text("a file where the store's folder was")  # every later write fails
    assert fake.invoke("second", config={"callbacks": [handler]}).content == "two"
    assert fake.invoke("third", config={"callbacks": [handler]}).content == "three"
    assert handler.headroom.recorder is not None
    assert handler.headroom.recorder.dropped_records == 2
    assert sum(handler.headroom.recorder.failures.values()) == 2
