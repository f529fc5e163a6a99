"""Mapping a plan's messages back to the request's, for adapters that must hand their
framework its own message objects again.

The engine keeps order, returns unchanged messages as the same objects, rewrites only content,
and inserts only two kinds of messages (the rolling window's marker and recall units). So
identity anchors the match, and role, tool call id, name and tool calls pin down each rewritten
message between two anchors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from .transforms.recall import is_recall_message
from .transforms.rolling_window import MARKER_PREFIX

T = TypeVar("T")
_SLOT_KEYS = ("role", "tool_call_id", "name", "tool_calls")


def is_inserted(message: Mapping[str, Any]) -> bool:
    """True for messages the engine adds: the rolling window's marker and recall units."""
    if is_recall_message(message):
        return True
    content = message.get("content")
    return (
        message.get("role") == "system"
        and isinstance(content, str)
        and content.startswith(MARKER_PREFIX)
    )


def _same_slot(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether ``after`` can be ``before`` with its content rewritten."""
    return all(before.get(key) == after.get(key) for key in _SLOT_KEYS)


def align(inputs: Sequence[Mapping[str, Any]], outputs: Sequence[Any]) -> list[int | None]:
    """For each planned message, the index of the input message it came from, or None when
    the engine inserted it."""
    position = {id(message): i for i, message in enumerate(inputs)}
    anchors = [position.get(id(message)) for message in outputs]
    result: list[int | None] = []
    cursor = 0
    for index, message in enumerate(outputs):
        anchor = anchors[index]
        if anchor is not None and anchor >= cursor:
            result.append(anchor)
            cursor = anchor + 1
            continue
        if not isinstance(message, Mapping) or is_inserted(message):
            result.append(None)
            continue
        limit = next(
            (a for a in anchors[index + 1 :] if a is not None and a >= cursor), len(inputs)
        )
        match = next((k for k in range(cursor, limit) if _same_slot(inputs[k], message)), None)
        result.append(match)
        if match is not None:
            cursor = match + 1
    return result


def rebuild(
    originals: Sequence[T],
    canonical: Sequence[Mapping[str, Any]],
    planned: Sequence[Any],
    convert: Callable[[Any, T | None], T],
) -> list[T]:
    """A framework's messages for ``planned`` (the engine's output for ``canonical``, the
    canonical form of ``originals``): an unchanged message is its original object, any other
    is ``convert(planned message, the original it came from or None)``."""
    out: list[T] = []
    for message, source in zip(planned, align(canonical, planned), strict=True):
        original = originals[source] if source is not None else None
        if original is not None and source is not None and message is canonical[source]:
            out.append(original)
        else:
            out.append(convert(message, original))
    return out
