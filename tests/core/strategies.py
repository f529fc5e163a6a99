"""Hypothesis strategies for chat requests with tool calls, as agents really send them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

WORDS = [
    "error",
    "timeout",
    "disk",
    "node",
    "user",
    "order",
    "invoice",
    "alpha",
    "beta",
    "gamma",
    "issue",
    "merge",
    "deploy",
    "region",
    "payment",
    "failed",
    "ok",
    "started",
    "capacity",
    "Moldova",
    "ZQX-marker",
    "#42",
    "2025-03-04",
    "stack",
    "trace",
    "café",
    "日本",
    "🙂",
]

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)
prose = st.one_of(words, st.text(max_size=60))


@st.composite
def json_item(draw: st.DrawFn, index: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": index,
        "level": draw(st.sampled_from(["INFO", "INFO", "INFO", "WARN", "ERROR"])),
        "message": draw(words),
        "value": draw(st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6))),
    }
    if draw(st.booleans()):
        item["meta"] = {"host": draw(st.sampled_from(["a", "b", "c"])), "tags": [index, "x"]}
    if draw(st.integers(0, 9)) == 0:
        item["body"] = draw(words) * draw(st.integers(1, 40))
    if draw(st.integers(0, 2)) == 0:  # an API's links, derived from the item's own url
        url = f"https://api.example.com/{draw(st.sampled_from(['runs', 'jobs']))}/{index}"
        item["url"] = url
        for name in draw(st.lists(st.sampled_from(_LINKS), max_size=6, unique=True)):
            item[f"{name}_url"] = f"{url}/{name}" + draw(st.sampled_from(["", "{/id}"]))
    if draw(st.integers(0, 2)) == 0:  # an API's unset fields, sent as nulls
        for name in draw(st.lists(st.sampled_from(_UNSET), max_size=7, unique=True)):
            item[name] = None
    return item


_LINKS = ["logs", "jobs", "artifacts", "cancel", "rerun", "events", "labels"]
_UNSET = ["fax", "company", "due_date", "closed_at", "customer email", "state", "description"]


@st.composite
def json_payload(draw: st.DrawFn) -> str:
    count = draw(st.one_of(st.integers(0, 8), st.integers(20, 70)))
    items = [draw(json_item(i)) for i in range(count)]
    document: Any = {"results": items, "total": count} if draw(st.booleans()) else items
    indent = draw(st.sampled_from([None, 2]))
    return json.dumps(document, indent=indent, ensure_ascii=draw(st.booleans()))


@st.composite
def malformed_json(draw: st.DrawFn) -> str:
    text = draw(json_payload())
    if len(text) < 4:
        return "{" + text
    cut = draw(st.integers(1, len(text) - 1))
    broken = text[:cut]
    return broken if broken.strip() not in ("", "[]", "{}") else "{broken"


@st.composite
def text_payload(draw: st.DrawFn) -> str:
    lines = draw(st.lists(words, min_size=1, max_size=120))
    return "\n".join(f"{i:04d} {line}" for i, line in enumerate(lines))


tool_content = st.one_of(
    json_payload(),
    malformed_json(),
    text_payload(),
    prose,
    st.just("NaN"),
    st.just('{"a": NaN, "b": [1, 2, 3]}'),
    st.just('{"a": 1, "a": 2}'),
)

SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "Today's date is Wednesday, September 3, 2025.\n\nYou are an SRE assistant.",
    "You are helpful. Current Date: 2024-01-15",
    "Current time: Fri May 23 15:44:22 UTC 2025\n\nAnswer briefly.   \n\n\n\nBe kind.",
    "Be brief.  \nToday is 2025-09-03.\nCite sources.",
    "Cite sources.\n\n\nThe current date and time is 2024-09-23T08:53:01Z.   \n",
]


@st.composite
def conversations(draw: st.DrawFn, max_turns: int = 4) -> list[dict[str, Any]]:
    """A chat with a system prompt, user turns, tool-call units and assistant replies."""
    messages: list[dict[str, Any]] = []
    if draw(st.integers(0, 4)) > 0:
        messages.append({"role": "system", "content": draw(st.sampled_from(SYSTEM_PROMPTS))})
    counter = 0
    for _ in range(draw(st.integers(1, max_turns))):
        messages.append({"role": "user", "content": draw(prose)})
        for _ in range(draw(st.integers(0, 3))):
            calls = []
            for _ in range(draw(st.integers(1, 2))):
                counter += 1
                calls.append(
                    {
                        "id": f"call_{counter}",
                        "type": "function",
                        "function": {
                            "name": draw(st.sampled_from(["search", "logs", "db"])),
                            "arguments": json.dumps({"q": draw(words)}),
                        },
                    }
                )
            messages.append(
                {
                    "role": "assistant",
                    "content": draw(st.one_of(st.none(), prose)),
                    "tool_calls": calls,
                }
            )
            for call in calls:
                content: Any = draw(tool_content)
                if draw(st.integers(0, 4)) == 0:  # as MCP tools send it: a list of text parts
                    content = [{"type": "text", "text": content}]
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
        if draw(st.booleans()):
            messages.append({"role": "assistant", "content": draw(prose)})
    return messages


engine_settings = st.fixed_dictionaries(
    {
        "window": st.sampled_from([2_000, 6_000, 20_000, 128_000]),
        "output_buffer_tokens": st.sampled_from([0, 200, 1000]),
        "keep_turns": st.integers(0, 3),
        "tool_profiles": st.sampled_from([None, {"*": {"text_parts": True}}]),
    }
)
