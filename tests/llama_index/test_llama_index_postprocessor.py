"""HeadroomNodePostprocessor on real LlamaIndex nodes: duplicates, JSON, budget, conventions."""

from __future__ import annotations

import json
import re

import pytest
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode
from llama_index.postprocessor.headroom import HeadroomNodePostprocessor

from headroom.tokens import count_text

PARK = (
    "The quick brown fox jumps over the lazy dog in the park. It was a sunny morning and the "
    "benches were full. Children were playing football near the fountain. "
)
DATABASES = (
    "Indexes make database queries faster by avoiding full table scans. A B-tree keeps keys "
    "sorted so range queries stay cheap. "
)
RIVERS = "The river delta floods every spring. Farmers plant rice after the water recedes. "


def node(text: str, node_id: str, score: float | None, **metadata: str) -> NodeWithScore:
    return NodeWithScore(node=TextNode(text=text, id_=node_id, metadata=metadata), score=score)


def tokens(item: NodeWithScore) -> int:
    return count_text(item.node.get_content(metadata_mode=MetadataMode.LLM), "o200k_base")


def ids(items: list[NodeWithScore]) -> list[str]:
    return [n.node.node_id for n in items]


def test_it_follows_llama_index_postprocessor_conventions() -> None:
    post = HeadroomNodePostprocessor(token_budget=500, dedupe=False, model="gpt-4o-mini")
    assert isinstance(post, BaseNodePostprocessor)
    assert HeadroomNodePostprocessor.class_name() == "HeadroomNodePostprocessor"
    data = post.to_dict()
    assert data["class_name"] == "HeadroomNodePostprocessor"
    assert data["token_budget"] == 500 and data["dedupe"] is False
    json.loads(post.to_json())
    again = HeadroomNodePostprocessor.from_dict(data)
    assert again.token_budget == 500 and again.model == "gpt-4o-mini" and again.dedupe is False


def test_nodes_that_already_fit_come_back_untouched() -> None:
    nodes = [node(PARK, "a", 0.9), node(DATABASES, "b", 0.8), node(RIVERS, "c", 0.4)]
    post = HeadroomNodePostprocessor(token_budget=10_000)
    out = post.postprocess_nodes(nodes, query_str="what happened in the park?")
    assert len(out) == 3 and all(o is n for o, n in zip(out, nodes, strict=True))
    report = post.last_report
    assert report is not None
    assert report.tokens_saved == 0 and report.removed == [] and report.truncated == []


def test_exact_and_near_duplicates_are_removed_and_reported() -> None:
    nodes = [
        node(PARK * 3, "a", 0.9),
        node(DATABASES * 3, "b", 0.85),
        node(PARK * 3, "a-copy", 0.8),  # the same document ingested twice
        node(PARK * 3 + "A dog barked.", "a-near", 0.7),  # a near-identical chunk
        node(RIVERS * 3, "c", 0.6),
    ]
    originals = [n.node.get_content() for n in nodes]
    post = HeadroomNodePostprocessor()
    out = post.postprocess_nodes(nodes, query_str="park")
    assert ids(out) == ["a", "b", "c"]
    assert out[0] is nodes[0] and out[1] is nodes[1] and out[2] is nodes[4]
    report = post.last_report
    assert report is not None
    removed = {r.node_id: (r.reason, r.duplicate_of) for r in report.removed}
    assert removed == {"a-copy": ("duplicate", "a"), "a-near": ("near_duplicate", "a")}
    assert report.savings["node_dedupe"] == tokens(nodes[2]) + tokens(nodes[3])
    assert report.tokens_saved == report.tokens_before - report.tokens_after > 0
    assert [n.node.get_content() for n in nodes] == originals  # the caller's nodes unchanged


def test_a_chunk_contained_in_a_larger_lower_ranked_chunk_yields_to_it() -> None:
    child = PARK
    parent = PARK + DATABASES + RIVERS  # a parent chunk that contains the child
    nodes = [node(child, "child", 0.9), node(DATABASES * 2, "x", 0.7), node(parent, "parent", 0.5)]
    post = HeadroomNodePostprocessor()
    out = post.postprocess_nodes(nodes)
    assert ids(out) == ["x", "parent"]  # original order; the parent carries the child's text
    assert post.last_report is not None
    assert post.last_report.removed[0].node_id == "child"
    assert post.last_report.removed[0].duplicate_of == "parent"


def test_the_smaller_copy_comes_back_when_the_larger_one_does_not_fit() -> None:
    child = node(PARK, "child", 0.9)
    parent = node(PARK + DATABASES * 3 + RIVERS * 3, "parent", 0.5)
    other = node("A note on rice farming in the delta.", "other", 0.4)
    budget = tokens(child) + tokens(other)
    post = HeadroomNodePostprocessor(token_budget=budget, min_fragment_tokens=10_000)
    out = post.postprocess_nodes([child, parent, other])
    assert ids(out) == ["child", "other"] and out[0] is child
    report = post.last_report
    assert report is not None
    assert [(r.node_id, r.reason) for r in report.removed] == [("parent", "token_budget")]
    assert report.tokens_saved == tokens(parent)


def test_dedupe_can_be_switched_off() -> None:
    nodes = [node(PARK, "a", 0.9), node(PARK, "b", 0.8)]
    out = HeadroomNodePostprocessor(dedupe=False).postprocess_nodes(nodes)
    assert ids(out) == ["a", "b"]


