"""Context MRI: where a request's tokens go and how many of them are waste.

Audit never changes the request. Each category answers one question a user asks of a request:
- json_whitespace: tokens that minifying JSON tool output would remove, losing nothing;
- oversized_tool_output: tokens that compressing tool output (after minifying) would remove;
- repeated_content: tokens of a tool output or document sent again in the same request;
- dynamic_prefix: tokens of system prompts whose dates or times change the cacheable prefix
  every day, so the provider's prompt cache cannot serve them across days;
- beyond_window: tokens over the budget (window minus output buffer);
- blobs: tokens of base64 data and HTML markup inside message content.
Per-content facts are memoised, so an agent loop only pays for new messages.

The two tool-output categories together are exactly what compression saves (original tokens
minus compressed tokens). Where compression only minified, all of it is json_whitespace. Where
it also cut content, the split is an estimate: counting the minified document exactly would
cost a second tokenizer pass over it, so its tokens are extrapolated from a few evenly spread
slices (``tokens.estimate_tokens``, exact for short documents), json_whitespace is original
minus that estimate (clamped to what was saved), and oversized_tool_output is the rest.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar, cast

from .conversation import (
    SYSTEM_ROLES,
    TOOL_ROLES,
    role_of,
    text_of,
    tool_name_of,
    tool_names_by_call_id,
)
from .plan import WASTE_CATEGORIES, Waste
from .tokens import count_text, estimate_tokens
from .transforms.base import TransformContext
from .transforms.cache_alignment import dynamic_values_in_prefix
from .transforms.json_compress import minified_json
from .transforms.tool_output import (
    Settings,
    compress_with_terms,
    settings,
    split_digest,
    tool_texts,
)

_BASE64 = re.compile(r"(?:data:[\w/+.-]+;base64,)?[A-Za-z0-9+/]{256,}={0,2}")
_HTML_TAG = re.compile(r"<(?:[a-zA-Z][\w:-]*|/[a-zA-Z][\w:-]*)(?:\s[^<>]{0,2000})?/?>")
_MIN_REPEAT_CHARS = 200
_MIN_HTML_TAGS = 20

T = TypeVar("T")


_MISSING = object()


class _FactMemo:
    """A small LRU for per-content facts."""

    def __init__(self, max_entries: int = 8192) -> None:
        self._data: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        with self._lock:  # one lookup, one move: keys hold whole texts, compared in full
            found = self._data.get(key, _MISSING)
            if found is not _MISSING:
                self._data.move_to_end(key)
                return cast(T, found)
        value = compute()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._max:
                self._data.popitem(last=False)
        return value


_memo = _FactMemo()


def empty_waste(total: int) -> Waste:
    return Waste(total, {}, dict.fromkeys(WASTE_CATEGORIES, 0), {})


def analyse(messages: list[Any], ctx: TransformContext, total: int) -> Waste:
    """The waste breakdown of one request (messages as given, tools counted in ``total``)."""
    encoding = ctx.info.encoding
    by_role: dict[str, int] = {}
    by_tool: dict[str, int] = {}
    waste = dict.fromkeys(WASTE_CATEGORIES, 0)
    calls = tool_names_by_call_id(messages)
    seen: set[str] = set()
    for index, message in enumerate(messages):
        tokens = ctx.tokens_of(message)
        role = role_of(message) or "unknown"
        by_role[role] = by_role.get(role, 0) + tokens
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        text = content if isinstance(content, str) else text_of(content)
        if len(text) >= _MIN_REPEAT_CHARS:
            if text in seen:
                waste["repeated_content"] += count_text(text, encoding)
                continue
            seen.add(text)
        if text:
            waste["blobs"] += _blob_tokens(text, encoding)
        if role in TOOL_ROLES and isinstance(content, (str, list)):
            name = tool_name_of(message, calls) or "unknown"
            by_tool[name] = by_tool.get(name, 0) + tokens
            asked = settings(message, index, messages, calls, ctx, False)
            for output in tool_texts(content, asked.profile):
                minified, compressed = _tool_savings(output, asked, ctx)
                waste["json_whitespace"] += minified
                waste["oversized_tool_output"] += compressed
        if role in SYSTEM_ROLES and isinstance(content, str) and dynamic_values_in_prefix(content):
            waste["dynamic_prefix"] += tokens
    waste["beyond_window"] = max(total - ctx.budget, 0)
    return Waste(total, by_role, waste, by_tool)


def _tool_savings(content: str, asked: Settings, ctx: TransformContext) -> tuple[int, int]:
    """(tokens minifying would save, further tokens compressing would save): their sum is
    exactly what compression saves; the split between them is estimated (module docstring)."""
    encoding = ctx.info.encoding
    original = count_text(content, encoding)
    shown = compress_with_terms(content, asked, encoding)
    saved = max(original - count_text(shown, encoding), 0)
    if not saved:
        return 0, 0
    if not split_digest(shown)[1]:
        return saved, 0  # only minified: all of it is whitespace, counted exactly
    minified = _memo.get(("min", content, encoding), lambda: _minified_tokens(content, encoding))
    if minified is None:
        return 0, saved
    whitespace = min(max(original - minified, 0), saved)
    return whitespace, saved - whitespace


def _minified_tokens(content: str, encoding: str) -> int | None:
    """An estimate of the minified document's tokens (see ``estimate_tokens``)."""
    minified = minified_json(content)
    return None if minified is None else estimate_tokens(minified, encoding)


def _blob_tokens(text: str, encoding: str) -> int:
    return _memo.get(("blobs", text, encoding), lambda: _blobs(text, encoding))


# Base64 characters to b"A", everything else (non-ASCII bytes too) to b" ".
_BASE64_BYTES = bytes(
    ord("A") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/") else ord(" ")
    for b in range(256)
)
_BASE64_RUN = b"A" * 256


def _may_hold_base64(text: str) -> bool:
    """False when ``text`` has no run of 256 base64 characters, so ``_BASE64`` cannot match:
    a byte scan at ~1 ns/char instead of the regex's ~30 ns/char over text without blobs."""
    data = text.encode("utf-8", "surrogatepass").translate(_BASE64_BYTES)
    return _BASE64_RUN in data


def _blobs(text: str, encoding: str) -> int:
    tokens = 0
    if _may_hold_base64(text):
        tokens = sum(count_text(m.group(0), encoding) for m in _BASE64.finditer(text))
    tags = _HTML_TAG.findall(text)
    if len(tags) >= _MIN_HTML_TAGS:
        tokens += sum(count_text(tag, encoding) for tag in tags)
    return tokens
