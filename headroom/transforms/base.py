"""What every transform receives besides the messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import ModelInfo
from ..options import EngineOptions
from ..tokens import tools_tokens


@dataclass(frozen=True)
class TransformContext:
    info: ModelInfo
    options: EngineOptions
    tools: list[Any] | None
    tool_tokens: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_tokens", tools_tokens(self.tools, self.info))

    @property
    def budget(self) -> int:
        """Prompt tokens the request may use: window - output buffer (tools included)."""
        return max(self.info.context_window - self.options.output_buffer_tokens, 0)
