"""LangChain messages to Headroom's canonical OpenAI message dicts, and back.

The canonical dicts exist only so the engine can count and plan; what goes to a wrapped model
is always LangChain messages. A message the engine did not change goes back as the very same
object (id, name, ``additional_kwargs`` and ``response_metadata`` intact); a changed one is a
copy with only its content replaced; a message the engine inserted (the rolling window's
marker, a recall unit) becomes a new message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    SystemMessage,
    ToolMessage,
    convert_to_openai_messages,
)
from langchain_core.utils.function_calling import convert_to_openai_tool

from headroom.plan_alignment import rebuild as rebuild_messages


def to_canonical(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The OpenAI Chat Completions form of ``messages`` (one dict per message, in order)."""
    converted = convert_to_openai_messages(list(messages))
    if len(converted) != len(messages):  # never expected; the caller then falls open
        raise ValueError("message conversion changed the number of messages")
    for message in converted:
        _as_sent(message)
    return converted


def _as_sent(message: dict[str, Any]) -> None:
    """Match what ChatOpenAI sends: tool results carry no ``name``, and an assistant message
    that only calls tools has null content."""
    if message.get("role") == "tool":
        message.pop("name", None)
    elif (
        message.get("role") == "assistant"
        and message.get("tool_calls")
        and message.get("content") in ("", [])
    ):
        message["content"] = None


def openai_tools(tools: object) -> list[dict[str, Any]] | None:
    """``tools`` (LangChain tools, functions, schemas or provider dicts) as OpenAI tool
    definitions, for counting; None when there are none or one cannot be converted."""
    if not isinstance(tools, (list, tuple)) or not tools:
        return None
    result: list[dict[str, Any]] = []
    for tool in tools:
        if isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping):
            result.append(dict(tool))
            continue
        try:
            result.append(convert_to_openai_tool(tool))
        except Exception:  # noqa: BLE001 - a provider-specific tool: count without it
            continue
    return result or None


def from_canonical(message: Mapping[str, Any], original: BaseMessage | None) -> BaseMessage:
    """The LangChain message to send for one planned message."""
    content = message.get("content")
    if original is not None:
        if content is None or content == original.content:
            return original
        return original.model_copy(update={"content": content})
    role = message.get("role")
    text = content if isinstance(content, (str, list)) else ""
    if role == "tool":
        return ToolMessage(content=text, tool_call_id=str(message.get("tool_call_id") or ""))
    if role == "assistant":
        calls = [_tool_call(call) for call in message.get("tool_calls") or []]
        return AIMessage(content=text, tool_calls=calls)
    return SystemMessage(content=text)


def _tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    fn = call.get("function") or {}
    raw = fn.get("arguments") or "{}"
    try:
        args = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except ValueError:
        args = {}
    return {
        "name": str(fn.get("name") or ""),
        "args": args if isinstance(args, dict) else {},
        "id": call.get("id"),
        "type": "tool_call",
    }


def rebuild(
    originals: Sequence[BaseMessage],
    canonical: Sequence[Mapping[str, Any]],
    planned: Sequence[Any],
) -> list[BaseMessage]:
    """The LangChain messages for ``planned`` (the engine's output for ``canonical``)."""
    return rebuild_messages(originals, canonical, planned, from_canonical)


def same_messages(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """True when ``a`` and ``b`` hold the very same objects in the same order."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
