"""Recall: when a later question names something an earlier compressed tool output left out,
bring those parts back, right after the question.

Compression keeps the question's items as seen when the tool answered; a user who later asks
"back to the first list: what about issue #63?" needs items it dropped. Rewriting the old tool
message would bust the provider's prompt cache, so the parts come back instead as a repeated
call of the same tool, inserted right after the user message that asks: a well-formed tool
call unit, in the tool role (tool output is never promoted to system or user authority), that
depends only on messages up to that question, so the prefix stays stable as the chat grows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from ..conversation import role_of, text_of, tool_names_by_call_id
from ..options import ToolProfile
from ..plan import TransformResult
from ..questions import identifier_terms
from .base import TransformContext
from .json_compress import (
    Shrinker,
    dumps_min,
    is_json_document,
    list_index,
    list_parts,
    parse_json,
)
from .json_references import SAME_AS_KEY, expand_references
from .question_hits import item_question_hits, question_hits
from .tool_output import is_text_part, split_digest

NAME = "recall"
RECALL_ID_PREFIX = "call_headroom_recall_"
MAX_PARTS = 5  # items or lines recalled from one tool output
MAX_UNITS = 3  # recall units after one question
_ITEM_PROFILE = ToolProfile(max_array_items=3, max_string_length=2000, shorten_arrays_over=20)
_MIN_ARRAY = 9


def is_recall_message(message: object) -> bool:
    """True for the messages this transform inserts (both halves of the unit)."""
    if not isinstance(message, dict):
        return False
    if role_of(message) == "tool":
        call_id = message.get("tool_call_id")
        return isinstance(call_id, str) and call_id.startswith(RECALL_ID_PREFIX)
    if role_of(message) == "assistant":
        calls = message.get("tool_calls")
        return isinstance(calls, list) and any(
            isinstance(c, dict) and str(c.get("id", "")).startswith(RECALL_ID_PREFIX) for c in calls
        )
    return False


class _Memo:
    def __init__(self, max_entries: int = 4096) -> None:
        self._data: OrderedDict[tuple[str, str, tuple[str, ...]], list[str]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get_or_compute(self, key: tuple[str, str, tuple[str, ...]], compute: Any) -> list[str]:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value: list[str] = compute()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._max:
                self._data.popitem(last=False)
        return value


_memo = _Memo()
_lowered = _Memo(max_entries=64)


def missing_parts(original: str, compressed: str, terms: tuple[str, ...]) -> list[str]:
    """The parts of ``original`` that ``terms`` single out and ``compressed`` does not show."""
    if not terms or original == compressed:
        return []
    return _memo.get_or_compute(
        (original, compressed, terms),
        lambda: (
            _missing_parts(original, compressed, terms) if _may_mention(original, terms) else []
        ),
    )


# A term found this often in a text is too common to single out an item; a term not found
# at all cannot. Either way the text need not be parsed (the warm path of an agent loop).
_MAX_OCCURRENCES = 24


def _may_mention(original: str, terms: tuple[str, ...]) -> bool:
    lowered = _lowered.get_or_compute((original, "", ()), lambda: [original.lower()])[0]
    for term in terms:
        needle = term[1:] if term.startswith("#") else term
        if 0 < _occurrences(lowered, needle) <= _MAX_OCCURRENCES:
            return True
    return False


def _occurrences(lowered: str, needle: str) -> int:
    """How often ``needle`` occurs in ``lowered``; a number only where it is not part of a
    longer one (``63`` is not in ``11503763``: a list three times as long must not hide
    issue #63 behind the ids that happen to contain it)."""
    count = lowered.count(needle)
    if count <= _MAX_OCCURRENCES or not needle.isdigit():
        return count
    return len(re.findall(rf"(?<![0-9]){needle}(?![0-9])", lowered))


def _missing_parts(original: str, compressed: str, terms: tuple[str, ...]) -> list[str]:
    document = parse_json(original)
    if is_json_document(document):
        return _json_parts(document, _visible_json(compressed), terms)
    lines = original.split("\n")
    if len(lines) < _MIN_ARRAY:
        return []
    hits = question_hits(lines, terms, max_keep=0)
    return [lines[i] for i in sorted(hits) if lines[i] not in compressed][:MAX_PARTS]


def _visible_json(compressed: str) -> str:
    """What the compressed output shows, with repeated objects written out again, so an item
    that is there but refers to an earlier copy of its ``user`` counts as shown."""
    body = split_digest(compressed)[0]
    if SAME_AS_KEY not in body:
        return compressed
    document = parse_json(body)
    if not is_json_document(document):
        return compressed
    return dumps_min(expand_references(document)) or compressed


def _json_parts(document: Any, compressed: str, terms: tuple[str, ...]) -> list[str]:
    parts: list[str] = []
    for items in _long_arrays(document):
        hits = item_question_hits(
            [p[0] for p in list_parts(items)], terms, max_keep=0, index=list_index(items)
        )
        for i in sorted(hits):
            text = dumps_min(items[i])
            if text is None or text in compressed:
                continue
            if len(text) > 8000:
                text = dumps_min(Shrinker(_ITEM_PROFILE, terms).shrink(items[i], 0, True))
            if text and text not in parts:
                parts.append(text)
            if len(parts) >= MAX_PARTS:
                return parts
    return parts


def _long_arrays(value: Any, depth: int = 0) -> list[list[Any]]:
    found: list[list[Any]] = []
    if depth > 8:
        return found
    if isinstance(value, list):
        if len(value) >= _MIN_ARRAY:
            found.append(value)
        for item in value:
            if isinstance(item, (dict, list)):
                found.extend(_long_arrays(item, depth + 1))
    elif isinstance(value, dict):
        for inner in value.values():
            if isinstance(inner, (dict, list)):
                found.extend(_long_arrays(inner, depth + 1))
    return found


def apply(
    aligned: list[Any], compressed: list[Any], ctx: TransformContext
) -> tuple[list[Any], TransformResult]:
    """Insert a recall unit after each user message whose question names parts that earlier
    compressed tool outputs left out. ``compressed`` has the same positions as ``aligned``."""
    calls = tool_names_by_call_id(aligned)
    out: list[Any] = []
    added = units = 0
    cut_before = False  # whether a tool output before this message was compressed
    for index, message in enumerate(compressed):
        out.append(message)
        if not cut_before:
            cut_before = role_of(message) == "tool" and message is not aligned[index]
            continue
        if role_of(message) != "user":
            continue
        terms = identifier_terms(text_of(message.get("content")))
        if not terms:
            continue
        units_here = 0
        for earlier in range(index):
            if units_here >= MAX_UNITS:
                break
            before = aligned[earlier]
            after = compressed[earlier]
            if role_of(before) != "tool" or before is after:
                continue
            parts = [
                part
                for original, shown in _compressed_texts(before, after)
                for part in missing_parts(original, shown, terms)
            ]
            if not parts:
                continue
            unit = _recall_unit(before, parts, calls, index, earlier)
            out.extend(unit)
            added += sum(map(ctx.tokens_of, unit))
            units += 1
            units_here += 1
    return out, TransformResult(NAME, -added, 2 * units, {"recalled_units": units})


def _compressed_texts(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str]]:
    """(original, as sent) for each text of a tool output that compression changed: the
    content, or each text part of a content list."""
    original, shown = before.get("content"), after.get("content")
    if isinstance(original, str) and isinstance(shown, str):
        return [(original, shown)]
    if not isinstance(original, list) or not isinstance(shown, list):
        return []
    if len(original) != len(shown):
        return []
    return [
        (a["text"], b["text"])
        for a, b in zip(original, shown, strict=True)
        if a is not b and is_text_part(a) and is_text_part(b)
    ]


def _recall_unit(
    tool_message: dict[str, Any],
    parts: Sequence[str],
    calls: dict[str, tuple[str, str]],
    question_index: int,
    source_index: int,
) -> list[dict[str, Any]]:
    call_id = tool_message.get("tool_call_id")
    name, arguments = calls.get(call_id, ("", "{}")) if isinstance(call_id, str) else ("", "{}")
    name = (
        name
        or (tool_message.get("name") if isinstance(tool_message.get("name"), str) else "")
        or "recall"
    )
    seed = f"{question_index}:{source_index}:{call_id}:{len(parts)}"
    new_id = RECALL_ID_PREFIX + hashlib.sha256(seed.encode()).hexdigest()[:12]
    header = (
        f"[headroom: parts of an earlier {name} result (call {call_id}) that match the "
        f"question above and were left out of it]"
    )
    body = "\n".join(parts)
    if all(p[:1] in "{[" for p in parts):
        with contextlib.suppress(ValueError):  # lines that merely look like JSON stay lines
            body = json.dumps(
                [json.loads(p) for p in parts], ensure_ascii=False, separators=(",", ":")
            )
    return [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": new_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments or "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": new_id, "content": f"{header}\n{body}"},
    ]
