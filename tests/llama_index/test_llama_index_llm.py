"""HeadroomLLM over llama_index.llms.openai.OpenAI talking HTTP to the loopback server."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
)
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.llms.headroom import HeadroomLLM
from llama_index.llms.openai import OpenAI
from llama_index.llms.openai.utils import to_openai_message_dicts

from headroom import HeadroomBudgetError, count_tokens
from headroom.recording import Recorder
from headroom.store import MemoryStore, open_store
from tests.support.openai_server import error_reply

DIGEST = "<headroom:tool_digest"


def search_results(n: int = 120) -> str:
    rows = [
        {"id": i, "title": f"Order {i}", "customer": f"ACME-{i % 7}", "total": i * 3}
        for i in range(n)
    ]
    return json.dumps({"results": rows}, indent=2)


def agent_history() -> list[ChatMessage]:
    """A system prompt, a question, a tool call with a large JSON result, a follow-up."""
    return [
        ChatMessage(role="system", content="You answer questions about orders."),
        ChatMessage(role="user", content="List the orders of ACME-3."),
        ChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(
                    tool_call_id="call_1", tool_name="search", tool_kwargs={"q": "ACME-3"}
                )
            ],
            additional_kwargs={"keep": "me"},
        ),
        ChatMessage(
            role="tool", content=search_results(), additional_kwargs={"tool_call_id": "call_1"}
        ),
        ChatMessage(role="user", content="Which one has the largest total?"),
    ]


def body_messages(messages: list[ChatMessage]) -> list[Any]:
    """What llama_index's OpenAI LLM puts on the wire for ``messages``."""
    return json.loads(json.dumps(to_openai_message_dicts(messages, model="gpt-4o")))


class LLMEndEvents(BaseEventHandler):
    """Counts the instrumentation events that mark the end of an LLM call."""

    ends: int = 0

    @classmethod
    def class_name(cls) -> str:
        return "LLMEndEvents"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, (LLMChatEndEvent, LLMCompletionEndEvent)):
            self.ends += 1


@pytest.fixture
def end_events() -> Any:
    root = get_dispatcher()
    handler = LLMEndEvents()
    root.add_event_handler(handler)
    yield handler
    root.event_handlers.remove(handler)


# -- conventions --------------------------------------------------------------------------
def test_it_is_a_llama_index_llm_that_reports_the_wrapped_model() -> None:
    inner = OpenAI(model="gpt-4o-mini", api_key="sk-test", api_base="http://127.0.0.1:9/v1")
    llm = HeadroomLLM(llm=inner, mode="optimize", keep_turns=3)
    assert BaseLLM in type(llm).__mro__ and isinstance(llm, FunctionCallingLLM)
    assert HeadroomLLM.class_name() == "HeadroomLLM"
    assert llm.metadata == inner.metadata
    assert llm.metadata.context_window == inner.metadata.context_window == 128_000
    assert llm.metadata.is_function_calling_model
    data = llm.to_dict()
    assert data["class_name"] == "HeadroomLLM" and data["mode"] == "optimize"
    assert data["llm"]["class_name"] == "openai_llm" and data["llm"]["model"] == "gpt-4o-mini"
    assert "api_key" not in data["llm"]  # no secrets in serialized components
    json.loads(llm.to_json())
    again = HeadroomLLM.from_dict(data)
    assert isinstance(again.llm, OpenAI) and again.llm.model == "gpt-4o-mini"
    assert again.mode == "optimize" and again.keep_turns == 3


