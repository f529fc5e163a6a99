"""Structure-preserving shrinking of JSON tool output.

Parsing is strict: NaN/Infinity, duplicate keys, numbers out of range, nesting too deep for the
parser, and text that is not a JSON object or array all count as "not JSON" and are left alone
(seed rule 3). Shrinking keeps the document valid JSON and marks every cut inside it:
``{"__headroom_truncated": N}`` where N array items (or object keys) were dropped, and a visible
note at the end of a cut string.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

from ..options import ToolProfile
from .asked_groups import asked_group
from .list_memo import ListMemo
from .log_levels import add_level_words
from .named_values import asked_items, question_spans
from .neighbours import neighbour_reach, neighbours
from .part_index import PartIndex
from .question_hits import item_question_hits, kept_for_terms
from .rankings import asks_for_the_last, ranked_indices, ranking
from .rare_values import extreme_indices, outlier_indices, rare_category_indices
from .signals import item_signal_tiers
from .text_compress import shorten_lines

TRUNCATED_KEY = "__headroom_truncated"
_NOT_JSON = object()


class _Reject(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Reject("duplicate key")
    return result


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Reject("number out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise _Reject(f"non-standard constant {name}")


_ABSENT = object()


class _ParseMemo:
    """The last few parsed documents by text: one request parses a tool output for the audit,
    for compression, again for the rolling window's harder pass and for recall. Callers treat
    the documents as read-only (every transform builds new containers)."""

    def __init__(self, max_entries: int = 32, max_chars: int = 16_000_000) -> None:
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._chars = 0
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._lock = threading.Lock()

    def get(self, text: str) -> Any:
        with self._lock:  # one lookup, one move: a deep-copied text is compared in full
            found = self._data.get(text, _ABSENT)
            if found is _ABSENT:
                return None
            self._data.move_to_end(text)
            return found

    def put(self, text: str, document: Any) -> None:
        if len(text) > self._max_chars // 4:
            return
        with self._lock:
            if text in self._data:
                return
            self._data[text] = document
            self._chars += len(text)
            while len(self._data) > self._max_entries or self._chars > self._max_chars:
                old, _ = self._data.popitem(last=False)
                self._chars -= len(old)


_parsed = _ParseMemo()
# Signal scans by (list identity, question terms, question, keep_ties, the terms only the
# call's arguments give); each entry holds its list, so the identity cannot be reused by
# another list while the entry lives.
_signals_memo: dict[
    tuple[int, tuple[str, ...], str, bool, frozenset[str]],
    tuple[list[Any], frozenset[int], frozenset[int]],
] = {}
_signals_lock = threading.Lock()
_SIGNALS_MEMO_ENTRIES = 32  # like the parse memo: holds lists of that many documents at most
# Item parts and numeric columns by list: recall searches the same parsed list for a later
# question's terms, and compares its columns with a later question's thresholds.
_parts_memo: ListMemo[_ListParts] = ListMemo()
_columns_memo: ListMemo[dict[str, list[float | None]]] = ListMemo()


def parse_json(text: str) -> Any:
    """The parsed document, or ``_NOT_JSON`` when ``text`` is not a strict JSON object/array.
    Memoised for the last few texts; do not mutate the result."""
    start = text.lstrip()[:1]
    if start not in ("{", "["):
        return _NOT_JSON
    hit = _parsed.get(text)
    if hit is not None:
        return hit
    document = _parse(text)
    _parsed.put(text, document)
    return document


_minified = _ParseMemo()


def minified_json(text: str) -> str | None:
    """``text`` parsed and minified, or None when it is not strict JSON (or not UTF-8
    representable). Memoised like ``parse_json``: the audit and each compression pass of one
    request want the same minified text."""
    hit = _minified.get(text)
    if hit is not None:
        return hit or None
    document = parse_json(text)
    minified = dumps_min(document) if is_json_document(document) else None
    _minified.put(text, minified or "")
    return minified


def _parse(text: str) -> Any:
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_finite_float,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError, TypeError):
        return _NOT_JSON


def is_json_document(value: Any) -> bool:
    return value is not _NOT_JSON


# Parsed documents are trees: no need to track containers for cycles (a few % faster).
_MINIFIER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
_SORTED = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False, sort_keys=True
)


def dumps_min(value: Any, sort_keys: bool = False) -> str | None:
    """Minified JSON (its keys sorted, to compare objects whatever their keys' order), or
    None when it cannot be represented as UTF-8 text."""
    try:
        text = (_SORTED if sort_keys else _MINIFIER).encode(value)
        text.encode("utf-8")
    except (ValueError, RecursionError, UnicodeEncodeError):
        return None
    return text


@dataclass
class ShrinkStats:
    items_dropped: int = 0
    strings_cut: int = 0
    depth_cuts: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.items_dropped or self.strings_cut or self.depth_cuts)


class Shrinker:
    """One shrinking pass over a parsed document under a profile and the question's terms
    (and the question itself, for the values it spells out whole: ``asked_items``)."""

    def __init__(
        self,
        profile: ToolProfile,
        terms: Sequence[str],
        question: str = "",
        secondary: frozenset[str] = frozenset(),
    ) -> None:
        self.profile = profile
        self.terms = tuple(terms)
        self.question = question
        self.secondary = secondary  # terms only the call's arguments give
        self.stats = ShrinkStats()

    def shrink(self, value: Any, depth: int = 0, focus: bool = False) -> Any:
        """Shrink ``value``; inside a ``focus`` item (one the question names) strings stay
        whole, since that is what the user asked about."""
        if isinstance(value, dict):
            if depth >= self.profile.max_depth and value:
                self.stats.depth_cuts += 1
                return {TRUNCATED_KEY: len(value)}
            return {k: self.shrink(v, depth + 1, focus) for k, v in value.items()}
        if isinstance(value, list):
            if depth >= self.profile.max_depth and value:
                self.stats.depth_cuts += 1
                return [{TRUNCATED_KEY: len(value)}]
            return self._shrink_list(value, depth, focus)
        if isinstance(value, str) and len(value) > self.profile.max_string_length and not focus:
            return self._shrink_string(value)
        return value

    def _shrink_list(self, items: list[Any], depth: int, focus: bool) -> list[Any]:
        if len(items) <= max(self.profile.array_threshold, self.profile.max_array_items + 1):
            return [self.shrink(v, depth + 1, focus) for v in items]
        keep = set(range(self.profile.max_array_items))
        keep.add(len(items) - 1)
        focused: set[int] = set()
        if self.profile.keep_signals:
            signals, focused = self._signal_indices(items)
            keep |= signals | focused
        out: list[Any] = []
        gap = 0
        for i, item in enumerate(items):
            if i in keep:
                if gap:
                    out.append({TRUNCATED_KEY: gap})
                    gap = 0
                out.append(self.shrink(item, depth + 1, focus or i in focused))
            else:
                gap += 1
                self.stats.items_dropped += 1
        if gap:
            out.append({TRUNCATED_KEY: gap})
        return out

    def _signal_indices(self, items: list[Any]) -> tuple[set[int], set[int]]:
        """``_scan_signals``, memoised for this very list (parsed documents are shared, so the
        rolling window's harder pass over the same output does not scan it again)."""
        key = (id(items), self.terms, self.question, self.profile.keep_ties, self.secondary)
        with _signals_lock:
            hit = _signals_memo.get(key)
        if hit is not None and hit[0] is items:
            return set(hit[1]), set(hit[2])
        signals, focused = self._scan_signals(items)
        with _signals_lock:
            _signals_memo[key] = (items, frozenset(signals), frozenset(focused))
            while len(_signals_memo) > _SIGNALS_MEMO_ENTRIES:
                _signals_memo.pop(next(iter(_signals_memo)))
        return signals, focused

    def _scan_signals(self, items: list[Any]) -> tuple[set[int], set[int]]:
        """(every item with an error signal or a far numeric outlier, and items with a rare
        value, a column's largest or smallest value or a warning, at most ``max(5, n // 10)``
        more; items the question names, by its terms or by a value it spells out whole). An
        error carried by more than half of the items singles nothing out and keeps none."""
        parts = list_parts(items)
        index = list_index(items)
        errors, warnings = item_signal_tiers([p[1] for p in parts], index)
        columns = numeric_columns(items)
        tiers = [rare_category_indices(items), extreme_indices(columns.values()), warnings]
        keep = errors | outlier_indices(columns.values())
        asked = ranking(self.question) if self.question else None
        if asked is not None:
            keep |= ranked_indices(items, columns, asked)
        # "which ones are landlocked?", "with a total over 20", "which have no capital?"
        keep |= asked_group(items, self.question, lambda: columns)
        room = max(5, len(items) // 10)
        # The most specific signal (the one that marks the fewest items) goes first.
        for tier in sorted(tiers, key=len):
            for i in sorted(tier - keep):
                if room <= 0:
                    break
                keep.add(i)
                room -= 1
        focused = item_question_hits(
            [p[0] for p in parts],
            self.terms,
            max_keep=kept_for_terms(len(items)),
            keep_ties=self.profile.keep_ties,
            index=index,
            from_end=asks_for_the_last(self.question),
            secondary=self.secondary,
        )
        if self.question:
            focused |= asked_items(index, question_spans(self.question))
            reach = neighbour_reach(self.question)
            if reach and focused:  # "what happened right before it?": asked about too
                focused = neighbours(focused, reach, len(items))
        return keep, focused

    def _shrink_string(self, value: str) -> str:
        limit = self.profile.max_string_length
        if value.count("\n") >= 8:
            shortened = shorten_lines(
                value,
                max(4, limit // 80),
                self.terms,
                self.profile.keep_signals,
                self.profile.keep_ties,
                self.question,
            )
            if shortened is not None and len(shortened) < len(value):
                self.stats.strings_cut += 1
                return shortened
            if shortened is None:
                return value
        self.stats.strings_cut += 1
        cut = len(value) - limit
        return f"{value[:limit]}…[headroom: {cut} chars cut]"


class _ListParts:
    """The parts of a list's items, and the index over them, built when first asked for."""

    def __init__(self, parts: list[tuple[list[str], list[str]]]) -> None:
        self.parts = parts
        self._index: PartIndex | None = None
        self._lock = threading.Lock()

    @property
    def index(self) -> PartIndex:
        with self._lock:
            if self._index is None:
                self._index = PartIndex([p[0] for p in self.parts])
            return self._index


def _list_entry(items: list[Any]) -> _ListParts:
    return _parts_memo.get_or_compute(items, lambda: _read_parts(items))


def _read_parts(items: list[Any]) -> _ListParts:
    parts = [item_parts(item) for item in items]
    add_level_words(items, parts)  # "level": "E" says "error" in no word
    return _ListParts(parts)


def list_parts(items: list[Any]) -> list[tuple[list[str], list[str]]]:
    """``item_parts`` of every item of ``items``, memoised for this very list (do not
    mutate the result)."""
    return _list_entry(items).parts


def list_index(items: list[Any]) -> PartIndex:
    """The ``PartIndex`` over all parts of the items of ``items``, memoised like
    ``list_parts``: the signal and question searches of one list, and recall's later
    questions about it, share it."""
    return _list_entry(items).index


def item_parts(item: Any) -> tuple[list[str], list[str]]:
    """(all texts of an item, for question terms: its keys and values; its signal texts:
    string values and the keys of non-empty values, so an ``"error": null`` field that every
    item has is no signal)."""
    values: list[str] = []
    signal: list[str] = []
    _walk(item, values, signal, 0)
    return values, signal


def _walk(value: Any, values: list[str], signal: list[str], depth: int) -> None:
    """Collect an item's texts. Scalars are handled inline, not by a call each: a list of
    thousands of items holds hundreds of thousands of them."""
    if depth > 6:
        return
    deep = depth >= 6  # children of this value are past the depth limit: keys only
    if isinstance(value, dict):
        for key, inner in value.items():
            kind = type(inner)
            name = key if type(key) is str else str(key)
            if kind is str:
                if inner:
                    signal.append(name)
                values.append(name)
                if not deep:
                    values.append(inner)
                    signal.append(inner)
            elif kind is int or kind is float:
                if inner:
                    signal.append(name)
                values.append(name)
                if not deep:
                    values.append(str(inner))
            elif kind is bool or inner is None:
                if inner:
                    signal.append(name)
                values.append(name)
            else:
                if inner not in (None, False, "", [], {}):
                    signal.append(name)
                values.append(name)
                _walk(inner, values, signal, depth + 1)
    elif isinstance(value, list):
        for inner in value[:50]:
            kind = type(inner)
            if kind is str:
                if not deep:
                    values.append(inner)
                    signal.append(inner)
            elif kind is int or kind is float:
                if not deep:
                    values.append(str(inner))
            elif kind is not bool and inner is not None:
                _walk(inner, values, signal, depth + 1)
    elif isinstance(value, str):
        values.append(value)
        signal.append(value)
    elif value is not None and not isinstance(value, bool):
        values.append(str(value))


def numeric_columns(items: list[Any]) -> dict[str, list[float | None]]:
    """Top-level numeric fields of object items by key (or columns of row arrays, by
    position: ``"0"``, ``"1"``...). Memoized by list, as item parts are (recall asks them
    of the same parsed lists for every new question setting a threshold). Shared: not to
    be changed."""
    return _columns_memo.get_or_compute(items, lambda: _numeric_columns(items))


def _numeric_columns(items: list[Any]) -> dict[str, list[float | None]]:
    if all(isinstance(item, dict) for item in items):
        columns = {}
        for key in dict.fromkeys(chain.from_iterable(items)):
            values = list(map(dict.get, items, repeat(key)))
            if _NUMBER_TYPE_SET.isdisjoint(map(type, values)):  # no number: skip it in C
                continue
            columns[str(key)] = _numbers(values)
        return columns
    if all(isinstance(item, list) for item in items):
        width = min((len(item) for item in items), default=0)
        return {str(c): _numbers([item[c] for item in items]) for c in range(min(width, 64))}
    return {"": _numbers(items)}


_NUMBER_TYPES = (int, float)  # not bool: type() is exact
_NUMBER_TYPE_SET = frozenset(_NUMBER_TYPES)


def _numbers(values: list[Any]) -> list[float | None]:
    """Each value as a float where it is a number, else None; an integer too large for a
    float counts as infinitely large (the largest value of its column)."""
    try:
        return [float(v) if type(v) in _NUMBER_TYPES else None for v in values]
    except OverflowError:
        return [_num(v) for v in values]


def _num(value: Any) -> float | None:
    if type(value) not in _NUMBER_TYPES:
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
