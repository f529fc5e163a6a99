"""Mapping the engine's plan back to ChatMessages, over generated conversations."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.llms.headroom.messages import rebuild, to_canonical

from headroom import Headroom, HeadroomBudgetError
from headroom.plan_alignment import align

words = st.lists(
    st.sampled_from(["order", "ship", "refund", "item", "42", "#7", "ACME"]),
    min_size=1,
    max_size=20,
).map(" ".join)


@st.composite
def tool_output(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 60))
    if draw(st.booleans()):
        return json.dumps([{"id": i, "note": draw(words)} for i in range(n)])
    return draw(words) * draw(st.integers(1, 30))  # not JSON


@st.composite
def conversations(draw: st.DrawFn) -> list[ChatMessage]:
    messages = []
    if draw(st.booleans()):
        messages.append(
            ChatMessage(
                role="system",
                content="Support bot. Today is 2024-05-01.",
                additional_kwargs={"k": "system"},
            )
        )
    for turn in range(draw(st.integers(1, 6))):
        messages.append(
            ChatMessage(role="user", content=draw(words), additional_kwargs={"k": f"user{turn}"})
        )
        for call in range(draw(st.integers(0, 2))):
            call_id = f"call_{turn}_{call}"
            messages.append(
                ChatMessage(
                    role="assistant",
                    blocks=[
                        ToolCallBlock(
                            tool_call_id=call_id, tool_name="lookup", tool_kwargs={"q": turn}
                        )
                    ],
                    additional_kwargs={"k": call_id},
                )
            )
            messages.append(
                ChatMessage(
                    role="tool",
                    content=draw(tool_output()),
                    additional_kwargs={"tool_call_id": call_id},
                )
            )
        messages.append(
            ChatMessage(
                role="assistant", content=draw(words), additional_kwargs={"k": f"assistant{turn}"}
            )
        )
    return messages


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(messages=conversations(), window=st.integers(300, 6000), keep_turns=st.integers(0, 3))
def test_rebuilt_messages_are_the_plan_and_keep_what_llama_index_attached(
    messages: list[ChatMessage], window: int, keep_turns: int
) -> None:
    canonical = [to_canonical(m) for m in messages]
    engine = Headroom({"gpt-4o": window}, output_buffer_tokens=100, keep_turns=keep_turns)
    try:
        plan = engine.simulate(canonical, "gpt-4o", mode="optimize")
    except HeadroomBudgetError:
        assume(False)
        return
    rebuilt = rebuild(messages, canonical, plan.messages)
    # what goes to the wrapped LLM is exactly the plan
    assert [to_canonical(m) for m in rebuilt] == plan.messages
    for message, planned, source in zip(
        rebuilt, plan.messages, align(canonical, plan.messages), strict=True
    ):
        if source is None:
            continue
        original = messages[source]
        assert message.additional_kwargs == original.additional_kwargs
        if planned is canonical[source]:
            assert message is original
        if original.role == MessageRole.USER:
            assert message is original  # human content is never rewritten
