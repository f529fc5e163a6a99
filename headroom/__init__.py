"""Headroom: a safe, deterministic context budget controller for LLM chat APIs.

Importing this package is cheap: it imports no LangChain, no LlamaIndex and no OpenAI SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .engine import Headroom
from .errors import HeadroomBudgetError, HeadroomError
from .options import EngineOptions, ToolProfile
from .plan import Plan, TransformResult, Waste
from .tokens import count_tokens

if TYPE_CHECKING:
    from .client import AsyncHeadroomClient, HeadroomClient
    from .report import generate_report

__version__ = "0.1.0"

__all__ = [
    "AsyncHeadroomClient",
    "EngineOptions",
    "Headroom",
    "HeadroomBudgetError",
    "HeadroomClient",
    "HeadroomError",
    "Plan",
    "ToolProfile",
    "TransformResult",
    "Waste",
    "__version__",
    "count_tokens",
    "generate_report",
]

_LAZY = {
    "HeadroomClient": ".client",
    "AsyncHeadroomClient": ".client",
    "generate_report": ".report",
}


def __getattr__(name: str) -> Any:
    """Load the client and the report on first use, keeping ``import headroom`` light."""
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'headroom' has no attribute {name!r}")
