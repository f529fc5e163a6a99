"""Tool output compression (stub while being written)."""
from __future__ import annotations
from typing import Any
from ..plan import TransformResult
from .base import TransformContext
NAME = "tool_output_compression"
def apply(messages: list[Any], ctx: TransformContext) -> tuple[list[Any], TransformResult]:
    return list(messages), TransformResult(NAME, 0)
