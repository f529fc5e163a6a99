"""Measuring a tool profile on stored requests, for users who opted into ``store_content``.

Without content the report can only estimate from recorded waste; with it, the engine plans the
stored request twice (built-in profile, suggested profile) and the difference is exact. Plain
text output (logs, listings), which the built-in profile leaves alone, is measured with line
shortening opted in: only stored content can show that a tool returns text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .engine import Headroom
from .store.record import RequestRecord
from .transforms.opt_in import plain_text_tools, text_part_tools

# The newest stored requests measured; planning is the report's only costly step.
MAX_MEASURED_RECORDS = 40


@dataclass(frozen=True)
class MeasuredProfile:
    tool: str
    limit: int  # max_array_items measured (0 when ``option`` is what was measured)
    requests: int  # stored requests with this tool's output that were measured
    extra_tokens: int  # fewer tokens than optimize mode with the built-in profile
    saved_tokens: int  # fewer tokens than the request as built, with the profile
    option: str = ""  # an opt-in measured instead of a limit: text_lines or text_parts

    @property
    def settings(self) -> dict[str, Any]:
        """The tool's profile as ``headroom_tool_profiles`` takes it."""
        return {self.option: True} if self.option else {"max_array_items": self.limit}


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
    measurer = _Measurer(records)
    return {
        tool: found
        for tool, limit in limits.items()
        if (found := measurer.measure(tool, {"max_array_items": limit})) is not None
    }


def measure_text_profiles(records: Sequence[RequestRecord]) -> dict[str, MeasuredProfile]:
    """For each tool whose stored output the built-in profile leaves alone because only a
    profile opts it in (plain text: ``text_lines``; a list of text parts: ``text_parts``),
    what opting in saves on the stored requests that carry its output."""
    measurer = _Measurer(records)
    found: dict[str, MeasuredProfile] = {}
    for option, tools in (
        ("text_lines", measurer.tools_with(plain_text_tools)),
        ("text_parts", measurer.tools_with(text_part_tools)),
    ):
        for tool in tools:
            measured = measurer.measure(tool, {option: True})
            if measured is not None and tool not in found:
                found[tool] = measured
    return found


class _Measurer:
    """The newest stored requests, each planned once with the built-in profile."""

    def __init__(self, records: Sequence[RequestRecord]) -> None:
        stored = [(r, req) for r in records if (req := stored_request(r)) is not None]
        self.stored = sorted(stored, key=lambda pair: pair[0].timestamp)[-MAX_MEASURED_RECORDS:]
        self.engine = Headroom()
        self.baselines: dict[str, int | None] = {}

    def tools_with(self, find: Callable[[Sequence[Any]], list[str]]) -> list[str]:
        """The tools ``find`` names in any stored request, in order of first sight."""
        found: dict[str, None] = {}
        for _, (messages, _tools) in self.stored:
            found.update(dict.fromkeys(find(messages)))
        return list(found)

    def measure(self, tool: str, settings: dict[str, Any]) -> MeasuredProfile | None:
        """What ``{tool: settings}`` saves on the stored requests with the tool's output."""
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
        if not count:
            return None
        limit = settings.get("max_array_items", 0)
        option = "" if "max_array_items" in settings else next(iter(settings))
        return MeasuredProfile(tool, limit, count, extra, saved, option)


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