def test_over_budget_keeps_the_best_scoring_nodes_in_original_order() -> None:
    nodes = [
        node(PARK * 2, "n0", 0.2),
        node(DATABASES * 4, "n1", 0.9),
        node(RIVERS * 3, "n2", 0.5),
        node("Short note about rice farming.", "n3", 0.7),
    ]
    sizes = {n.node.node_id: tokens(n) for n in nodes}
    budget = sizes["n1"] + sizes["n3"] + sizes["n2"]  # the three best fit, the worst does not
    post = HeadroomNodePostprocessor(token_budget=budget, dedupe=False, min_fragment_tokens=10_000)
    out = post.postprocess_nodes(nodes)
    assert ids(out) == ["n1", "n2", "n3"]
    assert all(o is n for o, n in zip(out, [nodes[1], nodes[2], nodes[3]], strict=True))
    assert sum(tokens(n) for n in out) <= budget
    report = post.last_report
    assert report is not None
    assert [(r.node_id, r.reason) for r in report.removed] == [("n0", "token_budget")]
    assert report.savings["node_token_budget"] == sizes["n0"]


def test_a_node_is_only_shortened_after_a_whole_sentence_and_with_a_marker() -> None:
    long_text = " ".join(f"Sentence number {i} talks about topic {i % 7}." for i in range(200))
    nodes = [node(long_text, "big", 0.9, source="manual.pdf"), node(RIVERS, "small", 0.3)]
    budget = 300
    post = HeadroomNodePostprocessor(token_budget=budget)
    out = post.postprocess_nodes(nodes)
    assert ids(out) == ["big", "small"]
    assert sum(tokens(n) for n in out) <= budget
    assert out[1] is nodes[1]
    short = out[0].node.get_content(metadata_mode=MetadataMode.NONE)
    body, marker = short.rsplit("\n", 1)
    assert re.fullmatch(r"\[headroom: passage truncated, \d+ of \d+ tokens kept\]", marker)
    assert long_text.startswith(body) and body.endswith(".")
    assert out[0].node.metadata == {"source": "manual.pdf"} and out[0].score == 0.9
    assert nodes[0].node.get_content(metadata_mode=MetadataMode.NONE) == long_text
    assert post.last_report is not None and post.last_report.truncated == ["big"]


def test_a_node_with_no_sentence_that_fits_is_dropped_not_cut() -> None:
    one_sentence = "word " * 400 + "end."
    post = HeadroomNodePostprocessor(token_budget=100)
    assert post.postprocess_nodes([node(one_sentence, "x", 0.9)]) == []


def test_json_nodes_are_compressed_with_the_question_in_mind() -> None:
    items = [{"id": i, "name": f"item {i}", "notes": "n" * 40} for i in range(60)]
    text = json.dumps({"items": items}, indent=2)
    nodes = [node(text, "json", 0.8), node(PARK, "prose", 0.7)]
    post = HeadroomNodePostprocessor()
    out = post.postprocess_nodes(nodes, query_bundle=QueryBundle("what about item 17?"))
    compressed = out[0].node.get_content(metadata_mode=MetadataMode.NONE)
    document, digest = compressed.split("\n", 1)
    assert digest.startswith("<headroom:tool_digest sha256=")
    kept = [i["id"] for i in json.loads(document)["items"] if "id" in i]
    assert 17 in kept and len(kept) < 60
    assert out[1] is nodes[1]
    assert nodes[0].node.get_content() == text
    report = post.last_report
    assert report is not None and report.compressed == ["json"]
    assert report.savings["node_json_compression"] > 0


def test_text_that_only_looks_like_json_is_left_alone() -> None:
    broken = '{"items": [1, 2, 3' + ", 4" * 500
    nodes = [node(broken, "broken", 0.5)]
    out = HeadroomNodePostprocessor().postprocess_nodes(nodes)
    assert out[0] is nodes[0]


def test_records_what_it_removed_in_the_store() -> None:
    post = HeadroomNodePostprocessor(store_url="memory://")
    post.postprocess_nodes([node(PARK, "a", 0.9), node(PARK, "b", 0.8)])
    assert post.recorder is not None and post.recorder.store is not None
    (record,) = post.recorder.store.query()
    assert record.source == "llama_index" and record.dropped_messages == 1
    assert record.tokens_saved == record.transforms["node_dedupe"] > 0


def test_output_is_deterministic() -> None:
    nodes = [node(PARK * (i % 3 + 1), f"n{i}", 0.1 * (i % 5)) for i in range(12)]
    runs = [
        [
            (n.node.node_id, n.node.get_content())
            for n in HeadroomNodePostprocessor(token_budget=150).postprocess_nodes(nodes)
        ]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


async def test_async_postprocess_matches_sync() -> None:
    nodes = [node(PARK, "a", 0.9), node(PARK, "b", 0.8), node(RIVERS, "c", 0.5)]
    post = HeadroomNodePostprocessor()
    out = await post.apostprocess_nodes(nodes, query_str="park")
    assert ids(out) == ids(post.postprocess_nodes(nodes))


def test_bad_options_raise_value_error() -> None:
    with pytest.raises(ValueError, match="token_budget"):
        HeadroomNodePostprocessor(token_budget=0)
    with pytest.raises(ValueError, match="max_array_items"):
        HeadroomNodePostprocessor(json_profile={"max_array_items": -1})
    with pytest.raises(ValueError, match="similarity_threshold"):
        HeadroomNodePostprocessor(similarity_threshold=1.5)


def test_a_failing_node_passes_everything_through() -> None:
    class Broken(TextNode):
        def get_content(self, metadata_mode: MetadataMode = MetadataMode.NONE) -> str:
            raise RuntimeError("cannot render")

    nodes = [node(PARK, "a", 0.9), NodeWithScore(node=Broken(text="x", id_="b"), score=0.1)]
    post = HeadroomNodePostprocessor(token_budget=10)
    out = post.postprocess_nodes(nodes)
    assert out == nodes and all(o is n for o, n in zip(out, nodes, strict=True))
    assert post.failures["postprocess"] == 1
