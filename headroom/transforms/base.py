"""What every transform receives besides the messages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..models import ModelInfo
from ..options import EngineOptions
from ..tokens import REPLY_PRIMING_TOKENS, message_tokens, tools_tokens


@dataclass(frozen=True)
class TransformContext:
    """One plan's model, options and tools, and its message token counts."""

    info: ModelInfo
    options: EngineOptions
    tools: list[Any] | None
    tool_tokens: int = field(init=False)
    _message_tokens: dict[int, tuple[object, int]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_tokens", tools_tokens(self.tools, self.info))

    def tokens_of(self, message: object) -> int:
        """``message_tokens``, once per message object for this plan: the transforms and
        the totals each walk the same messages (none is changed in place during a plan; the
        entry holds the message, so its id is not reused)."""
        hit = self._message_tokens.get(id(message))
        if hit is not None and hit[0] is message:
            return hit[1]
        tokens = message_tokens(message, self.info)
        self._message_tokens[id(message)] = (message, tokens)
        return tokens

    def messages_tokens(self, messages: Iterable[object]) -> int:
        """Tokens of a message list, reply priming included (no tools)."""
        return REPLY_PRIMING_TOKENS + sum(map(self.tokens_of, messages))

    @property
    def budget(self) -> int:
        """Prompt tokens the request may use: window - output buffer (tools included)."""
        return max(self.info.context_window - self.options.output_buffer_tokens, 0)
