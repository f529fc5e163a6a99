"""ChatMessage <-> canonical OpenAI dicts, and mapping the engine's plan back to ChatMessages."""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.base.llms.types import (
    CacheControl,
    CachePoint,
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.llms.headroom.messages import rebuild, to_canonical
from llama_index.llms.openai.utils import to_openai_message_dicts
from openai.types.chat import ChatCompletionMessageToolCall

from headroom import Headroom, count_tokens
from headroom.plan_alignment import align


def big_json(n: int = 80) -> str:
    return json.dumps([{"id": i, "title": f"result {i}", "body": "b" * 60} for i in range(n)])


def test_text_messages_become_plain_strings() -> None:
    message = ChatMessage(role="user", blocks=[TextBlock(text="Hello "), TextBlock(text="there")])
    assert to_canonical(message) == {"role": "user", "content": "Hello there"}
    assert to_canonical(ChatMessage(role=MessageRole.CHATBOT, content="hi"))["role"] == "assistant"


def test_tool_call_blocks_and_tool_results() -> None:
    call = ChatMessage(
        role="assistant",
        blocks=[ToolCallBlock(tool_call_id="call_1", tool_name="search", tool_kwargs={"q": "x"})],
    )
    assert to_canonical(call) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "search", "arguments": '{"q": "x"}'},
            }
        ],
    }
    result = ChatMessage(role="tool", content="[]", additional_kwargs={"tool_call_id": "call_1"})
    assert to_canonical(result) == {"role": "tool", "content": "[]", "tool_call_id": "call_1"}


def test_legacy_tool_calls_in_additional_kwargs() -> None:
    sdk_call = ChatCompletionMessageToolCall.model_validate(
        {"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    )
    message = ChatMessage(
        role="assistant", content="", additional_kwargs={"tool_calls": [sdk_call]}
    )
    canonical = to_canonical(message)
    assert canonical["content"] is None
    assert canonical["tool_calls"][0]["id"] == "c9"
    assert canonical["tool_calls"][0]["function"] == {"name": "f", "arguments": "{}"}


def test_images_are_priced_as_image_parts() -> None:
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="what is this?"),
            ImageBlock(url="https://example.com/cat.png", detail="low"),
        ],
    )
    canonical = to_canonical(message)
    assert canonical["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/cat.png", "detail": "low"},
    }
    assert count_tokens([canonical]) > count_tokens([{"role": "user", "content": "what is this?"}])


def conversation(turns: int) -> list[ChatMessage]:
    messages = [
        ChatMessage(
            role="system",
            content="You are a careful research assistant.",
            additional_kwargs={"marker": "sys"},
        )
    ]
    for t in range(turns):
        messages.append(
            ChatMessage(
                role="user",
                content=f"Question {t}: find papers on topic {t}",
                additional_kwargs={"turn": t},
            )
        )
        messages.append(
            ChatMessage(
                role="assistant",
                blocks=[
                    ToolCallBlock(
                        tool_call_id=f"call_{t}", tool_name="search", tool_kwargs={"topic": t}
                    )
                ],
            )
        )
        messages.append(
            ChatMessage(
                role="tool",
                content=big_json(),
                additional_kwargs={"tool_call_id": f"call_{t}", "trace": t},
            )
        )
        messages.append(
            ChatMessage(
                role="assistant",
                content=f"Here is what I found on {t}.",
                additional_kwargs={"turn": t},
            )
        )
    messages.append(ChatMessage(role="user", content="Summarise everything."))
    return messages


def plan_for(messages: list[ChatMessage], window: int) -> tuple[list[dict[str, Any]], Any]:
    canonical = [to_canonical(m) for m in messages]
    engine = Headroom({"gpt-4o": window}, output_buffer_tokens=500, keep_turns=2)
    return canonical, engine.simulate(canonical, "gpt-4o", mode="optimize")


def test_unchanged_messages_come_back_as_the_same_objects() -> None:
    messages = conversation(3)
    canonical, plan = plan_for(messages, 128_000)
    rebuilt = rebuild(messages, canonical, plan.messages)
    assert len(rebuilt) == len(messages)
    for before, after in zip(messages, rebuilt, strict=True):
        if before.role == MessageRole.TOOL:  # compressed: a copy with only the text replaced
            assert after is not before
            assert after.additional_kwargs == before.additional_kwargs
            assert after.additional_kwargs is not before.additional_kwargs
            assert "<headroom:tool_digest" in (after.content or "")
            assert before.content == big_json()  # the caller's message is untouched
        else:
            assert after is before


