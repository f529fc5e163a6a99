"""The shape of a chat request: who called which tool, where turns begin, what units go together.

Everything here reads messages and never changes them. Malformed messages (not dicts, unknown
roles, tool results without a call) are tolerated: they simply belong to no tool-call unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SYSTEM_ROLES = ("system", "developer")
TOOL_ROLES = ("tool", "function")


def role_of(message: object) -> str | None:
    if isinstance(message, (dict, Mapping)):  # dict first: no ABC check
        role = message.get("role")
        return role if isinstance(role, str) else None
    return None


def text_of(content: object) -> str:
    """The plain text of a content value (str, or the text parts of a list)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str)
        )
    return ""


def call_ids(message: object) -> list[str]:
    """The ids of the tool calls an assistant message makes."""
    if not isinstance(message, Mapping):
        return []
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return []
    return [c["id"] for c in calls if isinstance(c, Mapping) and isinstance(c.get("id"), str)]


def tool_names_by_call_id(messages: Sequence[Any]) -> dict[str, tuple[str, str]]:
    """call id -> (tool name, raw arguments) for every tool call in the request."""
    found: dict[str, tuple[str, str]] = {}
    for message in messages:
        if role_of(message) != "assistant":
            continue
        calls = message.get("tool_calls")
        if not isinstance(calls, list):
            continue
        for call in calls:
            if not isinstance(call, Mapping) or not isinstance(call.get("id"), str):
                continue
            fn = call.get("function")
            name = fn.get("name") if isinstance(fn, Mapping) else None
            args = fn.get("arguments") if isinstance(fn, Mapping) else None
            found[call["id"]] = (
                name if isinstance(name, str) else "",
                args if isinstance(args, str) else "",
            )
    return found


def tool_name_of(message: Mapping[str, Any], calls: Mapping[str, tuple[str, str]]) -> str | None:
    """The name of the tool that produced a tool (or legacy function) message."""
    if message.get("role") == "function":
        name = message.get("name")
        return name if isinstance(name, str) else None
    call_id = message.get("tool_call_id")
    if isinstance(call_id, str) and call_id in calls:
        return calls[call_id][0] or None
    name = message.get("name")
    return name if isinstance(name, str) else None


@dataclass(frozen=True)
class Unit:
    """Messages that stand or fall together: a tool-call unit, or one other message."""

    start: int
    stop: int  # exclusive
    kind: str  # "system" | "tool_unit" | "message"

    @property
    def indices(self) -> range:
        return range(self.start, self.stop)


def split_units(messages: Sequence[Any]) -> list[Unit]:
    """Group messages into units: an assistant message with tool calls plus the tool results
    that answer it (and a legacy function_call plus its function message) form one unit."""
    units: list[Unit] = []
    i, n = 0, len(messages)
    while i < n:
        message = messages[i]
        role = role_of(message)
        if role in SYSTEM_ROLES:
            units.append(Unit(i, i + 1, "system"))
            i += 1
            continue
        ids = set(call_ids(message)) if role == "assistant" else set()
        legacy = role == "assistant" and isinstance(message.get("function_call"), Mapping)
        if ids or legacy:
            j = i + 1
            while j < n:
                nxt = messages[j]
                r = role_of(nxt)
                if r == "tool" and nxt.get("tool_call_id") in ids:
                    j += 1
                elif r == "function" and legacy:
                    j += 1
                    legacy = False
                else:
                    break
            units.append(Unit(i, j, "tool_unit"))
            i = j
            continue
        units.append(Unit(i, i + 1, "message"))
        i += 1
    return units


def protected_start(messages: Sequence[Any], keep_turns: int) -> int:
    """Index where the last ``keep_turns`` turns begin (a turn starts at a user message).

    Everything from there to the end is never dropped. With fewer user messages than
    ``keep_turns``, everything after the leading system messages is protected.
    """
    if keep_turns <= 0:
        return len(messages)
    user_positions = [i for i, m in enumerate(messages) if role_of(m) == "user"]
    if len(user_positions) >= keep_turns:
        return user_positions[-keep_turns]
    first = 0
    while first < len(messages) and role_of(messages[first]) in SYSTEM_ROLES:
        first += 1
    return first


def user_text_before(messages: Sequence[Any], index: int) -> str:
    """The text of the latest user message before ``index`` (what a tool result answers)."""
    for i in range(index - 1, -1, -1):
        if role_of(messages[i]) == "user":
            return text_of(messages[i].get("content"))
    return ""
