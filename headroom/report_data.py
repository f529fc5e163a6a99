"""The numbers behind the report, computed from stored records only (no prompt text needed).

Kept apart from the HTML so every figure the report shows is a plain, testable value.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from .models import ModelInfo, resolve_model
from .plan import WASTE_CATEGORIES
from .store.record import RequestRecord

WASTE_LABELS = {
    "json_whitespace": "JSON whitespace",
    "oversized_tool_output": "Oversized tool output",
    "repeated_content": "Repeated content",
    "dynamic_prefix": "Dynamic prefix (dates)",
    "beyond_window": "Beyond the window",
    "blobs": "Blobs (base64, HTML markup)",
}

WASTE_HELP = {
    "json_whitespace": "tokens that minifying JSON tool output removes, losing nothing",
    "oversized_tool_output": "tokens that compressing long tool output would remove",
    "repeated_content": "the same tool output or document sent twice in one request",
    "dynamic_prefix": "system prompt tokens whose dates keep the provider's cache from reusing"
    " them",
    "beyond_window": "tokens over the budget (context window minus the output buffer)",
    "blobs": "base64 data and HTML markup inside message content",
}

# OpenAI's prompt cache: prompts of 1,024 tokens or more, cached in 128-token steps.
CACHE_MIN_TOKENS = 1024
CACHE_STEP_TOKENS = 128


def compressible_tokens(record: RequestRecord) -> int:
    """Tool output tokens that minifying and compressing would remove in this request."""
    return record.waste.get("json_whitespace", 0) + record.waste.get("oversized_tool_output", 0)


def potential_savings(record: RequestRecord) -> int:
    """Tokens optimize mode saves (optimize records) or would save (audit records)."""
    if record.mode != "audit":
        return max(record.tokens_saved, 0)
    beyond = record.waste.get("beyond_window", 0)
    return min(record.tokens_before, max(compressible_tokens(record), beyond))


def waste_total(record: RequestRecord) -> int:
    return sum(max(v, 0) for v in record.waste.values())


def cacheable(tokens: int) -> int:
    """The part of a shared prefix that OpenAI's prompt cache would serve."""
    if tokens < CACHE_MIN_TOKENS:
        return 0
    return tokens - tokens % CACHE_STEP_TOKENS


@dataclass(frozen=True)
class Headline:
    requests: int
    tokens_before: int
    tokens_after: int
    tokens_saved: int
    usd_saved: float
    potential_tokens: int  # what optimize would still save on the audited requests
    potential_usd: float
    cached_tokens: int
    reported_prompt_tokens: int
    audit_count: int
    optimize_count: int
    error_count: int
    first: float | None
    last: float | None

    @property
    def saved_pct(self) -> float:
        return 100.0 * self.tokens_saved / self.tokens_before if self.tokens_before else 0.0

    @property
    def cache_hit_rate(self) -> float | None:
        """Share of provider-reported prompt tokens served from the prompt cache."""
        if not self.reported_prompt_tokens:
            return None
        return 100.0 * self.cached_tokens / self.reported_prompt_tokens

    @property
    def tpm_gain_pct(self) -> float:
        """How many more requests fit under the same tokens-per-minute limit, in percent."""
        return _gain(self.tokens_before, self.tokens_after)

    @property
    def tpm_gain_potential_pct(self) -> float:
        return _gain(self.tokens_before, self.tokens_after - self.potential_tokens)


def _gain(before: int, after: int) -> float:
    if before <= 0 or after <= 0:
        return 0.0
    return 100.0 * (before / after - 1.0)


@dataclass(frozen=True)
class WasteRow:
    category: str
    label: str
    help: str
    tokens: int
    pct_of_tokens: float


@dataclass(frozen=True)
class TimeBucket:
    start: float
    label: str
    requests: int
    tokens_before: int
    tokens_after: int


@dataclass(frozen=True)
class TopRequest:
    record: RequestRecord
    waste_tokens: int
    potential_tokens: int
    breakdown: list[tuple[str, int]]
    tools: list[str]


@dataclass(frozen=True)
class ModelRow:
    model: str
    requests: int
    tokens_before: int
    tokens_after: int
    tokens_saved: int
    potential_tokens: int
    cached_tokens: int
    usd_saved: float
    potential_usd: float
    context_window: int
    over_budget: int


@dataclass(frozen=True)
class ToolRow:
    tool: str
    requests: int
    output_tokens: int
    max_tokens: int
    compressible_tokens: int  # this tool's share of its requests' compressible tool output

    @property
    def avg_tokens(self) -> float:
        return self.output_tokens / self.requests if self.requests else 0.0

    @property
    def compressible_pct(self) -> float:
        return 100.0 * self.compressible_tokens / self.output_tokens if self.output_tokens else 0.0


