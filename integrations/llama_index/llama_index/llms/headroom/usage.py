"""The provider's token usage, dug out of a LlamaIndex response.

LLM integrations keep the provider's answer in ``response.raw`` (an SDK object or a dict) and
often copy the counts into ``additional_kwargs`` too; both are read, raw first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def usage_of(response: object) -> Any:
    """An OpenAI-style usage object or dict for ``response``, or None if it carries none."""
    if response is None:
        return None
    raw = getattr(response, "raw", None)
    usage = raw.get("usage") if isinstance(raw, Mapping) else getattr(raw, "usage", None)
    if usage is not None:
        return usage
    extra = getattr(response, "additional_kwargs", None)
    if isinstance(extra, Mapping) and isinstance(extra.get("prompt_tokens"), int):
        return extra
    return None
