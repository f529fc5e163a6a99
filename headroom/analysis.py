"""Context MRI (stub while being written)."""
from __future__ import annotations

from typing import Any

from .plan import WASTE_CATEGORIES, Waste
from .transforms.base import TransformContext


def empty_waste(total: int) -> Waste:
    return Waste(total, {}, {c: 0 for c in WASTE_CATEGORIES}, {})
def analyse(messages: list[Any], ctx: TransformContext, total: int) -> Waste:
    return empty_waste(total)