def test_rolling_window_drops_whole_units_and_inserts_its_marker() -> None:
    messages = conversation(8)
    canonical, plan = plan_for(messages, 1_500)
    assert plan.dropped_messages > 0
    rebuilt = rebuild(messages, canonical, plan.messages)
    assert rebuilt[0] is messages[0]
    assert rebuilt[1].role == MessageRole.SYSTEM and "[headroom:" in (rebuilt[1].content or "")
    assert rebuilt[-1] is messages[-1]
    sources = align(canonical, plan.messages)
    kept = [s for s in sources if s is not None]
    assert kept == sorted(kept)  # order is preserved
    call_ids = {b.tool_call_id for m in rebuilt for b in m.blocks if isinstance(b, ToolCallBlock)}
    result_ids = {m.additional_kwargs["tool_call_id"] for m in rebuilt if m.role == "tool"}
    assert call_ids == result_ids  # no tool result without its call, no call without its result
    for message, source in zip(rebuilt, sources, strict=True):
        if source is not None:  # kept (maybe compressed): everything LlamaIndex attached stays
            assert message.additional_kwargs == messages[source].additional_kwargs
            assert message.role == messages[source].role


def test_inserted_messages_are_never_matched_to_inputs() -> None:
    inputs = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u1"},
        {"role": "system", "content": "later system prompt"},
        {"role": "user", "content": "u2"},
    ]
    marker = {"role": "system", "content": "[headroom: 1 earlier message (3 tokens) were removed]"}
    changed = {"role": "system", "content": "later system prompt, aligned"}
    assert align(inputs, [inputs[0], marker, changed, inputs[3]]) == [0, None, 2, 3]


def test_recall_units_become_a_tool_call_and_its_result() -> None:
    messages = conversation(1)
    messages[-1] = ChatMessage(role="user", content="Back to the first list: what about result 63?")
    canonical, plan = plan_for(messages, 128_000)
    rebuilt = rebuild(messages, canonical, plan.messages)
    assert len(rebuilt) == len(messages) + 2 and rebuilt[-3] is messages[-1]
    call, result = rebuilt[-2], rebuilt[-1]
    (block,) = [b for b in call.blocks if isinstance(b, ToolCallBlock)]
    assert call.role == MessageRole.ASSISTANT and block.tool_name == "search"
    assert result.role == MessageRole.TOOL
    assert result.additional_kwargs["tool_call_id"] == block.tool_call_id
    assert '"id":63' in (result.content or "")
    # and llama_index's OpenAI LLM puts them on the wire as a well-formed pair
    wire = to_openai_message_dicts(rebuilt[-2:], model="gpt-4o")
    assert wire[0]["tool_calls"][0]["id"] == wire[1]["tool_call_id"] == block.tool_call_id
    assert wire[0]["content"] is None


def test_a_rewritten_system_prompt_keeps_its_other_blocks_in_place() -> None:
    system = ChatMessage(
        role="system",
        blocks=[
            CachePoint(cache_control=CacheControl(type="ephemeral")),
            TextBlock(text="Current date: 2024-01-15. You are helpful."),
        ],
        additional_kwargs={"origin": "app"},
    )
    question = ChatMessage(role="user", content="hi")
    canonical = [to_canonical(system), to_canonical(question)]
    assert canonical[0]["content"] == "Current date: 2024-01-15. You are helpful."
    plan = Headroom().simulate(canonical, "gpt-4o", mode="optimize")
    rebuilt = rebuild([system, question], canonical, plan.messages)
    assert rebuilt[1] is question
    assert isinstance(rebuilt[0].blocks[0], CachePoint) and len(rebuilt[0].blocks) == 2
    assert rebuilt[0].content == plan.messages[0]["content"] != system.content
    assert "[Context: " in (rebuilt[0].content or "")
    assert rebuilt[0].additional_kwargs == {"origin": "app"}
