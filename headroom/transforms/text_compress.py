"""Line-aware shortening of plain text (logs, listings, long multi-line strings).

Keeps the first and last lines, every line with an error or warning signal, every line with
a distinctive term of the user's question (and the lines next to them when it asks what came
right before or after), lines of a rare shape in a uniform log and the
numeric extremes of a column listing (see line_signals); each run of omitted lines becomes one
visible ``[headroom: N lines omitted]`` line. Nothing is rewritten: kept lines are kept verbatim.
"""

from __future__ import annotations

from collections.abc import Sequence

from .line_signals import numeric_extreme_lines, rare_shape_lines
from .neighbours import neighbour_reach, neighbours
from .question_hits import question_hits
from .rankings import asks_for_the_last
from .signals import signal_tiers


def omitted_marker(count: int) -> str:
    return f"[headroom: {count} line{'s' if count != 1 else ''} omitted]"


def shorten_lines(
    text: str,
    max_lines: int,
    terms: Sequence[str],
    keep_signals: bool = True,
    keep_ties: bool = True,
    question: str = "",
) -> str | None:
    """The shortened text, or None when there is nothing worth omitting. The ``question``
    itself, when given, may ask for the lines next to the ones it names ("right before")."""
    lines = text.split("\n")
    if len(lines) <= max_lines:
        return None
    head = max(1, (max_lines * 2) // 3)
    tail = max(1, max_lines - head)
    keep = set(range(min(head, len(lines))))
    keep.update(range(max(len(lines) - tail, 0), len(lines)))
    if keep_signals:
        for tier in signal_tiers(lines):
            keep.update(tier)
        most = min(40, max(5, len(lines) // 20))
        hits = question_hits(lines, terms, most, keep_ties, asks_for_the_last(question))
        reach = neighbour_reach(question) if hits and question else 0
        keep.update(neighbours(hits, reach, len(lines)) if reach else hits)
        keep.update(rare_shape_lines(lines))
        keep.update(numeric_extreme_lines(lines))
    if len(keep) >= len(lines) - 1:
        return None
    out: list[str] = []
    gap = 0
    for i, line in enumerate(lines):
        if i in keep:
            if gap:
                out.append(omitted_marker(gap))
                gap = 0
            out.append(line)
        else:
            gap += 1
    if gap:
        out.append(omitted_marker(gap))
    return "\n".join(out)
