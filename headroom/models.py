"""Model registry: which tokenizer a model uses, how large its window is, what it costs.

Names resolve by longest prefix, so dated snapshots (``gpt-4o-2024-08-06``) and provider
prefixes (``openai/gpt-4o``) find their family. An unknown model never raises inside a
request: it falls back to o200k_base and a 128k window, and says so once in the log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

logger = logging.getLogger("headroom")

O200K = "o200k_base"
CL100K = "cl100k_base"
DEFAULT_CONTEXT_WINDOW = 128_000


@dataclass(frozen=True)
class ModelInfo:
    """What Headroom needs to know about one model family."""

    name: str
    encoding: str
    context_window: int
    input_price: float  # USD per million prompt tokens
    cached_input_price: float  # USD per million prompt tokens served from the prefix cache
    output_price: float  # USD per million completion tokens
    image_base_tokens: int = 85
    image_tile_tokens: int = 170
    known: bool = True

    def input_cost(self, tokens: int, cached_tokens: int = 0) -> float:
        """USD billed for ``tokens`` prompt tokens of which ``cached_tokens`` hit the cache."""
        uncached = max(tokens - cached_tokens, 0)
        return (uncached * self.input_price + cached_tokens * self.cached_input_price) / 1e6


def _m(
    name: str,
    encoding: str,
    window: int,
    prices: tuple[float, float, float],
    image: tuple[int, int] = (85, 170),
) -> ModelInfo:
    return ModelInfo(name, encoding, window, *prices, *image)


# Prices in USD per million tokens: (input, cached input, output).
_REGISTRY: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        _m("gpt-4o", O200K, 128_000, (2.50, 1.25, 10.00)),
        _m("gpt-4o-mini", O200K, 128_000, (0.15, 0.075, 0.60), image=(2833, 5667)),
        _m("chatgpt-4o", O200K, 128_000, (5.00, 5.00, 15.00)),
        _m("gpt-4.1", O200K, 1_047_576, (2.00, 0.50, 8.00)),
        _m("gpt-4.1-mini", O200K, 1_047_576, (0.40, 0.10, 1.60)),
        _m("gpt-4.1-nano", O200K, 1_047_576, (0.10, 0.025, 0.40)),
        _m("gpt-4.5", O200K, 128_000, (75.00, 37.50, 150.00)),
        _m("gpt-5", O200K, 400_000, (1.25, 0.125, 10.00)),
        _m("gpt-5-mini", O200K, 400_000, (0.25, 0.025, 2.00)),
        _m("gpt-5-nano", O200K, 400_000, (0.05, 0.005, 0.40)),
        _m("gpt-5.1", O200K, 400_000, (1.25, 0.125, 10.00)),
        _m("o1", O200K, 200_000, (15.00, 7.50, 60.00), image=(75, 150)),
        _m("o1-mini", O200K, 128_000, (1.10, 0.55, 4.40), image=(75, 150)),
        _m("o1-pro", O200K, 200_000, (150.00, 150.00, 600.00), image=(75, 150)),
        _m("o3", O200K, 200_000, (2.00, 0.50, 8.00), image=(75, 150)),
        _m("o3-mini", O200K, 200_000, (1.10, 0.55, 4.40), image=(75, 150)),
        _m("o3-pro", O200K, 200_000, (20.00, 20.00, 80.00), image=(75, 150)),
        _m("o4-mini", O200K, 200_000, (1.10, 0.275, 4.40), image=(75, 150)),
        _m("gpt-4", CL100K, 8_192, (30.00, 30.00, 60.00)),
        _m("gpt-4-32k", CL100K, 32_768, (60.00, 60.00, 120.00)),
        _m("gpt-4-turbo", CL100K, 128_000, (10.00, 10.00, 30.00)),
        _m("gpt-4-1106", CL100K, 128_000, (10.00, 10.00, 30.00)),
        _m("gpt-4-0125", CL100K, 128_000, (10.00, 10.00, 30.00)),
        _m("gpt-3.5-turbo", CL100K, 16_385, (0.50, 0.50, 1.50)),
        _m("gpt-3.5-turbo-instruct", CL100K, 4_096, (1.50, 1.50, 2.00)),
    )
}
# Longest names first, so "gpt-4o-mini" wins over "gpt-4o" and "gpt-4.1" over "gpt-4".
_PREFIXES = sorted(_REGISTRY, key=len, reverse=True)

_warned_unknown: set[str] = set()
_warn_lock = threading.Lock()


def _normalise(model: str) -> str:
    name = model.strip().lower()
    return name.rsplit("/", 1)[-1]  # "openai/gpt-4o" -> "gpt-4o"


def _lookup(name: str) -> ModelInfo | None:
    for prefix in _PREFIXES:
        if name == prefix or name.startswith(prefix + "-") or name.startswith(prefix + ":"):
            return _REGISTRY[prefix]
    return None


def resolve_model(model: object, context_limits: Mapping[str, int] | None = None) -> ModelInfo:
    """Return the ModelInfo for ``model``; never raises, whatever ``model`` is."""
    raw = model if isinstance(model, str) else str(model)
    name = _normalise(raw)
    info = _lookup(name)
    if info is None:
        info = ModelInfo(raw, O200K, DEFAULT_CONTEXT_WINDOW, 0.0, 0.0, 0.0, known=False)
        override = _override(raw, name, context_limits)
        if override is None:
            _warn_unknown_once(raw)
    else:
        override = _override(raw, name, context_limits)
    if override is not None:
        info = replace(info, context_window=override)
    return info


def _override(raw: str, name: str, limits: Mapping[str, int] | None) -> int | None:
    if not limits:
        return None
    if raw in limits:
        return int(limits[raw])
    lowered = {_normalise(k): int(v) for k, v in limits.items()}
    if name in lowered:
        return lowered[name]
    for key in sorted(lowered, key=len, reverse=True):
        if name.startswith(key + "-"):
            return lowered[key]
    return None


def _warn_unknown_once(model: str) -> None:
    with _warn_lock:
        if model in _warned_unknown:
            return
        _warned_unknown.add(model)
    logger.warning(
        "headroom: unknown model %r; counting with o200k_base and a %d-token window "
        "(pass model_context_limits to set its window)",
        model,
        DEFAULT_CONTEXT_WINDOW,
    )


def validate_context_limits(limits: Mapping[str, int] | None) -> dict[str, int]:
    """Check user-supplied ``model_context_limits``; raise ValueError naming the bad entry."""
    if limits is None:
        return {}
    if not isinstance(limits, Mapping):
        raise ValueError("model_context_limits must be a mapping of model name to token count")
    checked: dict[str, int] = {}
    for key, value in limits.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"model_context_limits: model names must be strings, got {key!r}")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(
                f"model_context_limits[{key!r}] must be a positive integer, got {value!r}"
            )
        checked[key] = value
    return checked


def known_models() -> list[str]:
    """The model families Headroom knows, for docs and the CLI."""
    return sorted(_REGISTRY)
