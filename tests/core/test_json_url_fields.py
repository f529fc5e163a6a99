"""Link fields derived from an object's own url, sent as one template: nothing is lost."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import Headroom
from headroom.transforms.flags import question_words
from headroom.transforms.json_references import expand_references
from headroom.transforms.json_url_fields import (
    MIN_FIELDS,
    URL_FIELDS_KEY,
    expand_url_fields,
    factor_url_fields,
)
from tests.core.test_transforms import compressed_tool, tool_request

_REPO_LINKS = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "hooks_url": "/hooks",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "commits_url": "/commits{/sha}",
    "contents_url": "/contents/{+path}",
}
_USER_LINKS = {
    "followers_url": "/followers",
    "gists_url": "/gists{/gist_id}",
    "repos_url": "/repos",
    "events_url": "/events{/privacy}",
}


def user(login: str) -> dict[str, Any]:
    url = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "url": url,
        "html_url": f"https://github.com/{login}",
        **{key: url + end for key, end in _USER_LINKS.items()},
        "type": "User",
    }


def repo(i: int, login: str) -> dict[str, Any]:
    url = f"https://api.github.com/repos/{login}/project-{i}"
    return {
        "id": 1000 + i,
        "full_name": f"{login}/project-{i}",
        "owner": user(login),
        "html_url": f"https://github.com/{login}/project-{i}",
        "description": f"Project number {i} of {login}",
        "url": url,
        **{key: url + end for key, end in _REPO_LINKS.items()},
        "stargazers_count": i * 7,
    }


def search(n: int) -> dict[str, Any]:
    return {"total_count": n, "items": [repo(i, f"user{i % 4}") for i in range(n)]}


def test_each_set_of_links_is_defined_once_then_named() -> None:
    document = search(6)
    snapshot = json.dumps(document)
    out, changed = factor_url_fields(document)
    assert json.dumps(document) == snapshot, "input not mutated"
    assert changed == 12  # six repositories, six owners
    first, second = out["items"][0], out["items"][1]
    assert first[URL_FIELDS_KEY] == {"L2": {k: "{url}" + v for k, v in sorted(_REPO_LINKS.items())}}
    assert first["owner"][URL_FIELDS_KEY] == {"L1": {k: "{url}" + v for k, v in _sorted_user()}}
    assert second[URL_FIELDS_KEY] == "L2" and second["owner"][URL_FIELDS_KEY] == "L1"
    assert "forks_url" not in json.dumps(out["items"][1:])
    assert second["html_url"] == "https://github.com/user1/project-1", "another host stays"
    assert expand_url_fields(out) == document
    assert factor_url_fields(document) == (out, changed)
    assert factor_url_fields(out) == (out, 0), "idempotent"
    assert len(json.dumps(out)) < len(snapshot) / 2


def _sorted_user() -> list[tuple[str, str]]:
    return sorted(_USER_LINKS.items())


def test_a_field_the_question_names_stays() -> None:
    document = search(3)
    out, _ = factor_url_fields(document, frozenset({"where", "are", "the", "fork", "forks"}))
    assert all(
        item["forks_url"] == document["items"][i]["forks_url"]
        for i, item in enumerate(out["items"])
    )
    assert "keys_url" not in out["items"][0]
    assert expand_url_fields(out) == document
    out, _ = factor_url_fields(document, question_words("Which pull requests are open?"))
    assert "pulls_url" in out["items"][0] and "forks_url" not in out["items"][0]


def test_fewer_than_the_minimum_stay_as_they_are() -> None:
    url = "https://api.example.com/things/1"
    few = {"url": url, **{f"f{i}_url": f"{url}/f{i}" for i in range(MIN_FIELDS - 1)}}
    assert factor_url_fields([few, few]) == ([few, few], 0)
    not_derived = {"url": url, **{f"f{i}_url": f"{url}x/f{i}" for i in range(5)}}
    assert factor_url_fields(not_derived)[1] == 0, "a longer name is not a path under the url"


_keys = st.sampled_from(["forks_url", "keys_url", "hooks_url", "tags_url", "labelsUrl", "name"])
_ends = st.sampled_from(["/a", "/b{/id}", "?page=2", "#top", "x", "", "/a/{+path}"])


@st.composite
def linked_object(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    url = draw(st.sampled_from(["https://api.example.com/r/1", "https://h/2", ""]))
    fields = draw(st.lists(st.tuples(_keys, _ends), max_size=8, unique_by=lambda kv: kv[0]))
    node: dict[str, Any] = {draw(st.sampled_from(["id", "n"])): draw(st.integers(0, 9))}
    at = draw(st.integers(0, len(fields)))
    for i, (key, end) in enumerate(fields):
        if i == at:
            node["url"] = url
        node[key] = draw(st.sampled_from([url + end, "https://other.example/" + end, 7]))
    node.setdefault("url", url)
    if depth < 2 and draw(st.booleans()):
        node["owner"] = draw(linked_object(depth + 1))
    if depth < 2 and draw(st.booleans()):
        node["items"] = draw(st.lists(linked_object(depth + 1), max_size=3))
    return node


@settings(max_examples=300, deadline=None)
@given(
    st.lists(linked_object(), min_size=1, max_size=5),
    st.frozensets(st.sampled_from(["forks", "tags", "labels"])),
)
def test_factoring_is_lossless_deterministic_and_idempotent(
    document: list[Any], asked: frozenset[str]
) -> None:
    snapshot = json.dumps(document)
    out, changed = factor_url_fields(document, asked)
    assert json.dumps(document) == snapshot
    assert expand_url_fields(out) == document
    assert factor_url_fields(document, asked) == (out, changed)
    assert factor_url_fields(out, asked) == (out, 0)
    text = json.dumps(out)
    for name in set(re.findall(r'"(L\d+)"', text)):
        first = text.index(f'"{name}"')
        assert text[first:].startswith(f'"{name}": {{'), f"{name} is used before it is defined"
    if changed:
        assert len(text) < len(snapshot)


def test_the_engine_sends_links_once_and_recall_sees_what_is_shown() -> None:
    original = json.dumps(search(40), indent=2)
    messages = tool_request(original, "Which repositories does user2 own?")
    plan = Headroom().simulate(messages)
    body, digest = compressed_tool(plan).rsplit("\n", 1)
    assert digest.startswith("<headroom:tool_digest")
    sent = json.loads(body)
    restored = expand_url_fields(expand_references(sent))
    kept = {item["id"]: item for item in restored["items"] if "id" in item}
    assert {1002, 1006, 1010} <= set(kept)
    assert all(kept[i] == repo(i - 1000, f"user{(i - 1000) % 4}") for i in kept)
    assert body.count('"forks_url"') == 1
    follow_up = [
        {"role": "assistant", "content": "Done."},
        {"role": "user", "content": "What is the description of user2/project-2?"},
    ]
    plan = Headroom().simulate(messages + follow_up)
    assert plan.messages[-1]["role"] == "user", "a repository that was sent is not recalled"
    follow_up[-1]["content"] = "What is the description of user3/project-35?"
    plan = Headroom().simulate(messages + follow_up)
    recalled = plan.messages[-1]
    assert recalled["role"] == "tool" and URL_FIELDS_KEY in recalled["content"]
    assert expand_url_fields(json.loads(recalled["content"].split("\n", 1)[1])) == [
        repo(35, "user3")
    ]


def test_a_profile_can_turn_link_templates_off() -> None:
    original = json.dumps(search(8), indent=2)
    plan = Headroom().simulate(
        tool_request(original), tool_profiles={"search": {"factor_url_fields": False}}
    )
    assert URL_FIELDS_KEY not in compressed_tool(plan)
    on = Headroom().simulate(tool_request(original))
    assert URL_FIELDS_KEY in compressed_tool(on)
