"""Measuring a tool profile on stored requests, for users who opted into ``store_content``.

Without content the report can only estimate from recorded waste; with it, the engine plans the
stored request twice (built-in profile, suggested profile) and the difference is exact. Plain
text output (logs, listings), which the built-in profile leaves alone, is measured with line
shortening opted in: only stored content can show that a tool returns text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .engine import Headroom
from .store.record import RequestRecord
from .transforms.tool_output import plain_text_tools

# The newest stored requests measured; planning is the report's only costly step.
MAX_MEASURED_RECORDS = 40


@dataclass(frozen=True)
class MeasuredProfile:
    tool: str
    limit: int  # max_array_items measured; 0 for a line-shortening (text_lines) profile
    requests: int  # stored requests with this tool's output that were measured
    extra_tokens: int  # fewer tokens than optimize mode with the built-in profile
    saved_tokens: int  # fewer tokens than the request as built, with the profile

    @property
    def settings(self) -> dict[str, Any]:
        """The tool's profile as ``headroom_tool_profiles`` takes it."""
        return {"max_array_items": self.limit} if self.limit else {"text_lines": True}


def stored_request(record: RequestRecord) -> tuple[list[Any], list[Any] | None] | None:
    """The (messages, tools) a record kept, if it kept them."""
    content = record.content
    if not isinstance(content, Mapping):
        return None
    messages, tools = content.get("messages"), content.get("tools")
    if not isinstance(messages, list) or not messages:
        return None
    return messages, tools if isinstance(tools, list) else None


def measure_profiles(
    records: Sequence[RequestRecord], limits: Mapping[str, int]
) -> dict[str, MeasuredProfile]:
    """For each tool in ``limits``: what ``{tool: {"max_array_items": limit}}`` saves on the
    stored requests that carry its output. Tools without stored requests are left out."""
    return _Measurer(records).measure(limits)


def measure_text_profiles(records: Sequence[RequestRecord]) -> dict[str, MeasuredProfile]:
    """For each tool whose stored output is plain text: what ``{tool: {"text_lines": true}}``
    saves on the stored requests that carry its output."""
    measurer = _Measurer(records)
    return measurer.measure({tool: 0 for tool in measurer.text_tools()})


class _Measurer:
    """The newest stored requests, each planned once with the built-in profile."""

    def __init__(self, records: Sequence[RequestRecord]) -> None:
        stored = [(r, req) for r in records if (req := stored_request(r)) is not None]
        self.stored = sorted(stored, key=lambda pair: pair[0].timestamp)[-MAX_MEASURED_RECORDS:]
        self.engine = Headroom()
        self.baselines: dict[str, int | None] = {}

    def text_tools(self) -> list[str]:
        """Tools with a stored output that is long plain text, in order of first sight."""
        found: dict[str, None] = {}
        for _, (messages, _tools) in self.stored:
            found.update(dict.fromkeys(plain_text_tools(messages)))
        return list(found)

    def measure(self, limits: Mapping[str, int]) -> dict[str, MeasuredProfile]:
        found: dict[str, MeasuredProfile] = {}
        for tool, limit in limits.items():
            settings = {"max_array_items": limit} if limit else {"text_lines": True}
            count = extra = saved = 0
            for record, (messages, tools) in self.stored:
                if tool not in record.tool_tokens:
                    continue
                if record.id not in self.baselines:
                    self.baselines[record.id] = _tokens_after(
                        self.engine, record, messages, tools, None
                    )
                base = self.baselines[record.id]
                tuned = _tokens_after(self.engine, record, messages, tools, {tool: settings})
                if base is None or tuned is None:
                    continue
                count += 1
                extra += base - tuned
                saved += record.tokens_before - tuned
            if count:
                found[tool] = MeasuredProfile(tool, limit, count, extra, saved)
        return found


def _tokens_after(
    engine: Headroom,
    record: RequestRecord,
    messages: list[Any],
    tools: list[Any] | None,
    profiles: dict[str, Any] | None,
) -> int | None:
    try:
        plan = engine.simulate(
            messages, model=record.model, tools=tools, mode="optimize", tool_profiles=profiles
        )
    except ValueError:  # includes HeadroomBudgetError: nothing to measure
        return None
    return plan.tokens_after
