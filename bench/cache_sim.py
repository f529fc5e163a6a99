"""A provider prefix cache, simulated the way OpenAI documents it: a prompt of 1,024 tokens or
more reuses the longest token prefix it shares with an earlier prompt, in 128-token steps."""

from __future__ import annotations

import json
from array import array
from typing import Any

from headroom.encodings import get_encoding

MIN_CACHED = 1024
STEP = 128


def prompt_tokens(messages: list[Any], tools: list[Any] | None, encoding: str) -> bytes:
    """The request rendered as one token sequence (tools first, then each message), packed."""
    enc = get_encoding(encoding)
    parts = [json.dumps(tools or [], sort_keys=True, ensure_ascii=False)]
    parts += [json.dumps(m, sort_keys=True, ensure_ascii=False, default=str) for m in messages]
    text = "\n".join(parts).encode("utf-8", "replace").decode("utf-8")
    return array("I", enc.encode_ordinary(text)).tobytes()


def common_prefix(a: bytes, b: bytes) -> int:
    """Length in tokens of the longest common prefix of two packed sequences."""
    lo, hi = 0, min(len(a), len(b)) // 4
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[: mid * 4] == b[: mid * 4]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class PrefixCache:
    """Remembers every prompt of a session; answers how many tokens a new prompt reuses."""

    def __init__(self) -> None:
        self._seen: list[bytes] = []

    def cached_tokens(self, packed: bytes, prompt_tokens: int) -> int:
        best = max((common_prefix(packed, old) for old in self._seen), default=0)
        self._seen.append(packed)
        best = min(best, prompt_tokens)
        return (best // STEP) * STEP if best >= MIN_CACHED else 0
