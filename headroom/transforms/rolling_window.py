"""Rolling window (stub while being written)."""
from __future__ import annotations
from typing import Any
from ..plan import TransformResult
from .base import TransformContext
NAME = "rolling_window"
def apply(messages: list[Any], ctx: TransformContext) -> tuple[list[Any], TransformResult, int] | None:
    return None
