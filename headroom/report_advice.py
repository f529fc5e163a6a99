"""Recommendations derived from the report's numbers: each says what to change and what it saves.

Records keep counts, not prompt text, so savings are estimated from the recorded waste breakdown
and per-tool output tokens; the estimates are what the analysis measured on those requests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from .report_data import ReportData, ToolRow
from .report_measure import MeasuredProfile

# Below these a recommendation is noise, not advice.
MIN_TOOL_TOKENS = 500
MIN_TOOL_SHARE_PCT = 10.0
MIN_WASTE_TOKENS = 200


@dataclass(frozen=True)
class Recommendation:
    kind: str  # tool_profile | optimize_mode | cache_alignment | window | repeated | blobs
    title: str
    action: str  # what to change, copyable (code or option)
    detail: str
    tokens: int
    usd: float = 0.0


def suggested_array_limit(tool: ToolRow) -> int:
    """A max_array_items for a tool: 3 for very large outputs, else 5. Either profile shortens
    every array over limit + 1 items, at least as hard as the built-in profile (5 items of
    arrays over 20), so the savings measured with the built-in profile are a lower bound."""
    return 3 if tool.avg_tokens >= 8000 else 5


def recommend(
    data: ReportData,
    measured: Mapping[str, MeasuredProfile] | None = None,
    text_measured: Mapping[str, MeasuredProfile] | None = None,
) -> list[Recommendation]:
    """Recommendations, largest saving first. ``measured`` holds exact array-profile savings
    for tools whose requests were stored with their content, ``text_measured`` what opting
    their plain-text output into line shortening saves."""
    found = [*_tool_profiles(data, measured or {}), *_mode(data), *_cache(data), *_window(data)]
    found += [r for m in (text_measured or {}).values() for r in _text_profile(m)]
    found += [*_category(data, "repeated_content"), *_category(data, "blobs")]
    found.sort(key=lambda r: (-r.tokens, r.kind, r.title))
    return found


def _tool_profiles(
    data: ReportData, measured: Mapping[str, MeasuredProfile]
) -> list[Recommendation]:
    found = []
    for tool in data.tools:
        if tool.tool in measured:
            found += _measured_profile(tool, measured[tool.tool])
            continue
        if tool.compressible_tokens < MIN_TOOL_TOKENS:
            continue
        if tool.compressible_pct < MIN_TOOL_SHARE_PCT:
            continue
        limit = suggested_array_limit(tool)
        profile = json.dumps({tool.tool: {"max_array_items": limit}}, ensure_ascii=False)
        found.append(
            Recommendation(
                kind="tool_profile",
                title=f"Give tool {tool.tool} a profile {{max_array_items: {limit}}}",
                action=f"headroom_tool_profiles={profile}",
                detail=(
                    f"Its {tool.requests} outputs averaged {tool.avg_tokens:,.0f} tokens "
                    f"(largest {tool.max_tokens:,}); compressing them would save at least about "
                    f"{tool.compressible_tokens:,} tokens ({tool.compressible_pct:.0f}% of its "
                    "output). Errors, outliers and items the question names are kept."
                ),
                tokens=tool.compressible_tokens,
            )
        )
    return found


def _measured_profile(tool: ToolRow, measure: MeasuredProfile) -> list[Recommendation]:
    """A profile worth only what it saves beyond optimize mode's built-in one."""
    if measure.extra_tokens < MIN_TOOL_TOKENS:
        return []
    profile = json.dumps({tool.tool: {"max_array_items": measure.limit}}, ensure_ascii=False)
    return [
        Recommendation(
            kind="tool_profile",
            title=f"Give tool {tool.tool} a profile {{max_array_items: {measure.limit}}}",
            action=f"headroom_tool_profiles={profile}",
            detail=(
                f"Measured on {measure.requests} stored requests with its output: optimize mode "
                f"with this profile sends {measure.extra_tokens:,} fewer tokens than with the "
                f"built-in profile ({measure.saved_tokens:,} fewer than the requests as built). "
                "Errors, outliers and items the question names are kept."
            ),
            tokens=measure.extra_tokens,
        )
    ]


_OPT_IN = {
    "text_lines": (
        "plain-text output into line shortening",
        "leaves plain text as it is. Every error and warning line and the lines the question "
        "names are kept, with a count of the lines left out.",
    ),
    "text_parts": (
        "output sent as text parts into compression",
        "leaves a list of content parts as it is. Each text part is compressed like string "
        "output: errors, outliers and the items the question names are kept.",
    ),
}