def test_bad_options_raise_value_error_before_anything_is_sent() -> None:
    inner = OpenAI(model="gpt-4o", api_key="sk-test", api_base="http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="mode"):
        HeadroomLLM(llm=inner, mode="aggressive")
    with pytest.raises(ValueError, match="max_array_items"):
        HeadroomLLM(llm=inner, tool_profiles={"search": {"max_array_items": -2}})
    with pytest.raises(ValueError, match="LlamaIndex LLM"):
        HeadroomLLM(llm="gpt-4o")


# -- audit and optimize -------------------------------------------------------------------
def test_audit_sends_the_messages_unchanged_and_records_usage_once(
    make_openai: Any, chat_requests: Any
) -> None:
    llm = HeadroomLLM(llm=make_openai(), mode="audit", store_url="memory://")
    messages = agent_history()
    response = llm.chat(messages)
    (body,) = chat_requests()
    assert body["messages"] == body_messages(messages)
    (record,) = llm.get_metrics()
    assert record.mode == "audit" and record.source == "llama_index" and not record.stream
    assert record.prompt_tokens == response.raw.usage.prompt_tokens
    # the canonical form counts exactly what went over the wire
    assert record.tokens_before == record.prompt_tokens == count_tokens(body["messages"])
    assert record.tokens_saved == 0
    assert record.waste.get("oversized_tool_output", 0) > 0


def test_optimize_sends_the_planned_messages(make_openai: Any, chat_requests: Any) -> None:
    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    messages = agent_history()
    snapshot = [m.model_copy(deep=True) for m in messages]
    response = llm.chat(messages)
    (body,) = chat_requests()
    sent = body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "user"]
    assert sent[3]["tool_call_id"] == "call_1" and DIGEST in sent[3]["content"]
    assert len(sent[3]["content"]) < len(search_results()) / 4
    assert sent[:3] == body_messages(messages)[:3] and sent[4] == body_messages(messages)[4]
    (record,) = llm.get_metrics()
    assert record.mode == "optimize" and record.tokens_saved > 0
    assert record.tokens_after == record.prompt_tokens == response.raw.usage.prompt_tokens
    assert llm.last_plan is not None and llm.last_plan.tokens_saved == record.tokens_saved
    assert messages == snapshot  # the caller's messages are not modified


def test_per_call_options_override_the_defaults(make_openai: Any, chat_requests: Any) -> None:
    llm = HeadroomLLM(llm=make_openai(), mode="audit", store_url="memory://")
    llm.chat(agent_history(), headroom_mode="optimize")
    assert DIGEST in chat_requests()[0]["messages"][3]["content"]
    assert "headroom_mode" not in chat_requests()[0]
    with pytest.raises(ValueError, match="unknown headroom option"):
        llm.chat(agent_history(), headroom_bogus=1)
    assert len(chat_requests()) == 1


def test_a_request_that_cannot_fit_is_never_sent(make_openai: Any, chat_requests: Any) -> None:
    llm = HeadroomLLM(
        llm=make_openai(),
        mode="optimize",
        model_context_limits={"gpt-4o": 600},
        output_buffer_tokens=100,
    )
    huge = ChatMessage(role="user", content="Please read this. " * 400)
    with pytest.raises(HeadroomBudgetError):
        llm.chat([huge])
    assert chat_requests() == []


def test_provider_errors_reach_the_caller_unchanged(make_openai: Any, openai_server: Any) -> None:
    openai_server.queue(error_reply(500))
    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    with pytest.raises(openai.InternalServerError):
        llm.chat(agent_history())
    (record,) = llm.get_metrics()
    assert record.error_type == "InternalServerError"


# -- every entry point records exactly once -------------------------------------------------
def test_stream_chat_relays_chunks_and_records_once(make_openai: Any, chat_requests: Any) -> None:
    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    chunks = list(llm.stream_chat(agent_history()))
    assert chunks and "".join(c.delta or "" for c in chunks) == chunks[-1].message.content
    (body,) = chat_requests()
    assert body["stream"] is True and DIGEST in body["messages"][3]["content"]
    (record,) = llm.get_metrics()
    assert record.stream and record.tokens_saved > 0


def test_stream_usage_is_recorded_when_the_provider_sends_it(
    make_openai: Any, chat_requests: Any
) -> None:
    inner = make_openai(additional_kwargs={"stream_options": {"include_usage": True}})
    llm = HeadroomLLM(llm=inner, mode="optimize", store_url="memory://")
    list(llm.stream_chat(agent_history()))
    (record,) = llm.get_metrics()
    assert (
        record.prompt_tokens == record.tokens_after == count_tokens(chat_requests()[0]["messages"])
    )


async def test_async_chat_and_stream(make_openai: Any, chat_requests: Any) -> None:
    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    response = await llm.achat(agent_history())
    assert response.message.content
    stream = await llm.astream_chat(agent_history())
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].message.content
    assert len(chat_requests()) == 2
    assert all(DIGEST in body["messages"][3]["content"] for body in chat_requests())
    records = llm.get_metrics()
    assert sorted(r.stream for r in records) == [False, True]


