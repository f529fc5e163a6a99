"""The pipeline every front end shares: count, analyse, and (in optimize mode) transform.

``Headroom.simulate`` is pure: the same request and options give the same plan, byte for byte,
in any process. It never mutates the caller's messages, and a message it did not change comes
back as the very same object. A transform that fails unexpectedly is skipped (logged and
counted) so the request still goes out; only ``HeadroomBudgetError`` is raised on purpose.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from . import analysis
from .errors import HeadroomBudgetError
from .models import ModelInfo, resolve_model, validate_context_limits
from .options import EngineOptions, ToolProfile, make_options
from .plan import Plan, TransformResult
from .tokens import messages_tokens, tools_tokens
from .transforms import cache_alignment, recall, rolling_window, tool_output
from .transforms.base import TransformContext

logger = logging.getLogger("headroom")


class Headroom:
    """The framework-neutral engine that HeadroomClient and the adapters share."""

    def __init__(
        self,
        model_context_limits: Mapping[str, int] | None = None,
        *,
        mode: str = "optimize",
        output_buffer_tokens: int | None = None,
        keep_turns: int | None = None,
        tool_profiles: Mapping[str, Mapping[str, Any] | ToolProfile] | None = None,
    ) -> None:
        self.model_context_limits = validate_context_limits(model_context_limits)
        self.defaults = make_options(
            mode=mode,
            output_buffer_tokens=output_buffer_tokens,
            keep_turns=keep_turns,
            tool_profiles=dict(tool_profiles) if tool_profiles is not None else None,
        )
        self.failures: Counter[str] = Counter()
        self._failure_lock = threading.Lock()

    # -- options -------------------------------------------------------------------------
    def options(self, **overrides: Any) -> EngineOptions:
        """The engine defaults with per-call ``overrides`` (None means "use the default")."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self.defaults
        merged = self.defaults.model_dump(exclude_unset=True)  # profiles keep what they name
        merged.update(given)
        return make_options(**merged)

    def model_info(self, model: object) -> ModelInfo:
        return resolve_model(model, self.model_context_limits)

    def count_tokens(
        self, messages: Sequence[Any], model: str = "gpt-4o", tools: Sequence[Any] | None = None
    ) -> int:
        info = self.model_info(model)
        return messages_tokens(messages, info) + tools_tokens(_as_list(tools), info)

    # -- the pipeline ----------------------------------------------------------------------
    def simulate(
        self,
        messages: Sequence[Any],
        model: str = "gpt-4o",
        tools: Sequence[Any] | None = None,
        *,
        mode: str | None = None,
        output_buffer_tokens: int | None = None,
        keep_turns: int | None = None,
        tool_profiles: Mapping[str, Any] | None = None,
    ) -> Plan:
        """The plan for one request: what it costs, its waste, and what would be sent."""
        options = self.options(
            mode=mode,
            output_buffer_tokens=output_buffer_tokens,
            keep_turns=keep_turns,
            tool_profiles=tool_profiles,
        )
        return self.plan(messages, model, tools, options)

    def audit(
        self,
        messages: Sequence[Any],
        model: str = "gpt-4o",
        tools: Sequence[Any] | None = None,
        **options: Any,
    ) -> Plan:
        return self.simulate(messages, model, tools, mode="audit", **options)

    def optimize(
        self,
        messages: Sequence[Any],
        model: str = "gpt-4o",
        tools: Sequence[Any] | None = None,
        **options: Any,
    ) -> Plan:
        return self.simulate(messages, model, tools, mode="optimize", **options)

    def plan(
        self,
        messages: Sequence[Any],
        model: str,
        tools: Sequence[Any] | None,
        options: EngineOptions,
    ) -> Plan:
        """``simulate`` with already validated options."""
        if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
            raise ValueError(
                f"messages must be a list of message dicts, got {type(messages).__name__}"
            )
        original = list(messages)
        tool_list = _as_list(tools)
        info = self.model_info(model)
        ctx = TransformContext(info=info, options=options, tools=tool_list)
        self._guard(tool_output.NAME, lambda: tool_output.prepare(original, ctx))
        tokens_before = ctx.messages_tokens(original) + ctx.tool_tokens
        waste = self._guard("analysis", lambda: analysis.analyse(original, ctx, tokens_before))
        if waste is None:
            waste = analysis.empty_waste(tokens_before)
        prefix_hash = cache_alignment.prefix_hash(original, tool_list)
        # Alignment takes dynamic values out and nothing else touches the leading system
        # prompts, so the request's stable hash is also the optimized one's.
        stable = (
            self._guard("analysis", lambda: cache_alignment.stable_prefix_hash(original, tool_list))
            or prefix_hash
        )
        if options.mode == "audit":
            return self._make_plan(
                info,
                options,
                original,
                tool_list,
                tokens_before,
                tokens_before,
                [],
                waste,
                stable,
                prefix_hash,
                0,
            )

        results: list[TransformResult] = []
        aligned = original
        outcome = self._guard(cache_alignment.NAME, lambda: cache_alignment.apply(original, ctx))
        if outcome is not None:
            aligned, alignment = outcome
            results.append(alignment)
        current = aligned
        compressed = self._guard(tool_output.NAME, lambda: self._compress(aligned, ctx, None))
        if compressed is not None:
            current, compression_results = compressed
            results.extend(compression_results)
        dropped = 0
        try:
            window = rolling_window.apply(
                aligned, current, ctx, lambda msgs, k: self._compress(msgs, ctx, k)[0]
            )
        except HeadroomBudgetError:
            raise
        except Exception as exc:  # noqa: BLE001 - fail open, counted
            self._record_failure(rolling_window.NAME, exc)
            window = None
        if window is not None:
            current, dropped = window.messages, window.dropped
            results.append(window.result)
        tokens_after = ctx.messages_tokens(current) + ctx.tool_tokens
        return self._make_plan(
            info,
            options,
            current,
            tool_list,
            tokens_before,
            tokens_after,
            results,
            waste,
            stable,
            prefix_hash,
            dropped,
        )

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _compress(
        aligned: list[Any], ctx: TransformContext, harder: tool_output.Harder | None
    ) -> tuple[list[Any], list[TransformResult]]:
        """Tool output compression, then recall of what later questions name."""
        compressed, compression = tool_output.apply(aligned, ctx, harder)
        recalled, recall_result = recall.apply(aligned, compressed, ctx)
        return recalled, [compression, recall_result]

    @staticmethod
    def _make_plan(
        info: ModelInfo,
        options: EngineOptions,
        messages: list[Any],
        tools: list[Any] | None,
        before: int,
        after: int,
        results: list[TransformResult],
        waste: Any,
        stable: str,
        prefix: str,
        dropped: int,
    ) -> Plan:
        saved = before - after
        return Plan(
            model=info.name,
            mode=options.mode,
            messages=messages,
            tools=tools,
            tokens_before=before,
            tokens_after=after,
            transforms=results,
            waste=waste,
            stable_prefix_hash=stable,
            prefix_hash=prefix,
            context_window=info.context_window,
            budget=max(info.context_window - options.output_buffer_tokens, 0),
            estimated_savings=round(saved * info.input_price / 1e6, 8),
            dropped_messages=dropped,
        )

    def _guard(self, name: str, work: Any) -> Any:
        try:
            return work()
        except HeadroomBudgetError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing step must never break the call
            self._record_failure(name, exc)
            return None

    def _record_failure(self, name: str, exc: BaseException) -> None:
        with self._failure_lock:
            first = self.failures[name] == 0
            self.failures[name] += 1
        if first:
            logger.warning(
                "headroom: %s failed (%s: %s); passing the request through",
                name,
                type(exc).__name__,
                exc,
            )


def _as_list(tools: Sequence[Any] | None) -> list[Any] | None:
    if tools is None:
        return None
    if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Sequence):
        raise ValueError(f"tools must be a list of tool definitions, got {type(tools).__name__}")
    return list(tools)
