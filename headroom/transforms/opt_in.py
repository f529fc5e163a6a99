"""Tool output that only a profile opts into compression, found so the CLI and the report can
name the tool and the profile: plain text (``text_lines``) and lists of content parts
(``text_parts``). The built-in profile leaves both as they are."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..conversation import TOOL_ROLES, role_of, tool_name_of, tool_names_by_call_id
from .tool_output import DIGEST_TAG, looks_like_json, text_parts_of

MIN_CHARS = 2000  # shorter output is not worth a profile


def plain_text_tools(messages: Sequence[Any]) -> list[str]:
    """Tools whose output includes long plain text (logs, listings), in order of first sight."""
    return _tools_with(messages, _long_plain_text)


def text_part_tools(messages: Sequence[Any]) -> list[str]:
    """Tools whose output includes a content list with a long text part."""
    return _tools_with(
        messages, lambda content: any(len(t) >= MIN_CHARS for t in text_parts_of(content))
    )


def _long_plain_text(content: object) -> bool:
    return (
        isinstance(content, str)
        and len(content) >= MIN_CHARS
        and not looks_like_json(content)
        and DIGEST_TAG not in content
    )


def _tools_with(messages: Sequence[Any], holds: Callable[[object], bool]) -> list[str]:
    calls = tool_names_by_call_id(messages)
    found: dict[str, None] = {}
    for message in messages:
        if not isinstance(message, Mapping) or role_of(message) not in TOOL_ROLES:
            continue
        name = tool_name_of(message, calls)
        if name and holds(message.get("content")):
            found[name] = None
    return list(found)