async def test_complete_in_all_four_forms(make_openai: Any, chat_requests: Any) -> None:
    llm = HeadroomLLM(llm=make_openai(), mode="audit", store_url="memory://")
    assert llm.complete("Say hello.").text
    assert "".join(r.delta or "" for r in llm.stream_complete("Say hello."))
    assert (await llm.acomplete("Say hello.")).text
    assert [r async for r in await llm.astream_complete("Say hello.")]
    bodies = chat_requests()
    assert len(bodies) == 4
    assert all(b["messages"] == [{"role": "user", "content": "Say hello."}] for b in bodies)
    records = llm.get_metrics(limit=None)
    assert len(records) == 4 and {r.tokens_before for r in records} == {
        count_tokens([{"role": "user", "content": "Say hello."}])
    }


# -- callbacks: a shared token counter counts each call once ---------------------------------
def test_a_shared_token_counter_counts_each_call_once(
    make_openai: Any, chat_requests: Any, end_events: Any
) -> None:
    counter = TokenCountingHandler()
    manager = CallbackManager([counter])
    llm = HeadroomLLM(llm=make_openai(callback_manager=manager), mode="optimize")
    response = llm.chat(agent_history())
    assert len(counter.llm_token_counts) == 1 and end_events.ends == 1
    # it counts what was actually sent, as the provider reported it
    assert counter.prompt_llm_token_count == response.raw.usage.prompt_tokens
    assert counter.prompt_llm_token_count == count_tokens(chat_requests()[0]["messages"])
    list(llm.stream_chat(agent_history()))
    llm.complete("Say hello.")
    assert len(counter.llm_token_counts) == 3 and end_events.ends == 3


def test_a_callback_manager_given_to_the_wrapper_reaches_the_wrapped_llm(
    make_openai: Any,
) -> None:
    counter = TokenCountingHandler()
    llm = HeadroomLLM(llm=make_openai(), callback_manager=CallbackManager([counter]))
    llm.chat([ChatMessage(role="user", content="hi")])
    assert len(counter.llm_token_counts) == 1
    # LlamaIndex engines assign callback managers after construction; that is shared too
    later = TokenCountingHandler()
    llm.callback_manager = CallbackManager([later])
    llm.chat([ChatMessage(role="user", content="hi")])
    assert len(counter.llm_token_counts) == 1 and len(later.llm_token_counts) == 1


# -- function calling ---------------------------------------------------------------------
def test_predict_and_call_runs_the_tool(make_openai: Any, chat_requests: Any) -> None:
    from llama_index.core.tools import FunctionTool

    def search_orders(customer: str) -> str:
        """Search the orders of a customer."""
        return search_results()

    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    result = llm.predict_and_call(
        [FunctionTool.from_defaults(fn=search_orders)], user_msg="Orders of ACME-3?"
    )
    assert result.response == search_results()  # the tool's own output is the caller's
    (body,) = chat_requests()
    assert body["tools"][0]["function"]["name"] == "search_orders"
    (record,) = llm.get_metrics()
    assert record.tokens_before == record.prompt_tokens  # tool definitions are counted too


def test_tool_calls_round_trip_through_the_wrapper(make_openai: Any, chat_requests: Any) -> None:
    from llama_index.core.tools import FunctionTool

    def search_orders(customer: str) -> str:
        """Search the orders of a customer."""
        return search_results()

    tool = FunctionTool.from_defaults(fn=search_orders)
    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    history = [ChatMessage(role="user", content="Orders of ACME-3?")]
    first = llm.chat_with_tools([tool], chat_history=list(history))
    (selection,) = llm.get_tool_calls_from_response(first)
    output = tool(**selection.tool_kwargs)
    history += [
        first.message,
        ChatMessage(
            role=MessageRole.TOOL,
            content=str(output),
            additional_kwargs={"tool_call_id": selection.tool_id, "name": "search_orders"},
        ),
    ]
    second = llm.chat_with_tools([tool], chat_history=history)
    assert second.message.content and not llm.get_tool_calls_from_response(
        second, error_on_no_tool_call=False
    )
    _, follow_up = chat_requests()
    assistant, tool_message = follow_up["messages"][1], follow_up["messages"][2]
    assert assistant["tool_calls"][0]["id"] == tool_message["tool_call_id"] == selection.tool_id
    assert DIGEST in tool_message["content"]