@dataclass(frozen=True)
class CacheAnalysis:
    requests: int
    distinct_prefixes: int
    distinct_stable_prefixes: int
    prefix_changes: int  # consecutive requests (per model) whose prefix changed
    dynamic_changes: int  # ... of which only dates before static text changed (fixable)
    trailing_date_changes: int  # ... of which only dates after all static text changed
    cached_tokens: int
    reported_prompt_tokens: int
    recoverable_tokens: int  # prefix tokens a stable prefix would let the cache serve
    recoverable_usd: float

    @property
    def hit_rate(self) -> float | None:
        if not self.reported_prompt_tokens:
            return None
        return 100.0 * self.cached_tokens / self.reported_prompt_tokens


@dataclass
class ReportData:
    records: list[RequestRecord]
    headline: Headline
    waste: list[WasteRow]
    timeline: list[TimeBucket]
    bucket: str  # "hour" or "day"
    top: list[TopRequest]
    models: list[ModelRow]
    tools: list[ToolRow]
    cache: CacheAnalysis
    since: float | None = None
    until: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.records


class _Prices:
    """Model prices, resolved once per model name."""

    def __init__(self) -> None:
        self._cache: dict[str, ModelInfo] = {}

    def info(self, model: str) -> ModelInfo:
        if model not in self._cache:
            self._cache[model] = resolve_model(model)
        return self._cache[model]

    def input_usd(self, model: str, tokens: int) -> float:
        return tokens * self.info(model).input_price / 1e6

    def cache_discount_usd(self, model: str, tokens: int) -> float:
        info = self.info(model)
        return tokens * max(info.input_price - info.cached_input_price, 0.0) / 1e6


def build_report_data(
    records: Sequence[RequestRecord],
    *,
    since: float | None = None,
    until: float | None = None,
    top_n: int = 10,
) -> ReportData:
    """Everything the report shows, from ``records`` in any order."""
    ordered = sorted(records, key=lambda r: (r.timestamp, r.id))
    prices = _Prices()
    timeline, bucket = build_timeline(ordered)
    return ReportData(
        records=ordered,
        headline=build_headline(ordered, prices),
        waste=build_waste(ordered),
        timeline=timeline,
        bucket=bucket,
        top=build_top(ordered, top_n),
        models=build_models(ordered, prices),
        tools=build_tools(ordered),
        cache=build_cache(ordered, prices),
        since=since,
        until=until,
    )


def build_headline(records: Sequence[RequestRecord], prices: _Prices) -> Headline:
    audited = [r for r in records if r.mode == "audit"]
    potential = sum(potential_savings(r) for r in audited)
    with_usage = [r for r in records if r.prompt_tokens]
    return Headline(
        requests=len(records),
        tokens_before=sum(r.tokens_before for r in records),
        tokens_after=sum(r.tokens_after for r in records),
        tokens_saved=sum(r.tokens_saved for r in records),
        usd_saved=sum(r.estimated_savings_usd for r in records),
        potential_tokens=potential,
        potential_usd=sum(prices.input_usd(r.model, potential_savings(r)) for r in audited),
        cached_tokens=sum(r.cached_tokens or 0 for r in with_usage),
        reported_prompt_tokens=sum(r.prompt_tokens or 0 for r in with_usage),
        audit_count=len(audited),
        optimize_count=sum(1 for r in records if r.mode == "optimize"),
        error_count=sum(1 for r in records if r.error_type),
        first=records[0].timestamp if records else None,
        last=records[-1].timestamp if records else None,
    )


def build_waste(records: Sequence[RequestRecord]) -> list[WasteRow]:
    """One row per waste category (the known ones first, in their fixed order)."""
    totals: Counter[str] = Counter()
    for record in records:
        for category, tokens in record.waste.items():
            totals[category] += max(int(tokens), 0)
    before = sum(r.tokens_before for r in records)
    order = list(WASTE_CATEGORIES) + sorted(set(totals) - set(WASTE_CATEGORIES))
    return [
        WasteRow(
            category=c,
            label=WASTE_LABELS.get(c, c),
            help=WASTE_HELP.get(c, ""),
            tokens=totals[c],
            pct_of_tokens=100.0 * totals[c] / before if before else 0.0,
        )
        for c in order
    ]


