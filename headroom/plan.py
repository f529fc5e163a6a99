"""The result of looking at one request: what it costs, where the waste is, what would be sent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

WASTE_CATEGORIES = (
    "json_whitespace",
    "oversized_tool_output",
    "repeated_content",
    "dynamic_prefix",
    "beyond_window",
    "blobs",
)


@dataclass(frozen=True)
class TransformResult:
    """One transform's effect on a request."""

    name: str
    tokens_saved: int
    messages_changed: int = 0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Waste:
    """The Context MRI of one request: its tokens by role, by tool and by waste category."""

    total_tokens: int
    by_role: dict[str, int]
    by_category: dict[str, int]
    by_tool: dict[str, int] = field(default_factory=dict)

    @property
    def waste_tokens(self) -> int:
        return sum(self.by_category.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """What Headroom would send for one request, and why.

    ``messages`` is what goes out (in audit mode, the request's own messages); the token counts
    are exact prompt tokens for the model's tokenizer, tool definitions included.
    """

    model: str
    mode: str
    messages: list[Any]
    tools: list[Any] | None
    tokens_before: int
    tokens_after: int
    transforms: list[TransformResult]
    waste: Waste
    stable_prefix_hash: str
    prefix_hash: str
    context_window: int
    budget: int
    estimated_savings: float
    dropped_messages: int = 0

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    @property
    def fits(self) -> bool:
        """Whether what would be sent fits the window with the output buffer reserved."""
        return self.tokens_after <= self.budget

    @property
    def transforms_applied(self) -> list[str]:
        return [t.name for t in self.transforms if t.tokens_saved or t.messages_changed]

    def savings_by_transform(self) -> dict[str, int]:
        return {t.name: t.tokens_saved for t in self.transforms}

    def to_dict(self, include_messages: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model,
            "mode": self.mode,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "tokens_saved": self.tokens_saved,
            "estimated_savings": self.estimated_savings,
            "context_window": self.context_window,
            "budget": self.budget,
            "fits": self.fits,
            "dropped_messages": self.dropped_messages,
            "stable_prefix_hash": self.stable_prefix_hash,
            "prefix_hash": self.prefix_hash,
            "transforms": [asdict(t) for t in self.transforms],
            "waste": self.waste.to_dict(),
        }
        if include_messages:
            data["messages"] = self.messages
            data["tools"] = self.tools
        return data
