"""Values that stand out in a list of items: the numeric extremes of a column and the rare
value of a field (the one open issue among closed ones, the one failed run)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain, compress, count, repeat
from typing import Any


def extreme_indices(columns: Iterable[Sequence[float | None]]) -> set[int]:
    """For each numeric column, the index of its largest and of its smallest value (the
    first, where several rows hold it)."""
    keep: set[int] = set()
    for column in columns:
        present = [v for v in column if v is not None]
        if len(present) < 3:
            continue
        high, low = max(present), min(present)
        if high != low:
            keep.add(column.index(high))
            keep.add(column.index(low))
    return keep


# Fewer values than this say too little about what is usual to call one of them an outlier.
_MIN_OUTLIER_ROWS = 50


def outlier_indices(columns: Iterable[Sequence[float | None]]) -> set[int]:
    """For each numeric column of at least 50 values, its far outliers: values beyond three
    interquartile ranges of the middle half (the three slow requests among a thousand fast
    ones), or, where most values are equal, the others; none when they are more than one in
    fifty (then they are a long tail, not outliers)."""
    keep: set[int] = set()
    for column in columns:
        ordered = sorted(v for v in column if v is not None)
        n = len(ordered)
        if n < _MIN_OUTLIER_ROWS:
            continue
        q1, q3 = ordered[n // 4], ordered[(3 * n) // 4]
        spread = 3 * (q3 - q1)
        if spread == 0:
            far = [i for i, v in enumerate(column) if v is not None and v != q1]
        else:
            low, high = q1 - spread, q3 + spread
            far = [i for i, v in enumerate(column) if v is not None and (v < low or v > high)]
        if len(far) <= max(1, n // 50):
            keep.update(far)
    return keep


def rare_category_indices(items: Sequence[object], max_share: float = 0.05) -> set[int]:
    """Items whose value in some field is rare among the items: the one ``"state": "open"``
    among closed ones, the one ``"merged_at": null`` among timestamps, the failed run."""
    dicts = [item for item in items if isinstance(item, dict)]
    if len(dicts) != len(items) or len(items) < 8:
        return set()
    n = len(items)
    limit = max(1, int(n * max_share))
    keep: set[int] = set()
    for raw in _field_columns(dicts):
        keep.update(_rare_in_column(raw, n, limit))
    return keep


def _rare_in_column(raw: list[object], n: int, limit: int) -> Iterable[int]:
    """The rows of a field column whose value (a field with more than 12 distinct values:
    whose presence) at most ``limit`` rows share, when another is usual (half the rows)."""
    if len(set(raw)) <= 12:  # equal values have equal reprs: at most 12 reprs too, or more
        kinds = set(map(type, raw))
        if len(kinds & _NUMBER_KINDS) <= 1 and float not in kinds:
            # no two values here are equal with different reprs (True and 1, 1 and 1.0,
            # 0.0 and -0.0): the values group as their reprs would
            return _rare_values(raw, Counter(raw), n, limit)
        reprs = list(map(repr, raw))
        if len(set(reprs)) <= 12:
            return _rare_values(reprs, Counter(reprs), n, limit)
    # high-cardinality field: only its presence can be rare
    missing = raw.count(None) + raw.count(_MISSING)
    if not 0 < missing < n or max(missing, n - missing) < 0.5 * n:
        return ()
    if missing <= limit:
        return [i for i, v in enumerate(raw) if v is None or v is _MISSING]
    if n - missing <= limit:
        return [i for i, v in enumerate(raw) if v is not None and v is not _MISSING]
    return ()


_NUMBER_KINDS = frozenset((bool, int, float))


def _rare_values(column: list[Any], counts: Counter[Any], n: int, limit: int) -> list[int]:
    """The rows whose value at most ``limit`` rows share, when one value is usual."""
    if len(counts) < 2 or max(counts.values()) < 0.5 * n:
        return []  # no usual value to deviate from
    rare = {value for value, seen in counts.items() if seen <= limit}
    if not rare:
        return []
    return list(compress(count(), map(rare.__contains__, column)))


def _field_columns(items: Sequence[dict[str, object]]) -> list[list[object]]:
    """For each scalar field of the items, one level of nesting included (``head.label``),
    its value in every item (``_MISSING`` where absent). Built column by column; when two
    fields would share a dotted name, row by row as ``_flatten`` defines them."""
    columns: dict[str, list[object]] = {}
    for key in dict.fromkeys(chain.from_iterable(items)):
        if key in columns:  # a nested field's dotted name
            return _flattened_columns(items)
        values = list(map(dict.get, items, repeat(key), repeat(_MISSING)))
        if not any(issubclass(kind, (dict, list)) for kind in set(map(type, values))):
            columns[key] = values
            continue
        columns[key] = [_MISSING if isinstance(v, (dict, list)) else v for v in values]
        inner_dicts = [v if isinstance(v, dict) else _NO_DICT for v in values]
        for inner_key in dict.fromkeys(chain.from_iterable(inner_dicts)):
            name = f"{key}.{inner_key}"
            if name in columns:
                return _flattened_columns(items)
            column = list(map(dict.get, inner_dicts, repeat(inner_key), repeat(_MISSING)))
            if any(issubclass(kind, (dict, list)) for kind in set(map(type, column))):
                column = [_MISSING if isinstance(v, (dict, list)) else v for v in column]
            columns[name] = column
    return list(columns.values())


def _flattened_columns(items: Sequence[dict[str, object]]) -> list[list[object]]:
    flat = [_flatten(item) for item in items]
    keys: dict[str, None] = {}
    for row in flat:
        keys.update(dict.fromkeys(row))
    return [[row.get(key, _MISSING) for row in flat] for key in keys]


_MISSING = object()
_NO_DICT: dict[str, object] = {}  # stands for a row whose field is not an object


def _flatten(item: dict[str, object]) -> dict[str, object]:
    """Scalar fields of an item, one level of nesting included (``head.label``)."""
    flat: dict[str, object] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            for inner_key, inner in value.items():
                if not isinstance(inner, (dict, list)):
                    flat[f"{key}.{inner_key}"] = inner
        elif not isinstance(value, list):
            flat[key] = value
    return flat
