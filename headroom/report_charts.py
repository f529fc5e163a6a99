"""Geometry for the report's inline SVG bar charts.

Computed here, drawn by the template: no charting library, no script, nothing fetched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    title: str
    # An inner bar drawn over this one (e.g. tokens after optimization), same baseline.
    inner_y: float = 0.0
    inner_width: float = 0.0
    inner_height: float = 0.0
    color: str = ""


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    name: str
    kind: str  # "horizontal" | "vertical"
    width: float
    height: float
    bars: list[Bar]
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[Tick] = field(default_factory=list)
    plot_left: float = 0.0
    plot_top: float = 0.0
    plot_width: float = 0.0
    plot_height: float = 0.0


def compact(value: float) -> str:
    """12,345 -> 12.3k; short numbers for axes and bar ends."""
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.1f}B"
    if size >= 1e6:
        return f"{value / 1e6:.1f}M"
    if size >= 1e4:
        return f"{value / 1e3:.0f}k"
    if size >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def horizontal_bars(
    name: str,
    items: Sequence[tuple[str, int]],
    *,
    colors: Sequence[str] = (),
    unit: str = "tokens",
    width: float = 760.0,
    label_width: float = 250.0,
    row_height: float = 30.0,
) -> Chart:
    """One bar per item, longest = full width, labels on the left and values on the right."""
    value_width = 70.0
    plot_width = width - label_width - value_width
    top = max((v for _, v in items), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(items):
        bar_width = plot_width * max(value, 0) / top
        bars.append(
            Bar(
                x=label_width,
                y=index * row_height + 4,
                width=round(bar_width, 2),
                height=row_height - 8,
                label=label,
                value=value,
                title=f"{label}: {value:,} {unit}",
                color=colors[index % len(colors)] if colors else "",
            )
        )
    return Chart(
        name=name,
        kind="horizontal",
        width=width,
        height=max(len(items), 1) * row_height,
        bars=bars,
        plot_left=label_width,
        plot_width=plot_width,
    )


def vertical_bars(
    name: str,
    items: Sequence[tuple[str, int, int]],
    *,
    width: float = 860.0,
    height: float = 280.0,
    unit: str = "tokens",
    inner_name: str = "after",
) -> Chart:
    """One bar per (label, value, inner value), with a lighter inner bar over each one."""
    left, right, top_pad, bottom = 64.0, 12.0, 12.0, 46.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = nice_max(max((v for _, v, _ in items), default=0))
    slot = plot_w / max(len(items), 1)
    bar_w = max(min(slot * 0.7, 60.0), 1.0)
    bars = []
    for index, (label, value, inner) in enumerate(items):
        h = plot_h * max(value, 0) / top
        ih = plot_h * min(max(inner, 0), max(value, 0)) / top
        bars.append(
            Bar(
                x=round(left + index * slot + (slot - bar_w) / 2, 2),
                y=round(top_pad + plot_h - h, 2),
                width=round(bar_w, 2),
                height=round(h, 2),
                label=label,
                value=value,
                title=f"{label}: {value:,} {unit}, {inner:,} {inner_name}",
                inner_y=round(top_pad + plot_h - ih, 2),
                inner_width=round(bar_w, 2),
                inner_height=round(ih, 2),
            )
        )
    ticks = [
        Tick(round(top_pad + plot_h - plot_h * i / 4, 2), compact(top * i / 4)) for i in range(5)
    ]
    every = max(1, math.ceil(len(items) / 10))
    x_labels = [
        Tick(round(left + i * slot + slot / 2, 2), label)
        for i, (label, _, _) in enumerate(items)
        if i % every == 0
    ]
    return Chart(
        name=name,
        kind="vertical",
        width=width,
        height=height,
        bars=bars,
        ticks=ticks,
        x_labels=x_labels,
        plot_left=left,
        plot_top=top_pad,
        plot_width=plot_w,
        plot_height=plot_h,
    )
