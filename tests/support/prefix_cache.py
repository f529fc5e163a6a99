"""A provider prefix cache, simulated the way OpenAI documents it: a prompt reuses the longest
token prefix it shares with an earlier prompt, counted from 1,024 tokens in 128-token steps.

The prefix is measured in billed prompt tokens (tool definitions first, then each message with
its framing), so a cached count can never exceed what the prompt is billed: whole messages that
match count their billed tokens, and the first message that differs counts its framing (when the
role matches) and the tokens its text shares with the earlier one."""

from __future__ import annotations

import hashlib
import json
import threading
from array import array
from dataclasses import dataclass
from typing import Any

from headroom.encodings import get_encoding
from headroom.models import ModelInfo, resolve_model
from headroom.tokens import TOKENS_PER_MESSAGE, count_text, message_tokens, tools_tokens

MIN_CACHED = 1024
STEP = 128
_MEMO_LIMIT = 20_000


@dataclass(frozen=True)
class _Segment:
    """One part of a rendered prompt: the tool definitions or one message."""

    key: bytes
    billed: int
    role: str | None
    text: str | None


class PrefixCache:
    """Remembers every prompt since the last reset; answers how many tokens a new one reuses.

    Segments are memoised by content, so an agent loop that resends its history pays only for
    the new messages."""

    def __init__(self) -> None:
        self._seen: list[tuple[str, list[_Segment]]] = []
        self._segments: dict[tuple[str, str], _Segment] = {}
        self._tokens: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def cached_tokens(self, request: dict[str, Any], prompt_tokens: int) -> int:
        info = resolve_model(request.get("model", ""))
        segments = self._render(request, info)
        with self._lock:
            best = max(
                (
                    self._shared(segments, old, info.encoding)
                    for encoding, old in self._seen
                    if encoding == info.encoding
                ),
                default=0,
            )
            self._seen.append((info.encoding, segments))
        best = min(best, prompt_tokens)
        return (best // STEP) * STEP if best >= MIN_CACHED else 0

    def _render(self, request: dict[str, Any], info: ModelInfo) -> list[_Segment]:
        tools = request.get("tools") or []
        segments = [self._segment(info, "tools", tools)]
        messages = request.get("messages")
        for message in messages if isinstance(messages, list) else []:
            segments.append(self._segment(info, "message", message))
        return segments

    def _segment(self, info: ModelInfo, kind: str, value: Any) -> _Segment:
        dumped = kind + json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
        memo_key = (info.encoding, dumped)
        hit = self._segments.get(memo_key)
        if hit is not None:
            return hit
        if kind == "tools":
            segment = _Segment(_digest(dumped), tools_tokens(value, info), None, None)
        else:
            role = value.get("role") if isinstance(value, dict) else None
            content = value.get("content") if isinstance(value, dict) else None
            segment = _Segment(
                _digest(dumped),
                message_tokens(value, info),
                role if isinstance(role, str) else None,
                content if isinstance(content, str) else None,
            )
        if len(self._segments) > _MEMO_LIMIT:
            self._segments.clear()
        self._segments[memo_key] = segment
        return segment

    def _shared(self, new: list[_Segment], old: list[_Segment], encoding: str) -> int:
        shared = 0
        for mine, theirs in zip(new, old, strict=False):
            if mine.key == theirs.key:
                shared += mine.billed
                continue
            if mine.role is not None and mine.role == theirs.role:
                framing = TOKENS_PER_MESSAGE + count_text(mine.role, encoding)
                common = 0
                if mine.text is not None and theirs.text is not None:
                    common = _common_prefix(
                        self._encoded(encoding, mine.text), self._encoded(encoding, theirs.text)
                    )
                shared += min(framing + common, mine.billed)
            break
        return shared

    def _encoded(self, encoding: str, text: str) -> bytes:
        key = (encoding, text)
        hit = self._tokens.get(key)
        if hit is None:
            clean = text.encode("utf-8", "replace").decode("utf-8")
            hit = array("I", get_encoding(encoding).encode_ordinary(clean)).tobytes()
            if len(self._tokens) > _MEMO_LIMIT:
                self._tokens.clear()
            self._tokens[key] = hit
        return hit


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length in tokens of the longest common prefix of two packed uint32 sequences."""
    lo, hi = 0, min(len(a), len(b)) // 4
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[: mid * 4] == b[: mid * 4]:
            lo = mid
        else:
            hi = mid - 1
    return lo
