"""The hostile requests the fuzz suite feeds Headroom: the checked-in corpus (small files whose
raw bytes matter: NaN literals, duplicate keys, lone surrogates, invalid UTF-8) plus the big
cases built in code (never checked in), and hypothesis strategies for arbitrary messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from headroom.conversation import role_of
from headroom.transforms.recall import is_recall_message
from headroom.transforms.rolling_window import MARKER_PREFIX

CORPUS = Path(__file__).parent / "corpus"
DEPTH = 100_000


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


def load_corpus(path: Path) -> dict[str, Any]:
    """A corpus body as Python sees it (invalid UTF-8 kept as surrogate escapes)."""
    body: dict[str, Any] = json.loads(path.read_bytes().decode("utf-8", "surrogateescape"))
    return body


def _tool_exchange(content: Any) -> list[Any]:
    return [
        {"role": "user", "content": "look it up"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": content},
        {"role": "user", "content": "and?"},
    ]


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def generated_cases() -> dict[str, Callable[[], dict[str, Any]]]:
    """Big cases, built when a test asks for them."""
    return {
        "nesting_100k_as_text": lambda: {
            "model": "gpt-4o",
            "messages": _tool_exchange("[" * DEPTH + "]" * DEPTH),
        },
        "nesting_100k_as_objects": lambda: {
            "model": "gpt-4o",
            "messages": [*_tool_exchange(_nested(DEPTH)), {"role": "user", "x": _nested(DEPTH)}],
        },
        "thousands_of_tiny_messages": lambda: {
            "model": "gpt-4o",
            "messages": [
                {"role": ("user", "assistant", "tool", "system")[i % 4], "content": "k"}
                for i in range(6000)
            ],
        },
    }


def fifty_megabytes() -> str:
    return ("log line with some words and numbers 12345 ok\n" * 1_100_000)[:50_000_000]


def inserted(message: Any) -> bool:
    """Messages Headroom itself adds: the window's marker and recall units."""
    if is_recall_message(message):
        return True
    content = message.get("content") if isinstance(message, dict) else None
    return (
        role_of(message) == "system"
        and isinstance(content, str)
        and content.startswith(MARKER_PREFIX)
    )


def assert_human_content_kept(original: list[Any], planned: list[Any]) -> None:
    """Every user or assistant message that was sent is one of the caller's own objects, in
    order; anything Headroom could not read (not a dict, an unknown role) went out as is."""
    positions = {id(m): i for i, m in enumerate(original)}
    seen = []
    for message in planned:
        if role_of(message) in ("user", "assistant") and not inserted(message):
            assert id(message) in positions, f"rewritten: {str(message)[:200]}"
            seen.append(positions[id(message)])
    assert seen == sorted(seen), "human messages were reordered"


def fingerprint(value: Any) -> str:
    """A comparable snapshot of a request (NaN equals NaN here, surrogates survive)."""
    return json.dumps(value, sort_keys=False, default=repr)


# -- hypothesis strategies --------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
roles = st.one_of(
    st.sampled_from(["system", "user", "assistant", "tool", "developer", "function"]),
    st.text(max_size=8),
    st.none(),
    st.integers(),
)
parts = st.lists(
    st.one_of(
        st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=40)}),
        st.dictionaries(st.sampled_from(["type", "text", "image_url"]), json_values, max_size=3),
        scalars,
    ),
    max_size=4,
)
tool_calls = st.one_of(
    st.none(),
    json_values,
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.sampled_from(["c1", "c2", "c3"]),
                "type": st.just("function"),
                "function": st.fixed_dictionaries(
                    {"name": st.sampled_from(["f", "search"]), "arguments": st.text(max_size=20)}
                ),
            }
        ),
        max_size=2,
    ),
)
json_text = json_values.map(lambda v: json.dumps(v, allow_nan=True))


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any] | Any:
    """A message dict with any role and any content shape, or not a dict at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    message: dict[str, Any] = {
        "role": draw(roles),
        "content": draw(st.one_of(st.text(max_size=80), st.none(), parts, json_values, json_text)),
    }
    if draw(st.booleans()):
        message["tool_calls"] = draw(tool_calls)
    if draw(st.booleans()):
        message["tool_call_id"] = draw(st.one_of(st.sampled_from(["c1", "c2", "zz"]), scalars))
    if draw(st.integers(0, 4)) == 0:
        message[draw(st.text(max_size=6))] = draw(json_values)
    return message


conversations = st.lists(messages(), max_size=12)


def strict_json(value: Any) -> Any:
    """``value`` if it survives a strict JSON round trip (what an HTTP body can hold), else a
    placeholder: the client fuzz needs requests the bare SDK can send too."""
    try:
        text = json.dumps(value, allow_nan=False)
        text.encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError):
        return "unsendable"
    return json.loads(text)