def build_timeline(records: Sequence[RequestRecord]) -> tuple[list[TimeBucket], str]:
    """Tokens per hour (when the records span two days or less) or per day, gaps included."""
    if not records:
        return [], "day"
    first, last = records[0].timestamp, records[-1].timestamp
    size = 3600 if last - first <= 2 * 86400 else 86400
    start = first - first % size
    count = int((last - start) // size) + 1
    buckets: list[list[RequestRecord]] = [[] for _ in range(count)]
    for record in records:
        buckets[int((record.timestamp - start) // size)].append(record)
    from .report_time import format_time

    result = []
    for index, group in enumerate(buckets):
        moment = start + index * size
        label = format_time(moment) if size == 3600 else format_time(moment, with_time=False)
        result.append(
            TimeBucket(
                start=moment,
                label=label,
                requests=len(group),
                tokens_before=sum(r.tokens_before for r in group),
                tokens_after=sum(r.tokens_before - potential_savings(r) for r in group),
            )
        )
    return result, "hour" if size == 3600 else "day"


def build_top(records: Sequence[RequestRecord], top_n: int) -> list[TopRequest]:
    ranked = sorted(
        (r for r in records if waste_total(r) > 0),
        key=lambda r: (-waste_total(r), -r.timestamp, r.id),
    )[:top_n]
    return [
        TopRequest(
            record=r,
            waste_tokens=waste_total(r),
            potential_tokens=potential_savings(r),
            breakdown=[(c, r.waste.get(c, 0)) for c in WASTE_CATEGORIES if r.waste.get(c, 0) > 0],
            tools=sorted(r.tool_tokens),
        )
        for r in ranked
    ]


def build_models(records: Sequence[RequestRecord], prices: _Prices) -> list[ModelRow]:
    groups: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in records:
        groups[record.model].append(record)
    rows = []
    for model, group in groups.items():
        audited = [r for r in group if r.mode == "audit"]
        potential = sum(potential_savings(r) for r in audited)
        rows.append(
            ModelRow(
                model=model,
                requests=len(group),
                tokens_before=sum(r.tokens_before for r in group),
                tokens_after=sum(r.tokens_after for r in group),
                tokens_saved=sum(r.tokens_saved for r in group),
                potential_tokens=potential,
                cached_tokens=sum(r.cached_tokens or 0 for r in group),
                usd_saved=sum(r.estimated_savings_usd for r in group),
                potential_usd=prices.input_usd(model, potential),
                context_window=max((r.context_window for r in group), default=0),
                over_budget=sum(1 for r in group if r.waste.get("beyond_window", 0) > 0),
            )
        )
    rows.sort(key=lambda m: (-m.tokens_before, m.model))
    return rows


def build_tools(records: Sequence[RequestRecord]) -> list[ToolRow]:
    """Per tool: output tokens, and its share of the compressible tool output of its requests
    (split by output size, since records keep waste per request, not per tool)."""
    requests: Counter[str] = Counter()
    output: Counter[str] = Counter()
    largest: Counter[str] = Counter()
    share: defaultdict[str, float] = defaultdict(float)
    for record in records:
        total = sum(max(v, 0) for v in record.tool_tokens.values())
        compressible = compressible_tokens(record)
        for tool, tokens in record.tool_tokens.items():
            tokens = max(int(tokens), 0)
            requests[tool] += 1
            output[tool] += tokens
            largest[tool] = max(largest[tool], tokens)
            if total:
                share[tool] += compressible * tokens / total
    rows = [
        ToolRow(
            tool=tool,
            requests=requests[tool],
            output_tokens=output[tool],
            max_tokens=largest[tool],
            compressible_tokens=round(share[tool]),
        )
        for tool in requests
    ]
    rows.sort(key=lambda t: (-t.output_tokens, t.tool))
    return rows


def build_cache(records: Sequence[RequestRecord], prices: _Prices) -> CacheAnalysis:
    """How often the cacheable prefix changed, and what a stable one would have let the
    provider's cache serve. Requests are compared with the previous one of the same model."""
    previous: dict[str, RequestRecord] = {}
    changes = dynamic = trailing = recoverable = 0
    recoverable_usd = 0.0
    for record in records:
        before = previous.get(record.model)
        previous[record.model] = record
        if before is None or before.prefix_hash == record.prefix_hash:
            continue
        changes += 1
        if record.stable_prefix_hash and record.stable_prefix_hash == before.stable_prefix_hash:
            if not record.waste.get("dynamic_prefix", 0):
                trailing += 1  # the date already follows the static text: its cache holds
                continue
            dynamic += 1
            tokens = cacheable(record.waste.get("dynamic_prefix", 0))
            recoverable += tokens
            recoverable_usd += prices.cache_discount_usd(record.model, tokens)
    with_usage = [r for r in records if r.prompt_tokens]
    return CacheAnalysis(
        requests=len(records),
        distinct_prefixes=len({r.prefix_hash for r in records if r.prefix_hash}),
        distinct_stable_prefixes=len(
            {r.stable_prefix_hash for r in records if r.stable_prefix_hash}
        ),
        prefix_changes=changes,
        dynamic_changes=dynamic,
        trailing_date_changes=trailing,
        cached_tokens=sum(r.cached_tokens or 0 for r in with_usage),
        reported_prompt_tokens=sum(r.prompt_tokens or 0 for r in with_usage),
        recoverable_tokens=recoverable,
        recoverable_usd=recoverable_usd,
    )
