"""Rolling window: bring a request that does not fit back inside the model's window.

Only when the request does not fit. In order, stopping as soon as it fits:
1. compress harder the tool outputs that would not have fit when they arrived (the request up
   to and including each output, earlier outputs in the form chosen for them, is over the
   budget): usually only the newest, so what was already sent, and cached, stays as it was;
2. also compress harder every output that arrived once the conversation held half the budget
   (information survives where it can);
3. compress every tool output harder;
4. drop whole tool-call units, oldest first, then the oldest turns; never a leading system
   message, never the last ``keep_turns`` turns; one marker message says what was dropped
   (left out only when it alone would keep a request that fits from fitting).
If the protected part alone still does not fit, ``HeadroomBudgetError`` is raised: a request
that cannot fit is never sent.

The window slides in steps: it drops enough to free a multiple of ``budget // 8`` tokens, so
the next turns of a growing conversation drop exactly the same units and keep the provider's
prompt-cache prefix until the next step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..conversation import SYSTEM_ROLES, protected_start, role_of, split_units
from ..errors import HeadroomBudgetError
from ..plan import TransformResult
from ..tokens import message_tokens
from .base import TransformContext
from .cache_alignment import WINDOW_MARKER_PREFIX
from .tool_output import Harder

NAME = "rolling_window"
STEPS_PER_BUDGET = 8
MARKER_PREFIX = WINDOW_MARKER_PREFIX

# compress(aligned messages, which outputs to compress harder) -> compressed messages
Compressor = Callable[[list[Any], Harder], list[Any]]
HARDER_SHARE = 0.5


@dataclass(frozen=True)
class WindowOutcome:
    messages: list[Any]
    result: TransformResult
    dropped: int


def marker_message(count: int, tokens: int) -> dict[str, str]:
    noun = "message" if count == 1 else "messages"
    return {
        "role": "system",
        "content": f"{MARKER_PREFIX}{count} earlier {noun} ({tokens} tokens) were removed to fit "
        "the context window]",
    }


def total_tokens(messages: list[Any], ctx: TransformContext) -> int:
    return ctx.messages_tokens(messages) + ctx.tool_tokens


def apply(
    aligned: list[Any], compressed: list[Any], ctx: TransformContext, compress: Compressor
) -> WindowOutcome | None:
    """``compressed`` is the normally compressed request; ``compress(aligned, harder)``
    compresses harder the tool outputs ``harder`` picks. None when it already fits."""
    before = total_tokens(compressed, ctx)
    if before <= ctx.budget:
        return None
    overflowing = compress(aligned, Harder(over=ctx.budget))
    if total_tokens(overflowing, ctx) <= ctx.budget:
        return _outcome(overflowing, before, ctx, 0, 0, "overflowing outputs compressed harder")
    late = compress(aligned, Harder(from_tokens=int(ctx.budget * HARDER_SHARE), over=ctx.budget))
    if total_tokens(late, ctx) <= ctx.budget:
        return _outcome(late, before, ctx, 0, 0, "late outputs compressed harder")
    hardest = compress(aligned, Harder(from_tokens=0))
    if total_tokens(hardest, ctx) <= ctx.budget:
        return _outcome(hardest, before, ctx, 0, 0, "all outputs compressed harder")
    trimmed, dropped, dropped_tokens, lead = _drop(hardest, ctx)
    if dropped:  # the marker, unless it is all that keeps a request that fits from fitting
        marked = [*trimmed[:lead], marker_message(dropped, dropped_tokens), *trimmed[lead:]]
        if total_tokens(marked, ctx) <= ctx.budget:
            trimmed = marked
    after = total_tokens(trimmed, ctx)
    if after > ctx.budget:
        protected = after
        raise HeadroomBudgetError(
            protected_tokens=protected,
            budget=ctx.budget,
            context_window=ctx.info.context_window,
            output_buffer_tokens=ctx.options.output_buffer_tokens,
            tool_tokens=ctx.tool_tokens,
        )
    return _outcome(trimmed, before, ctx, dropped, dropped_tokens, "dropped")


def _outcome(
    messages: list[Any],
    before: int,
    ctx: TransformContext,
    dropped: int,
    dropped_tokens: int,
    stage: str,
) -> WindowOutcome:
    saved = before - total_tokens(messages, ctx)
    details = {"stage": stage, "dropped_messages": dropped, "dropped_tokens": dropped_tokens}
    return WindowOutcome(messages, TransformResult(NAME, saved, dropped, details), dropped)


def _drop(messages: list[Any], ctx: TransformContext) -> tuple[list[Any], int, int, int]:
    """Drop tool-call units, then turns, oldest first, in steps: (what is kept, how many
    messages and tokens were dropped, where the marker goes: after the system prompt)."""
    boundary = protected_start(messages, ctx.options.keep_turns)
    lead = 0
    while lead < len(messages) and role_of(messages[lead]) in SYSTEM_ROLES:
        lead += 1
    candidates = _candidates(messages, lead, boundary)
    if not candidates:
        return messages, 0, 0, lead
    costs = [sum(ctx.tokens_of(messages[i]) for i in group) for group in candidates]
    marker_allowance = message_tokens(marker_message(999_999, 99_999_999), ctx.info)
    need = total_tokens(messages, ctx) - ctx.budget + marker_allowance
    step = max(ctx.budget // STEPS_PER_BUDGET, 1)
    target = math.ceil(need / step) * step
    if target > sum(costs):
        target = need  # a full step is not available: drop what is needed
    removed: set[int] = set()
    freed = 0
    for group, cost in zip(candidates, costs, strict=True):
        if freed >= target:
            break
        removed.update(group)
        freed += cost
    kept = [m for i, m in enumerate(messages) if i not in removed]
    return kept, len(removed), freed, lead


def _candidates(messages: list[Any], lead: int, boundary: int) -> list[list[int]]:
    """Droppable groups in dropping order: tool-call units oldest first, then what is left of
    each turn, oldest first. Nothing before ``lead`` (the system prompt) or from
    ``boundary`` on (the protected turns) is a candidate."""
    units = [u for u in split_units(messages) if u.start >= lead and u.stop <= boundary]
    tool_units = [list(u.indices) for u in units if u.kind == "tool_unit"]
    in_tool_unit = {i for group in tool_units for i in group}
    turns: list[list[int]] = []
    for unit in units:
        if unit.kind != "message":
            continue  # tool units are grouped above; system messages are never dropped
        rest = [i for i in unit.indices if i not in in_tool_unit]
        if not rest:
            continue
        if role_of(messages[unit.start]) == "user" or not turns:
            turns.append(rest)
        else:
            turns[-1].extend(rest)
    return tool_units + turns
