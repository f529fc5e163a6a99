"""What singles out one line of a log or listing besides an error word or a question term.

- A rare line shape: in a log where nearly every line has one of a few shapes ("Failed password
  for ...", "Invalid user ..."), the one "Accepted password for ..." line is what the user wants.
  A line's shape is its first few words that hold no digits, so pids, IPs, ids and times do not
  make every line look new.
- A numeric extreme: in a listing whose lines share a column layout (``ls -l``, ``git ls-tree
  -l``, ``du``), the lines with the largest and the smallest value of each numeric column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .rare_values import extreme_indices, outlier_indices

_SHAPE_WORDS = 4
_DIGITS = str.maketrans("0123456789", "0000000000")
_MAX_COLUMNS = 8
_USUAL_SHAPES = 5  # a log is uniform when its five commonest shapes cover half its lines


def _shape(line: str) -> tuple[str, ...]:
    words = []
    for token in line.translate(_DIGITS).split():
        if "0" not in token and any(map(str.isalpha, token)):
            words.append(token)
            if len(words) == _SHAPE_WORDS:
                break
    return tuple(words)


def rare_shape_lines(lines: Sequence[str]) -> set[int]:
    """Lines whose shape is rare in a log dominated by a few shapes; none when the text has no
    usual shape to deviate from (a listing of paths, prose)."""
    n = len(lines)
    if n < 20:
        return set()
    shapes = [_shape(line) if line.strip() else None for line in lines]
    counts = Counter(s for s in shapes if s is not None)
    if not counts:
        return set()
    usual = sum(c for _, c in counts.most_common(_USUAL_SHAPES))
    if usual < 0.5 * sum(counts.values()):
        return set()
    rare_limit = max(1, n // 500)
    rare = [
        (counts[s], i) for i, s in enumerate(shapes) if s is not None and counts[s] <= rare_limit
    ]
    cap = max(5, n // 50)
    return {i for _, i in sorted(rare)[:cap]}


def numeric_extreme_lines(lines: Sequence[str]) -> set[int]:
    """For each numeric column of the most common column layout, the lines holding its largest
    and its smallest value and its far outliers (``outlier_indices``)."""
    rows = [line.split() for line in lines]
    widths = Counter(len(r) for r in rows if len(r) >= 2)
    if not widths:
        return set()
    width, count = widths.most_common(1)[0]
    if count < max(3, len(lines) // 2):
        return set()
    columns: list[list[float | None]] = []
    for column in range(min(width, _MAX_COLUMNS)):
        values: list[float | None] = [
            float(r[column]) if len(r) == width and _is_plain_number(r[column]) else None
            for r in rows
        ]
        if len(values) - values.count(None) >= max(3, count // 2):
            columns.append(values)
    return extreme_indices(columns) | outlier_indices(columns)


def _is_plain_number(token: str) -> bool:
    body = token[1:] if token[:1] == "-" else token
    if not body or len(body) > 18:
        return False
    whole, _, fraction = body.partition(".")
    return whole.isdigit() and (not fraction or fraction.isdigit()) and whole.isascii()