def _text_profile(measure: MeasuredProfile) -> list[Recommendation]:
    """Output only a profile opts in (plain text, content-part lists) is left alone by the
    built-in profile: say what opting in saves."""
    if measure.extra_tokens < MIN_TOOL_TOKENS or measure.option not in _OPT_IN:
        return []
    what, why = _OPT_IN[measure.option]
    profile = json.dumps({measure.tool: measure.settings}, ensure_ascii=False)
    return [
        Recommendation(
            kind="tool_profile",
            title=f"Opt tool {measure.tool}'s {what}",
            action=f"headroom_tool_profiles={profile}",
            detail=(
                f"Measured on {measure.requests} stored requests with its output: optimize mode "
                f"with this profile sends {measure.extra_tokens:,} fewer tokens than with the "
                f"built-in profile, which {why}"
            ),
            tokens=measure.extra_tokens,
        )
    ]


def _mode(data: ReportData) -> list[Recommendation]:
    head = data.headline
    if head.audit_count == 0 or head.potential_tokens < MIN_WASTE_TOKENS:
        return []
    share = 100.0 * head.potential_tokens / head.tokens_before if head.tokens_before else 0.0
    return [
        Recommendation(
            kind="optimize_mode",
            title="Switch the audited traffic to optimize mode",
            action='HeadroomClient(..., default_mode="optimize")  # or headroom_mode="optimize"',
            detail=(
                f"{head.audit_count} requests were only audited; optimize mode would have sent "
                f"about {head.potential_tokens:,} fewer tokens ({share:.1f}% of their prompt "
                f"tokens, about ${head.potential_usd:,.2f} at list prices)."
            ),
            tokens=head.potential_tokens,
            usd=head.potential_usd,
        )
    ]


def _cache(data: ReportData) -> list[Recommendation]:
    cache = data.cache
    if cache.dynamic_changes == 0:
        return []
    return [
        Recommendation(
            kind="cache_alignment",
            title="Keep dates out of the cacheable prefix",
            action=(
                'optimize mode moves date lines to a trailing "[Context: ...]" block; or put '
                "the date in the last user message yourself"
            ),
            detail=(
                f"{cache.dynamic_changes} of {cache.prefix_changes} prefix changes differed only "
                "in dates or times, so the provider's prompt cache started over; a stable "
                f"prefix would have let it serve about {cache.recoverable_tokens:,} more tokens "
                f"(about ${cache.recoverable_usd:,.4f} at cached-input prices)."
            ),
            tokens=cache.recoverable_tokens,
            usd=cache.recoverable_usd,
        )
    ]


def _window(data: ReportData) -> list[Recommendation]:
    found = []
    for model in data.models:
        over = [
            r
            for r in data.records
            if r.model == model.model and r.mode == "audit" and r.waste.get("beyond_window", 0)
        ]
        if not over:
            continue
        tokens = sum(r.waste.get("beyond_window", 0) for r in over)
        found.append(
            Recommendation(
                kind="window",
                title=f"{len(over)} {model.model} requests did not fit the window",
                action='headroom_mode="optimize", headroom_keep_turns=2',
                detail=(
                    f"They were {tokens:,} tokens over the budget of a {model.context_window:,}"
                    "-token window; the provider rejects them. Optimize mode compresses old tool "
                    "output and drops the oldest tool-call units until they fit."
                ),
                tokens=tokens,
            )
        )
    return found


_CATEGORY_ADVICE = {
    "repeated_content": (
        "Stop sending the same content twice",
        "deduplicate retrieved documents and re-sent tool output before building the request",
        "requests carried the same tool output or document more than once",
    ),
    "blobs": (
        "Strip base64 data and HTML markup",
        "send extracted text (or an image part) instead of raw HTML and base64 strings",
        "requests carried base64 data or HTML markup in their text",
    ),
}


def _category(data: ReportData, category: str) -> list[Recommendation]:
    tokens = sum(r.waste.get(category, 0) for r in data.records)
    if tokens < MIN_WASTE_TOKENS:
        return []
    count = sum(1 for r in data.records if r.waste.get(category, 0) > 0)
    title, action, what = _CATEGORY_ADVICE[category]
    return [
        Recommendation(
            kind=category,
            title=title,
            action=action,
            detail=f"{count} {what}: {tokens:,} tokens.",
            tokens=tokens,
        )
    ]
