"""LlamaIndex ChatMessages to Headroom's canonical OpenAI message dicts, and back.

The canonical dicts exist only so the engine can count and plan; what goes to the wrapped LLM
is always ChatMessages. A message the engine did not change goes back as the very same
ChatMessage object (its ``additional_kwargs`` and blocks intact); a changed one is a copy with
only its text replaced; a message the engine inserted (the rolling window's marker, a recall
unit) becomes a new ChatMessage.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from headroom.plan_alignment import rebuild as rebuild_messages

# LlamaIndex roles that OpenAI's API knows under another name.
_ROLE_ALIASES = {"chatbot": "assistant", "model": "assistant"}
_TEXT_ONLY_ROLES = ("system", "developer", "assistant", "tool")


def role_name(message: ChatMessage) -> str:
    role = message.role.value if isinstance(message.role, MessageRole) else str(message.role)
    return _ROLE_ALIASES.get(role, role)


def to_canonical(message: ChatMessage) -> dict[str, Any]:
    """The OpenAI Chat Completions form of one ChatMessage, as an OpenAI LLM would send it."""
    role = role_name(message)
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    only_text = True
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolCallBlock):
            calls.append(_call_dict(block.tool_call_id, block.tool_name, block.tool_kwargs))
        elif isinstance(block, (ThinkingBlock, CachePoint, CacheControl)):
            continue  # not prompt text: reasoning is not sent back, cache hints cost nothing
        else:
            only_text = False
            parts.append(_media_part(block))
    if not calls:
        calls = _legacy_calls(message.additional_kwargs.get("tool_calls"))
    text = "".join(texts)
    # OpenAI-style providers send only the text of system, assistant and tool messages.
    content: Any = text if only_text or role in _TEXT_ONLY_ROLES else parts
    has_function_call = isinstance(message.additional_kwargs.get("function_call"), Mapping)
    if role == "assistant" and text == "" and only_text and (calls or has_function_call):
        content = None
    result: dict[str, Any] = {"role": role, "content": content}
    if calls:
        result["tool_calls"] = calls
    if has_function_call:
        result["function_call"] = dict(message.additional_kwargs["function_call"])
    call_id = message.additional_kwargs.get("tool_call_id")
    if role == "tool" and isinstance(call_id, str):
        result["tool_call_id"] = call_id
    name = message.additional_kwargs.get("name")
    if role == "function" and isinstance(name, str):  # a legacy function result names its tool
        result["name"] = name
    return result


def _call_dict(call_id: str | None, name: str, arguments: object) -> dict[str, Any]:
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return {
        "id": call_id or "",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def _legacy_calls(raw: object) -> list[dict[str, Any]]:
    """Tool calls kept in ``additional_kwargs`` (OpenAI SDK objects or dicts)."""
    if not isinstance(raw, list):
        return []
    calls = []
    for call in raw:
        data = call.model_dump() if hasattr(call, "model_dump") else call
        if not isinstance(data, Mapping):
            continue
        fn = data.get("function")
        fn = fn if isinstance(fn, Mapping) else {}
        calls.append(
            _call_dict(
                data.get("id") if isinstance(data.get("id"), str) else None,
                str(fn.get("name") or ""),
                fn.get("arguments") if fn.get("arguments") is not None else "",
            )
        )
    return calls


def _media_part(block: object) -> dict[str, Any]:
    """A content part that prices a non-text block the way the provider bills it."""
    if isinstance(block, ImageBlock):
        image: dict[str, Any] = {"url": _image_url(block)}
        if block.detail:
            image["detail"] = block.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(block, AudioBlock):
        return {"type": "input_audio"}
    if isinstance(block, DocumentBlock):
        return {"type": "file"}
    return {"type": getattr(block, "block_type", "unknown")}


def _image_url(block: ImageBlock) -> str:
    if block.url:
        return str(block.url)
    if isinstance(block.image, bytes):  # LlamaIndex keeps inline images base64-encoded
        mimetype = block.image_mimetype or "image/png"
        return f"data:{mimetype};base64,{block.image.decode('ascii', 'ignore')}"
    return ""


def from_canonical(message: Mapping[str, Any], original: ChatMessage | None) -> ChatMessage:
    """The ChatMessage to send for a planned message: the original with its text replaced, or
    a new message when the engine inserted it."""
    content = message.get("content")
    if original is not None:
        if not isinstance(content, str):
            return original  # the engine rewrites text only; anything else is left as it was
        return original.model_copy(
            update={
                "blocks": _replace_text(original.blocks, content),
                "additional_kwargs": dict(original.additional_kwargs),
            }
        )
    blocks: list[Any] = [TextBlock(text=content)] if isinstance(content, str) and content else []
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        blocks.append(
            ToolCallBlock(
                tool_call_id=call.get("id"),
                tool_name=str(fn.get("name") or ""),
                tool_kwargs=fn.get("arguments") or {},
            )
        )
    extra: dict[str, Any] = {}
    for key in ("tool_call_id", "name"):
        if isinstance(message.get(key), str):
            extra[key] = message[key]
    return ChatMessage(
        role=MessageRole(message.get("role", "user")), blocks=blocks, additional_kwargs=extra
    )


def _replace_text(blocks: Sequence[Any], text: str) -> list[Any]:
    """``blocks`` with their text replaced by ``text``: it takes the place of the first text
    block, the other text blocks go, every other block keeps its place."""
    out: list[Any] = []
    placed = False
    for block in blocks:
        if not isinstance(block, TextBlock):
            out.append(block)
        elif not placed:
            out.append(TextBlock(text=text))
            placed = True
    return out if placed else [TextBlock(text=text), *out]


def rebuild(
    originals: Sequence[ChatMessage],
    canonical: Sequence[Mapping[str, Any]],
    planned: Sequence[Any],
) -> list[ChatMessage]:
    """The ChatMessages for ``planned`` (the engine's output for ``canonical``)."""
    return rebuild_messages(originals, canonical, planned, from_canonical)
