"""End to end with real LlamaIndex engines: a RAG query engine, a chat engine over many turns,
and a function-calling agent, all through HeadroomLLM to the loopback OpenAI server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode
from llama_index.core.tools import FunctionTool
from llama_index.llms.headroom import HeadroomLLM
from llama_index.postprocessor.headroom import HeadroomNodePostprocessor

from headroom import count_tokens
from headroom.tokens import count_text

WAREHOUSES = ["Lisbon", "Oslo", "Denver", "Osaka", "Lagos", "Quito"]
PARTS = [
    "titanium bolts",
    "copper wire",
    "oak planks",
    "glass panels",
    "rubber seals",
    "steel beams",
    "ceramic tiles",
    "nylon rope",
    "brass hinges",
    "granite slabs",
    "cotton canvas",
    "carbon rods",
    "silicon wafers",
    "marble blocks",
    "bamboo poles",
    "zinc plates",
    "velvet rolls",
    "cedar shingles",
    "quartz crystals",
    "tin cans",
    "wool blankets",
    "paper reams",
    "leather straps",
    "acrylic sheets",
    "cobalt magnets",
    "pine crates",
    "iron chains",
    "linen sheets",
    "gold leaf",
    "plastic pallets",
]


def catalogue() -> list[Document]:
    """Thirty part descriptions, plus the kind of repetition real corpora have: one document
    ingested twice and a lightly edited copy of another."""
    docs = []
    for i, part in enumerate(PARTS):
        place = WAREHOUSES[i % len(WAREHOUSES)]
        text = (
            f"Catalogue entry {i}: {part}. The {part} are stored in the {place} warehouse, "
            f"aisle {i + 3}. Each shipment of {part} is inspected on arrival. "
            f"Reorder {part} when fewer than {10 + i} units remain. "
            f"The {part} supplier delivers every {2 + i % 5} weeks."
        )
        docs.append(Document(text=text, doc_id=f"part-{i}", metadata={"part": part}))
    docs.append(Document(text=docs[0].text, doc_id="part-0-again", metadata={"part": PARTS[0]}))
    edited = docs[0].text.replace("inspected on arrival", "inspected upon arrival")
    docs.append(Document(text=edited, doc_id="part-0-edited", metadata={"part": PARTS[0]}))
    return docs


def context_of(body: dict[str, Any]) -> str:
    """The context block of the default text QA prompt (between its two rulers)."""
    prompt = "\n".join(m["content"] for m in body["messages"] if isinstance(m["content"], str))
    return prompt.split("---------------------")[1]


def test_query_engine_prompt_respects_the_budget_without_duplicates(
    make_openai: Any, chat_requests: Any, embed_model: Any
) -> None:
    splitter = SentenceSplitter(id_func=lambda i, doc: f"{doc.doc_id}#{i}")  # stable ties
    index = VectorStoreIndex.from_documents(
        catalogue(), embed_model=embed_model, transformations=[splitter]
    )
    question = "Where are the titanium bolts stored and when should titanium bolts be reordered?"
    retrieved = index.as_retriever(similarity_top_k=8).retrieve(question)
    assert sum("titanium bolts" in n.node.get_content() for n in retrieved) == 3  # 3 copies
    sizes = [count_text(n.node.get_content(metadata_mode=MetadataMode.LLM)) for n in retrieved]
    budget = sum(sizes) // 2
    post = HeadroomNodePostprocessor(token_budget=budget, store_url="memory://")
    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    engine = index.as_query_engine(llm=llm, node_postprocessors=[post], similarity_top_k=8)
    response = engine.query(question)
    assert str(response)
    (body,) = chat_requests()
    context = context_of(body)
    # the budget holds for the passages the LLM was given
    assert count_text(context) <= budget + 2 * len(response.source_nodes)
    kept = [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in response.source_nodes]
    assert all(text in context for text in kept)
    # the best passage is there, once; its duplicate and near-duplicate are not
    assert retrieved[0].node.get_content(metadata_mode=MetadataMode.NONE) in context
    assert context.count("The titanium bolts are stored in the Lisbon warehouse") == 1
    report = post.last_report
    assert report is not None
    reasons = sorted(r.reason for r in report.removed)
    assert reasons.count("duplicate") + reasons.count("near_duplicate") == 2
    assert "token_budget" in reasons
    over_budget = [r.node_id for r in report.removed if r.reason == "token_budget"]
    for item in retrieved:
        if item.node.node_id in over_budget:
            assert item.node.get_content(metadata_mode=MetadataMode.NONE) not in context
    # the order the retriever ranked them in is kept among the survivors
    order = [n.node.node_id for n in retrieved]
    survivors = [n.node.node_id for n in response.source_nodes]
    assert survivors == sorted(survivors, key=order.index)
    (record,) = llm.get_metrics()
    assert record.prompt_tokens == count_tokens(body["messages"])


def test_chat_engine_trims_old_turns_and_keeps_the_system_prompt_and_last_turns(
    make_openai: Any, chat_requests: Any
) -> None:
    system = "You are the support assistant of Example Corp. Be brief."
    llm = HeadroomLLM(
        llm=make_openai(),
        mode="optimize",
        model_context_limits={"gpt-4o": 1_600},
        output_buffer_tokens=200,
        keep_turns=2,
        store_url="memory://",
    )
    memory = ChatMemoryBuffer.from_defaults(token_limit=100_000)
    engine = SimpleChatEngine.from_defaults(llm=llm, memory=memory, system_prompt=system)
    questions = [
        f"Turn {t}: my order {1000 + t} arrived damaged. " + "Here are the details. " * 40
        for t in range(8)
    ]
    for question in questions:
        assert str(engine.chat(question))
    last = chat_requests()[-1]["messages"]
    assert last[0] == {"role": "system", "content": system}
    assert last[1]["role"] == "system" and last[1]["content"].startswith("[headroom: ")
    users = [m["content"] for m in last if m["role"] == "user"]
    assert users[-2:] == questions[-2:]  # the last turns, byte for byte
    assert questions[0] not in users  # the oldest turns went
    records = llm.get_metrics(limit=None)
    assert len(records) == len(questions)
    newest = records[0]
    assert newest.dropped_messages > 0
    assert newest.prompt_tokens is not None and newest.prompt_tokens <= 1_600 - 200
    assert newest.tokens_before > 1_600 - 200  # without Headroom it would not have fit
    # LlamaIndex's own memory still has the whole conversation
    assert len(memory.get_all()) == 2 * len(questions)


# llama-index-workflows inspects the agent's pydantic members, which pydantic flags as deprecated
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_function_agent_step_with_a_large_json_tool_result(
    make_openai: Any, chat_requests: Any
) -> None:
    rows = [{"order": i, "customer": f"ACME-{i % 9}", "total": i * 7} for i in range(200)]
    raw = json.dumps({"orders": rows}, indent=2)

    def find_orders(customer: str) -> str:
        """Find all orders of a customer."""
        return raw

    llm = HeadroomLLM(llm=make_openai(), mode="optimize", store_url="memory://")
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(fn=find_orders)],
        llm=llm,
        system_prompt="You look up orders.",
    )
    response = await agent.run(user_msg="What did ACME-4 order?")
    assert str(response)
    first, second = chat_requests()
    assert first["tools"][0]["function"]["name"] == "find_orders"
    call = second["messages"][-2]["tool_calls"][0]
    result = second["messages"][-1]
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
    assert "<headroom:tool_digest" in result["content"]
    assert count_text(result["content"]) < count_text(raw) / 4
    records = llm.get_metrics(limit=None)
    assert len(records) == 2
    assert max(r.tokens_saved for r in records) > count_text(raw) / 2


def test_context_chat_engine_uses_the_postprocessor_every_turn(
    make_openai: Any, chat_requests: Any, embed_model: Any
) -> None:
    splitter = SentenceSplitter(id_func=lambda i, doc: f"{doc.doc_id}#{i}")
    index = VectorStoreIndex.from_documents(
        catalogue(), embed_model=embed_model, transformations=[splitter]
    )
    post = HeadroomNodePostprocessor(token_budget=200)
    llm = HeadroomLLM(llm=make_openai(), mode="optimize")
    engine = index.as_chat_engine(
        chat_mode="context", llm=llm, node_postprocessors=[post], similarity_top_k=6
    )
    for question in ("Where are the titanium bolts stored?", "When do I reorder titanium bolts?"):
        assert str(engine.chat(question))
        report = post.last_report
        assert report is not None and report.tokens_after <= 200
        assert {r.reason for r in report.removed} >= {"duplicate", "near_duplicate"}
        system = chat_requests()[-1]["messages"][0]["content"]
        assert system.count("The titanium bolts are stored in the Lisbon warehouse") == 1
    assert len(chat_requests()) == 2


def test_a_global_token_counter_counts_each_query_once(
    make_openai: Any, chat_requests: Any, embed_model: Any
) -> None:
    from llama_index.core import Settings
    from llama_index.core.callbacks import CallbackManager, TokenCountingHandler

    llm = HeadroomLLM(llm=make_openai(), mode="optimize")  # built before Settings are set
    counter = TokenCountingHandler()
    Settings.callback_manager = CallbackManager([counter])
    Settings.llm = llm
    index = VectorStoreIndex.from_documents(catalogue()[:10], embed_model=embed_model)
    counter.reset_counts()
    engine = index.as_query_engine(node_postprocessors=[HeadroomNodePostprocessor()])
    engine.query("Where are the copper wire stored?")
    engine.query("When should oak planks be reordered?")
    assert len(chat_requests()) == 2
    assert len(counter.llm_token_counts) == 2
    assert counter.prompt_llm_token_count == sum(
        count_tokens(b["messages"]) for b in chat_requests()
    )