# -- fail-open ------------------------------------------------------------------------------
def test_an_internal_failure_sends_the_request_unchanged(
    make_openai: Any, chat_requests: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")

    def broken_plan(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("analysis bug")

    monkeypatch.setattr(llm.engine, "plan", broken_plan)
    messages = agent_history()
    assert llm.chat(messages).message.content
    assert chat_requests()[0]["messages"] == body_messages(messages)
    assert llm.failures["plan"] == 1


def test_a_failing_store_never_fails_the_call(make_openai: Any) -> None:
    class FullDisk(MemoryStore):
        def write(self, record: Any) -> None:
            raise OSError("disk full")

    llm = HeadroomLLM(llm=make_openai(), mode="optimize")
    llm._recorder = Recorder(FullDisk())
    assert llm.chat(agent_history()).message.content
    assert llm.recorder is not None and llm.recorder.dropped_records == 1


def test_simulate_plans_without_sending(make_openai: Any, chat_requests: Any) -> None:
    llm = HeadroomLLM(llm=make_openai(), mode="audit")
    plan = llm.simulate(agent_history())
    assert plan.mode == "optimize" and plan.tokens_saved > 0
    assert chat_requests() == []


class ChatStarts(BaseEventHandler):
    """The messages each LLM chat call started with, as LlamaIndex instrumentation saw them."""

    messages: list[list[ChatMessage]] = []

    @classmethod
    def class_name(cls) -> str:
        return "ChatStarts"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, LLMChatStartEvent):
            self.messages.append(list(event.messages))


def test_the_wrapped_llm_gets_the_callers_own_message_objects(make_openai: Any) -> None:
    root = get_dispatcher()
    starts = ChatStarts(messages=[])
    root.add_event_handler(starts)
    try:
        llm = HeadroomLLM(llm=make_openai(), mode="optimize")
        messages = agent_history()
        llm.chat(messages)
    finally:
        root.event_handlers.remove(starts)
    (sent,) = starts.messages  # one start event: only the wrapped LLM fires events
    assert len(sent) == len(messages)
    for before, after in zip(messages, sent, strict=True):
        if before.role == MessageRole.TOOL:
            assert after is not before and DIGEST in (after.content or "")
            assert after.additional_kwargs == before.additional_kwargs
        else:
            assert after is before  # blocks and additional_kwargs untouched
    assert sent[2].additional_kwargs == {"keep": "me"}


def test_records_go_to_a_real_sqlite_file(make_openai: Any, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'headroom.db'}"
    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url=url)
    llm.chat(agent_history())
    llm.complete("Say hello.")
    assert llm.recorder is not None
    llm.recorder.close()
    store = open_store(url)
    try:
        records = store.query(limit=None)
        assert len(records) == 2 and {r.source for r in records} == {"llama_index"}
        assert store.summary()["total_tokens_saved"] == sum(r.tokens_saved for r in records) > 0
    finally:
        store.close()


def test_prompt_text_is_stored_only_when_asked(make_openai: Any) -> None:
    private = HeadroomLLM(llm=make_openai(), mode="audit", store_url="memory://")
    private.chat(agent_history())
    assert private.get_metrics()[0].content is None
    opted_in = HeadroomLLM(
        llm=make_openai(), mode="audit", store_url="memory://", store_content=True
    )
    response = opted_in.chat(agent_history())
    content = opted_in.get_metrics()[0].content
    assert content is not None
    assert content["messages"][1] == {"role": "user", "content": "List the orders of ACME-3."}
    assert content["response"] == response.message.content


def test_structured_predict_goes_through_the_wrapper(make_openai: Any, chat_requests: Any) -> None:
    from llama_index.core.prompts import PromptTemplate
    from pydantic import BaseModel

    class Invoice(BaseModel):
        number: str
        total: int

    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    invoice = llm.structured_predict(
        Invoice, PromptTemplate("Extract the invoice from: {text}"), text="Invoice 7, total 12"
    )
    assert isinstance(invoice, Invoice)
    (body,) = chat_requests()
    assert body["tools"][0]["function"]["name"] == "Invoice"
    assert len(llm.get_metrics()) == 1
