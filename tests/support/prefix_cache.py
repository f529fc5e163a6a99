"""A provider prefix cache, simulated the way OpenAI documents it: a prompt reuses the longest
token prefix it shares with an earlier prompt, counted from 1,024 tokens in 128-token steps."""

from __future__ import annotations

import json
import threading
from array import array
from typing import Any

from headroom.encodings import get_encoding
from headroom.models import resolve_model

MIN_CACHED = 1024
STEP = 128
_MEMO_LIMIT = 20_000


class PrefixCache:
    """Remembers every prompt since the last reset; answers how many tokens a new one reuses.

    Each message is tokenised on its own and memoised, so an agent loop that resends its
    history pays only for the new messages."""

    def __init__(self) -> None:
        self._seen: list[bytes] = []
        self._memo: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def cached_tokens(self, request: dict[str, Any], prompt_tokens: int) -> int:
        packed = self._pack(request)
        with self._lock:
            best = max((_common_prefix(packed, old) for old in self._seen), default=0)
            self._seen.append(packed)
        best = min(best, prompt_tokens)
        return (best // STEP) * STEP if best >= MIN_CACHED else 0

    def _pack(self, request: dict[str, Any]) -> bytes:
        encoding = resolve_model(request.get("model", "")).encoding
        parts = [_dump(request.get("tools") or [])]
        messages = request.get("messages")
        parts += [_dump(m) for m in messages] if isinstance(messages, list) else []
        return b"".join(self._tokens(encoding, text) for text in parts)

    def _tokens(self, encoding: str, text: str) -> bytes:
        key = (encoding, text)
        hit = self._memo.get(key)
        if hit is None:
            clean = text.encode("utf-8", "replace").decode("utf-8")
            hit = array("I", get_encoding(encoding).encode_ordinary(clean)).tobytes()
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = hit
        return hit


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str) + "\n"


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
