"""Properties of HeadroomNodePostprocessor over generated retrievals."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode
from llama_index.postprocessor.headroom import HeadroomNodePostprocessor

from headroom.tokens import count_text

WORDS = ["alpha", "beta", "gamma", "delta", "river", "stone", "cloud", "ember", "quartz", "maple"]

sentence = st.lists(st.sampled_from(WORDS), min_size=3, max_size=12).map(
    lambda w: " ".join(w).capitalize() + "."
)
passage = st.lists(sentence, min_size=1, max_size=8).map(" ".join)


@st.composite
def retrievals(draw: st.DrawFn) -> list[NodeWithScore]:
    texts = draw(st.lists(passage, min_size=1, max_size=10))
    if draw(st.booleans()):  # repeat some passages, as overlapping corpora do
        texts += draw(st.lists(st.sampled_from(texts), max_size=3))
    scores = draw(
        st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=len(texts), max_size=len(texts))
    )
    return [
        NodeWithScore(node=TextNode(text=t, id_=f"n{i}"), score=s)
        for i, (t, s) in enumerate(zip(texts, scores, strict=True))
    ]


def tokens(item: NodeWithScore) -> int:
    return count_text(item.node.get_content(metadata_mode=MetadataMode.LLM), "o200k_base")


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(nodes=retrievals(), budget=st.integers(1, 400), dedupe=st.booleans())
def test_output_fits_keeps_order_and_never_touches_the_input(
    nodes: list[NodeWithScore], budget: int, dedupe: bool
) -> None:
    before = [(n.node.node_id, n.node.get_content(), n.score) for n in nodes]
    post = HeadroomNodePostprocessor(token_budget=budget, dedupe=dedupe)
    out = post.postprocess_nodes(nodes)
    assert sum(tokens(n) for n in out) <= budget
    position = {n.node.node_id: i for i, n in enumerate(nodes)}
    order = [position[n.node.node_id] for n in out]
    assert order == sorted(order) and len(set(order)) == len(order)
    truncated = set(post.last_report.truncated if post.last_report else [])
    for item in out:
        original = nodes[position[item.node.node_id]]
        if item.node.node_id in truncated:
            body = item.node.get_content().rsplit("\n", 1)[0]
            assert original.node.get_content().startswith(body)
        else:
            assert item is original
    assert [(n.node.node_id, n.node.get_content(), n.score) for n in nodes] == before
    again = HeadroomNodePostprocessor(token_budget=budget, dedupe=dedupe).postprocess_nodes(nodes)
    assert [(n.node.node_id, n.node.get_content()) for n in again] == [
        (n.node.node_id, n.node.get_content()) for n in out
    ]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(nodes=retrievals())
def test_with_dedupe_off_and_no_budget_nothing_changes(nodes: list[NodeWithScore]) -> None:
    out = HeadroomNodePostprocessor(dedupe=False).postprocess_nodes(nodes)
    assert len(out) == len(nodes) and all(a is b for a, b in zip(out, nodes, strict=True))
