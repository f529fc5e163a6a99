"""Repeated JSON objects sent once: every reference resolves to exactly what it replaced."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import Headroom
from headroom.transforms.json_references import (
    MIN_CHARS,
    SAME_AS_KEY,
    expand_references,
    reference_repeats,
)
from tests.core.test_transforms import compressed_tool, tool_request

_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def lookup(document: Any, path: str) -> Any:
    """Follow a JSONPath of the form the references use: $, .key, [3], ["odd key"]."""
    assert path.startswith("$"), path
    node, rest = document, path[1:]
    while rest:
        match = _STEP.match(rest)
        assert match is not None, f"unparsable path {path!r} at {rest!r}"
        name, index, quoted = match.groups()
        node = node[int(index)] if index is not None else node[name or json.loads(quoted)]
        rest = rest[match.end() :]
    return node


def resolve(node: Any, root: Any) -> Any:
    """The document with every reference replaced by (the resolution of) its target."""
    if isinstance(node, dict):
        if set(node) == {SAME_AS_KEY}:
            return resolve(lookup(root, node[SAME_AS_KEY]), root)
        return {k: resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, root) for v in node]
    return node


def user(login: str) -> dict[str, Any]:
    return {
        "login": login,
        "url": f"https://api.github.com/users/{login}",
        "followers_url": f"https://api.github.com/users/{login}/followers",
        "repos_url": f"https://api.github.com/users/{login}/repos",
        "type": "User",
    }


def issues(n: int) -> list[dict[str, Any]]:
    return [
        {"number": i, "title": f"Issue {i}", "user": user(["alice", "bob"][i % 2])}
        for i in range(n)
    ]


def test_repeats_become_references_to_the_first_occurrence() -> None:
    document = {"items": issues(6)}
    out, replaced = reference_repeats(document)
    assert replaced == 4
    assert out["items"][0]["user"] == user("alice")
    assert out["items"][1]["user"] == user("bob")
    assert out["items"][2]["user"] == {SAME_AS_KEY: "$.items[0].user"}
    assert out["items"][3]["user"] == {SAME_AS_KEY: "$.items[1].user"}
    assert resolve(out, out) == document
    assert document["items"][2]["user"] == user("alice"), "input not mutated"


def test_small_values_and_odd_keys() -> None:
    small = {"a": 1}
    assert len(json.dumps(small)) < MIN_CHARS
    document = [{"x": small, "odd.key": user("carol")}, {"x": small, "odd.key": user("carol")}]
    out, replaced = reference_repeats(document)
    # the second item equals the first as a whole: one reference for all of it
    assert replaced == 1 and out[1] == {SAME_AS_KEY: "$[0]"}
    nested = {"a": [{"odd.key": user("carol")}], "b": [{"other": user("carol")}]}
    out, _ = reference_repeats(nested)
    assert out["b"][0]["other"] == {SAME_AS_KEY: '$.a[0]["odd.key"]'}
    assert resolve(out, out) == nested


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=6), st.data())
def test_references_are_lossless_and_deterministic(parts: list[Any], data: st.DataObject) -> None:
    # Build a document in which some parts occur several times, at different places.
    picks = data.draw(st.lists(st.integers(0, len(parts) - 1), min_size=1, max_size=12))
    document = {"rows": [{"k": i, "v": parts[p], "w": [parts[p]]} for i, p in enumerate(picks)]}
    snapshot = json.dumps(document)
    out, replaced = reference_repeats(document)
    assert json.dumps(document) == snapshot
    assert resolve(out, out) == document
    assert expand_references(out) == document
    assert reference_repeats(document) == (out, replaced)
    if replaced:
        assert len(json.dumps(out)) < len(json.dumps(document))


def test_engine_sends_repeated_objects_once_and_keeps_every_value() -> None:
    original = json.dumps(issues(12), indent=2)
    plan = Headroom().simulate(tool_request(original, "Who filed issue 7?"))
    text = compressed_tool(plan)
    body, digest = text.rsplit("\n", 1)
    assert digest.startswith("<headroom:tool_digest")
    sent = json.loads(body)
    assert resolve(sent, sent) == json.loads(original)
    assert body.count('"followers_url"') == 2
    assert plan.tokens_after < plan.tokens_before


def test_a_profile_can_turn_references_off() -> None:
    original = json.dumps(issues(12), indent=2)
    plan = Headroom().simulate(
        tool_request(original),
        tool_profiles={"search": {"reference_repeats": False, "shorten_arrays_over": 20}},
    )
    assert SAME_AS_KEY not in compressed_tool(plan)
    assert json.loads(compressed_tool(plan)) == json.loads(original)


def test_recall_sees_items_whose_repeats_became_references() -> None:
    listing = [
        {"number": 1000 + i, "title": f"Issue {i}", "user": user(["alice", "bob"][i % 2])}
        for i in range(60)
    ]
    messages = tool_request(json.dumps(listing), "List the open issues.")
    shown = messages + [
        {"role": "assistant", "content": "Done."},
        {"role": "user", "content": "Back to issue #1003: who filed it?"},
    ]
    plan = Headroom().simulate(shown)
    # issue 1003 is among the first items kept, its user a reference to 1001's: nothing to recall
    assert plan.messages[-1]["role"] == "user"
    assert '"number":1003,' in compressed_tool(plan)
    left_out = messages + [
        {"role": "assistant", "content": "Done."},
        {"role": "user", "content": "Back to issue #1037: who filed it?"},
    ]
    plan = Headroom().simulate(left_out)
    assert plan.messages[-1]["role"] == "tool" and '"number":1037' in plan.messages[-1]["content"]
