"""Cache alignment: keep the system prompt's prefix identical from one day to the next.

Sentences that carry dates or times move out of the system prompt into a trailing
``[Context: ...]`` block, whitespace is normalised, and a hash of the static prefix (tool
definitions plus system prompts without their dynamic values) is computed. Two requests that
differ only in the date get identical prefixes. Dates that already follow every static line
stay where they are: moving them would cost the block's tokens and win no cache hit. Only
system and developer messages are touched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from ..conversation import SYSTEM_ROLES, role_of
from ..plan import TransformResult
from ..tokens import count_edited
from .base import TransformContext
from .dynamic_values import find_dynamic_values

NAME = "cache_alignment"
WINDOW_MARKER_PREFIX = "[headroom: "  # the rolling window's marker message starts so
CONTEXT_OPEN = "[Context: "
_CONTEXT_BLOCK = re.compile(r"\n\n\[Context: (?P<body>[^\n]*)\]\Z")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_MAX_LINE = 300  # dates in longer lines are content, not a date line
_MAX_MOVED = 3  # more dynamic sentences than this: the prompt is about dates; leave it


def split_context(text: str) -> tuple[str, str | None]:
    """(static part, body of an existing trailing context block or None)."""
    match = _CONTEXT_BLOCK.search(text)
    if match is None:
        return text, None
    return text[: match.start()], match.group("body")


@functools.lru_cache(maxsize=512)
def _align_cached(text: str) -> tuple[str, tuple[str, ...], str | None]:
    static, moved = _align(text)
    return static, tuple(moved), _in_place(text, static, moved)


def align_text(text: str) -> tuple[str, list[str]]:
    """Return the static text (dynamic sentences removed, whitespace normalised) and the
    dynamic sentences, in order. Memoised: the same system prompt comes with every request."""
    static, moved, _ = _align_cached(text)
    return static, list(moved)


def dynamic_values_in_prefix(text: str) -> bool:
    """Whether dates or times come before some static text, so the prompt's prefix changes
    with them (an aligned prompt's trailing block, or a date line already last, does not)."""
    static, existing = split_context(text)
    if existing is not None:
        return bool(align_text(static)[1])
    _, moved, in_place = _align_cached(text)
    return bool(moved) and in_place is None


def _in_place(text: str, static: str, moved: list[str]) -> str | None:
    """The prompt with only its whitespace normalised, when its dynamic sentences already
    follow all of its static text (nothing to move); otherwise None."""
    if not moved or split_context(text)[1] is not None:
        return None
    in_place = _normalise(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not in_place.startswith(static):
        return None
    return in_place if in_place[len(static) :].split() == " ".join(moved).split() else None


def _align(text: str) -> tuple[str, list[str]]:
    static, existing = split_context(text)
    moved: list[str] = []
    normalised_newlines = static.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalised_newlines.split("\n")
    lines_out: list[str] = []
    touched = _lines_with_values(normalised_newlines, lines)
    for line, holds_value in zip(lines, touched, strict=True):
        if holds_value and len(line) <= _MAX_LINE and find_dynamic_values(line):
            kept, taken = _take_dynamic_sentences(line)
            moved.extend(taken)
            if kept.strip() or not taken:
                lines_out.append(kept)
        else:
            lines_out.append(line)
    if len(moved) > _MAX_MOVED:
        moved, lines_out = [], lines
    normalised = _normalise("\n".join(lines_out))
    if existing is not None:
        moved = [existing, *moved]
    return normalised, moved


def _lines_with_values(text: str, lines: list[str]) -> list[bool]:
    """For each line of ``text``, whether a value found searching the whole text touches it.

    A value a line holds is found that way too, or lies inside a longer one that touches the
    line (a line boundary is a word boundary): only these lines need a search of their own.
    """
    touched = [False] * len(lines)
    starts = list(accumulate((len(line) + 1 for line in lines), initial=0))
    for start, end in find_dynamic_values(text):
        first = bisect_right(starts, start) - 1
        last = bisect_right(starts, max(end - 1, start)) - 1
        for index in range(first, min(last, len(lines) - 1) + 1):
            touched[index] = True
    return touched


def _take_dynamic_sentences(line: str) -> tuple[str, list[str]]:
    sentences = _SENTENCE_END.split(line.strip())
    taken = [s for s in sentences if find_dynamic_values(s)]
    kept = [s for s in sentences if not find_dynamic_values(s)]
    indent = line[: len(line) - len(line.lstrip())]
    return (indent + " ".join(kept)) if kept else "", taken


def _normalise(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    joined = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", joined)


def aligned_content(text: str) -> str:
    static, moved, in_place = _align_cached(text)
    if in_place is not None:
        return in_place
    if not moved:
        return static
    return (
        f"{static}\n\n{CONTEXT_OPEN}{' '.join(moved)}]"
        if static
        else f"{CONTEXT_OPEN}{' '.join(moved)}]"
    )


def apply(messages: list[Any], ctx: TransformContext) -> tuple[list[Any], TransformResult]:
    out = list(messages)
    saved = changed = moved_count = 0
    for i, message in enumerate(messages):
        if role_of(message) not in SYSTEM_ROLES or not isinstance(message.get("content"), str):
            continue
        new_text = aligned_content(message["content"])
        if new_text == message["content"]:
            continue
        new_message = {**message, "content": new_text}
        before = ctx.tokens_of(message)
        count_edited(new_text, message["content"], ctx.info.encoding)  # only the edits
        saved += before - ctx.tokens_of(new_message)
        moved_count += _moved_count(message["content"])
        out[i] = new_message
        changed += 1
    return out, TransformResult(NAME, saved, changed, {"dynamic_values_moved": moved_count})


def _moved_count(text: str) -> int:
    _, moved, in_place = _align_cached(text)
    return 0 if in_place is not None else len(moved)


def _leading_system(messages: Sequence[Any]) -> list[Any]:
    """The contents of the leading system prompts; the rolling window's marker, which sits
    right after them and changes when the window slides, is not part of the prefix."""
    lead = []
    for message in messages:
        if role_of(message) not in SYSTEM_ROLES:
            break
        content = message.get("content")
        if isinstance(content, str) and content.startswith(WINDOW_MARKER_PREFIX):
            break
        lead.append(content)
    return lead


def prefix_hash(messages: Sequence[Any], tools: Sequence[Any] | None) -> str:
    """sha256 of the cacheable prefix: tool definitions and the leading system prompts."""
    system = _leading_system(messages)
    return _digest({"tools": list(tools or []), "system": system})


def stable_prefix_hash(messages: Sequence[Any], tools: Sequence[Any] | None) -> str:
    """The hash of the prefix without its dynamic values: the same for a request and its
    aligned form, and from one day to the next."""
    system = [align_text(c)[0] if isinstance(c, str) else c for c in _leading_system(messages)]
    return _digest({"tools": list(tools or []), "system": system})


def _digest(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()
