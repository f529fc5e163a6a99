"""Fast scans against the simple forms they replace: the same answers on any input."""

from __future__ import annotations

import math
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import questions
from headroom.analysis import _BASE64, _may_hold_base64
from headroom.transforms import cache_alignment, question_hits, rare_values, signals, text_scan
from headroom.transforms.dynamic_values import DYNAMIC_VALUE, find_dynamic_values
from headroom.transforms.json_compress import item_parts
from headroom.transforms.part_index import PartIndex
from headroom.transforms.spellings import unaccented
from headroom.transforms.text_scan import TextScan

_B64_TEXT = st.text(
    alphabet=st.sampled_from(list("Ab9+/=") + [" ", "\n", "é", "\ud800", "-", "漢"]),
    max_size=700,
)


@given(st.integers(min_value=0, max_value=400), _B64_TEXT, _B64_TEXT)
def test_base64_prefilter_never_hides_a_blob(run: int, before: str, after: str) -> None:
    text = before + "QUJD" * (run // 4) + after
    if _BASE64.search(text) is not None:
        assert _may_hold_base64(text)
    if not _may_hold_base64(text):
        assert _BASE64.search(text) is None


def test_base64_prefilter_passes_a_real_blob_and_skips_prose() -> None:
    blob = "data:image/png;base64," + "iVBORw0KGgo" * 40
    assert _may_hold_base64(f"see {blob} here")
    assert not _may_hold_base64("plain prose " * 1000)
    assert not _may_hold_base64("é" * 300)


# -- signals over many texts: the joined-text scan against the per-text reference ----------

_SIGNAL_WORDS = [
    "error",
    "Errors",
    "ERRNO",
    "failed",
    "E/",
    "F/",
    "W/",
    "e/",
    "stack",
    "trace",
    "stack trace",
    "stacktrace",
    "timed",
    "out",
    "timed out",
    "not",
    "found",
    "not found",
    "could",
    "oom",
    "room",
    "warn",
    "Warnings",
    "terror",
    "segfault",
    "ſegfault",
    "Kill",
    "\u212aILLED",
    "İnvalid",
    "ok",
    "fine",
    "#49",
    "49",
    "1492",
    "2021-03-09",
    "-03-09",
    "03-09",
    "5b0224e868cc",
    "Brasília",
    "brasiliana",
    "Zurich",
    "észak-macedón",
    "replay",
    "ReplayData",
    "test/issue.py",
    "ünïcode",
    "Σ",
    "ΑΣ",
    "x",
]
_SEPARATORS = [" ", "", "\n", "\\n", "/", "-", "_", ":", '"', "\t", "é", "9"]
_TEXT = st.lists(
    st.one_of(st.sampled_from(_SIGNAL_WORDS), st.sampled_from(_SEPARATORS)), max_size=24
).map("".join)


_SIGNAL_KINDS = (
    (signals._ERROR_ANCHORS, signals.ERROR_SIGNAL),
    (signals._WARNING_ANCHORS, signals.WARNING_SIGNAL),
)


def _signal_hit(text: str, anchors: tuple[str, ...], pattern: re.Pattern[str]) -> bool:
    """The per-text rule: the lowercased text holds an anchor and the regex matches."""
    return any(a in text.lower() for a in anchors) and pattern.search(text) is not None


def _at_most_half(tiers: list[set[int]], n: int) -> list[set[int]]:
    return [hits if len(hits) <= n // 2 else set() for hits in tiers]


def _reference_tiers(texts: list[str]) -> list[set[int]]:
    """signal_tiers as it was: every text lowered, anchors tested, the regex run per text."""
    return _at_most_half(
        [{i for i, t in enumerate(texts) if _signal_hit(t, a, p)} for a, p in _SIGNAL_KINDS],
        len(texts),
    )


def _reference_rank(found: list[set[str]], n: int, max_keep: int, keep_ties: bool) -> set[int]:
    """The texts kept, from the canonical terms each of ``n`` texts holds: every holder of a
    term at most three texts hold, the best by summed idf, and the best of each other way
    of holding them."""
    df: dict[str, int] = {}
    for hits in found:
        for term in hits:
            df[term] = df.get(term, 0) + 1
    useful = {t: math.log(n / c) for t, c in df.items() if c <= max(n // 2, 1)}
    if not useful:
        return set()
    keep = {i for i, hits in enumerate(found) if any(df[t] <= 3 and t in useful for t in hits)}
    scored = [(math.fsum(useful.get(t, 0.0) for t in hits), i) for i, hits in enumerate(found)]
    best = _best(scored, max_keep, keep_ties, n)
    # then, by rank, the first text of each combination of useful terms the best lack
    ways = {frozenset(found[i] & useful.keys()) for i in best}
    others: list[int] = []
    for score, i in sorted(scored, key=lambda p: (-p[0], p[1])):
        way = frozenset(found[i] & useful.keys())
        if score > 0 and i not in best and way not in ways and len(others) < max_keep // 2:
            ways.add(way)
            others.append(i)
    return keep | best | set(others)


def _best(scored: list[tuple[float, int]], max_keep: int, keep_ties: bool, n: int) -> set[int]:
    """The best ``max_keep`` of the positive scores (ties by position); with ``keep_ties``
    also every one scoring the same as the last of them, when that makes at most twice as
    many or one in ten of the ``n``. Otherwise a tie cut short keeps its last one (by
    position) in place of the last one kept."""
    ranked = sorted((p for p in scored if p[0] > 0), key=lambda p: (-p[0], p[1]))
    kept = ranked[:max_keep]
    if keep_ties and 0 < max_keep < len(ranked):
        tied = {i for score, i in ranked if score == ranked[max_keep - 1][0]}
        if len({i for _, i in kept} | tied) <= max(2 * max_keep, n // 10):
            return {i for _, i in kept} | tied
    if 1 < len(kept) < len(ranked) and ranked[len(kept)][0] == kept[-1][0]:
        kept[-1] = [p for p in ranked if p[0] == kept[-1][0]][-1]
    return {i for _, i in kept}


def _reference_hits(
    texts: list[str], terms: list[str], max_keep: int, keep_ties: bool = True
) -> set[int]:
    """question_hits as it was: per-text substring tests and findall (each text an item of
    one part)."""
    return _reference_item_hits([[text] for text in texts], terms, max_keep, keep_ties)


@given(st.lists(_TEXT, max_size=30))
def test_signal_tiers_match_the_per_text_reference(texts: list[str]) -> None:
    assert signals.signal_tiers(texts) == _reference_tiers(texts)


_TERMS = st.lists(
    st.sampled_from(
        [
            "error",
            "replay",
            "#49",
            "49",
            "test/issue.py",
            "issue",
            "found",
            "out",
            "x",
            "trace",
            "-03-09",
            "5b0224e8",
            "unicode",
            "brasilia",
            "eszak-macedon",
            "macedon",
            "zürich",
        ]
    ),
    max_size=5,
)


@given(st.lists(_TEXT, max_size=30), _TERMS, st.integers(min_value=0, max_value=5), st.booleans())
def test_question_hits_match_the_per_text_reference(
    texts: list[str], terms: list[str], max_keep: int, keep_ties: bool
) -> None:
    expected = _reference_hits(texts, terms, max_keep, keep_ties)
    assert question_hits.question_hits(texts, terms, max_keep, keep_ties) == expected


# Items made of parts, searched by distinct part: the same answers as the per-text reference
# run on each part, an item holding what any of its parts holds.
_ITEMS = st.lists(st.lists(_TEXT, max_size=5), max_size=30)


def _reference_item_tiers(items: list[list[str]]) -> list[set[int]]:
    return _at_most_half(
        [
            {i for i, parts in enumerate(items) if any(_signal_hit(x, a, p) for x in parts)}
            for a, p in _SIGNAL_KINDS
        ],
        len(items),
    )


def _reference_spellings(texts: list[str], terms: list[str]) -> dict[str, str]:
    """Each accented term unaccented, and every accented word (or hyphenated compound) of
    ``texts`` whose unaccented form a plain term of three letters or more begins, each with
    the (first) term it spells."""
    spelling_of: dict[str, str] = {}
    for t in terms:
        if not t.isascii() and unaccented(t).isascii() and unaccented(t) not in terms:
            spelling_of.setdefault(unaccented(t), t)
    words = set()
    for text in texts:
        for compound in re.findall(r"[\w-]+", text.lower()):
            words.update({compound, *compound.split("-")})
    for t in [t for t in terms if t.isascii() and len(t) >= 3 and t[:1].isalpha()]:
        for word in words:
            accented = any("\u00c0" <= c <= "\u024f" for c in word)
            plain_form = unaccented(word)
            if accented and plain_form != word and plain_form.startswith(t) and word not in terms:
                spelling_of.setdefault(word, t)
    return spelling_of


def _reference_item_hits(
    items: list[list[str]], terms: list[str], max_keep: int, keep_ties: bool = True
) -> set[int]:
    if not terms or not items:
        return set()
    n = len(items)
    spelling_of = _reference_spellings([part for parts in items for part in parts], terms)

    def holders(term: str) -> int:
        anchor = term[1:] if term.startswith("#") else term
        return sum(1 for parts in items if any(anchor in part.lower() for part in parts))

    def singles_out(term: str) -> bool:
        held = holders(term)
        return held > 0 and (held <= 0.9 * n or n < 4 or any(c.isdigit() for c in term))

    present = [t for t in terms if singles_out(t)]

    # another spelling counts when its term does, or when no text holds that term as a
    # word of its own
    def holds_word(term: str) -> bool:
        word = re.compile(rf"(?<![^\W_]){re.escape(term)}(?![^\W_])")
        return any(word.search(part.lower()) for parts in items for part in parts)

    present += [
        s for s, t in spelling_of.items() if (t in present or not holds_word(t)) and singles_out(s)
    ]
    terms = [*terms, *spelling_of]
    pattern = question_hits.term_pattern(present)
    if pattern is None:
        return set()
    needles = [t[1:] if t.startswith("#") else t for t in present]
    found = [
        {
            question_hits._canonical(m, terms, {})
            for part in parts
            if any(x in part.lower() for x in needles)
            for m in pattern.findall(part)
        }
        for parts in items
    ]
    # a spelling whose term, with all its spellings, more than half of the items hold
    # counts for nothing (nor does the term)
    half = max(n // 2, 1)
    merged = [{spelling_of.get(t, t) for t in hits} for hits in found]
    common = {t for t in set().union(*merged) if sum(t in m for m in merged) > half}
    found = [{t for t in hits if spelling_of.get(t, t) not in common} for hits in found]
    return _reference_rank(found, n, max_keep, keep_ties)


@settings(max_examples=300, deadline=None)
@given(_ITEMS)
def test_item_signal_tiers_match_the_per_part_reference(items: list[list[str]]) -> None:
    assert signals.item_signal_tiers(items) == _reference_item_tiers(items)


@settings(max_examples=300, deadline=None)
@given(_ITEMS, _TERMS, st.integers(min_value=0, max_value=5), st.booleans())
def test_item_question_hits_match_the_per_part_reference(
    items: list[list[str]], terms: list[str], max_keep: int, keep_ties: bool
) -> None:
    expected = _reference_item_hits(items, terms, max_keep, keep_ties)
    assert question_hits.item_question_hits(items, terms, max_keep, keep_ties) == expected


@settings(max_examples=300, deadline=None)
@given(_ITEMS, st.data())
def test_signal_tiers_over_a_shared_index_match_their_own(
    items: list[list[str]], data: st.DataObject
) -> None:
    """The index over every part of each item (shared with the question search) finds the
    same signal tiers as one over the item's signal texts, a subset of its parts."""
    signal = [
        [part for part in parts if data.draw(st.booleans(), label="is a signal text")]
        for parts in items
    ]
    shared = PartIndex(items)
    assert signals.item_signal_tiers(signal, shared) == _reference_item_tiers(signal)
    terms = data.draw(_TERMS)
    assert question_hits.item_question_hits(
        items, terms, 3, True, shared
    ) == question_hits.item_question_hits(items, terms, 3, True)


def test_items_matching_the_question_alike_are_kept_together() -> None:
    # "which clients hit 'directory index forbidden'": 32 of 2000 lines match the same terms;
    # keeping 25 of them by position would lose 7 of the answer
    lines = [f"[client 10.0.0.{i}] File does not exist: /var/www/{i}" for i in range(2000)]
    matching = list(range(40, 2000, 61))[:32]
    for i in matching:
        lines[i] = f"[client 10.1.0.{i}] Directory index forbidden by rule: /var/www/"
    terms = ["directory", "index", "forbidden"]
    assert question_hits.question_hits(lines, terms, 25) == set(matching)
    # without ties: 25, the first 24 and the last (the first and the last occurrence)
    cut = question_hits.question_hits(lines, terms, 25, keep_ties=False)
    assert cut == {*matching[:24], matching[-1]}
    last_first = question_hits.question_hits(lines, terms, 25, keep_ties=False, from_end=True)
    assert last_first == {*matching[-24:], matching[0]}
    # 32 alike in 2000 lines is more than twice 10, but not more than one in ten
    assert question_hits.question_hits(lines, terms, 10) == set(matching)
    # 177 alike: still one answer
    many = list(range(7, 2000, 11))[:148]
    for i in many:
        lines[i] = f"[client 10.2.0.{i}] Directory index forbidden by rule: /var/www/"
    alike = sorted(set(matching) | set(many))
    assert len(alike) == 177 and question_hits.question_hits(lines, terms, 10) == set(alike)
    # more alike than that (>200 = max(2 * 10, 2000 // 10)): cut at max_keep, by position,
    # keeping the last
    for i in range(1, 2000, 50):
        lines[i] = f"[client 10.3.0.{i}] Directory index forbidden by rule: /var/www/"
    alike = sorted(set(alike) | set(range(1, 2000, 50)))
    assert len(alike) > 200
    assert question_hits.question_hits(lines, terms, 10) == {*alike[:9], alike[-1]}


def test_item_search_is_the_joined_search_on_plain_parts() -> None:
    items = [["id", str(i), "state", "closed"] for i in range(30)]
    items[4] = ["id", "4", "state", "open", "note", "replay failed"]
    joined = ["\n".join(parts) for parts in items]
    assert signals.item_signal_tiers(items) == signals.signal_tiers(joined) == [{4}, set()]
    assert question_hits.item_question_hits(items, ["replay"], 5) == {4}
    assert question_hits.question_hits(joined, ["replay"], 5) == {4}


def test_item_scans_keep_plain_parts_fast_beside_odd_ones() -> None:
    # one Turkish name must not hide the error of another item, nor shift its index
    items: list[list[str]] = [["name", f"country {i}"] for i in range(40)]
    items[3] = ["name", "Türkiye Cumhuriyeti İstanbul ılık"]
    items[17] = ["name", "disk error", "country 17"]
    assert signals.item_signal_tiers(items)[0] == {17}
    assert question_hits.item_question_hits(items, ["türkiye", "17"], 5) == {3, 17}


def test_signal_positions_map_to_the_right_text() -> None:
    texts = ["all fine", "", "ok", "disk error here", "ok", "fine", "ok", "a failure", "ok"]
    assert signals.signal_tiers(texts)[0] == {3, 7}
    # the word boundary is a real newline inside a text, not the letter after an escape
    assert signals.signal_tiers(["ok", "line one\nerror two", "ok", "ok"])[0] == {1}
    assert signals.signal_tiers(["ok", "literal \\nerror", "ok", "ok"])[0] == set()


def test_lowercase_that_changes_length_keeps_positions() -> None:
    # "İ".lower() is two characters: the scan must not shift later texts' positions
    texts = ["İİİİ ok", "İ", "fine", "an error", "ok", "ok"]
    assert signals.signal_tiers(texts) == _reference_tiers(texts)
    assert question_hits.question_hits(texts, ["error"], 5) == {3}


def test_empty_valued_keys_are_no_signal() -> None:
    items: list[dict[str, Any]] = [
        {"id": i, "error": None, "failed": False, "errors": [], "msg": "ok"} for i in range(30)
    ]
    items[7] = {**items[7], "error": "disk full"}
    texts = [" ".join(item_parts(item)[1]) for item in items]
    assert signals.signal_tiers(texts)[0] == {7}
    assert signals.item_signal_tiers([item_parts(item)[1] for item in items])[0] == {7}


def test_text_scan_holders_and_word_holders() -> None:
    scan = TextScan(["abc", "xabc", "", "ABC d", "ab\nc"])
    assert scan.exact
    assert scan.holders("abc") == [0, 1, 3]
    assert scan.holders("c") == [0, 1, 3, 4]
    assert scan.pattern_holders(["abc"], re.compile(r"(?<![A-Za-z])abc", re.I)) == {0, 3}


_SCAN_TEXT = st.text(alphabet="abAB x\n", max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SCAN_TEXT, max_size=40), st.sampled_from(["a", "ab", "ba", "x a", "abab"]))
def test_holders_once_many_texts_hold_a_needle_match_the_per_text_reference(
    texts: list[str], needle: str
) -> None:
    """After a few hits (two here, as if two were many) the texts left are tested one by one:
    the same answers as a search of each text."""
    many = text_scan._MANY_HITS
    text_scan._MANY_HITS = 2
    try:
        scan = TextScan(texts)
        assert scan.holders(needle) == [i for i, t in enumerate(texts) if needle in t.lower()]
        pattern = re.compile(rf"(?<![A-Za-z]){re.escape(needle)}b", re.I)
        expected = {i for i, t in enumerate(texts) if pattern.search(t)}
        assert scan.pattern_holders([needle], pattern) == expected
    finally:
        text_scan._MANY_HITS = many


def _reference_walk(value: Any, values: list[str], signal: list[str], depth: int) -> None:
    """The plain recursive form of json_compress._walk (one call per value)."""
    if depth > 6:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            if inner not in (None, False, "", [], {}):
                signal.append(str(key))
            values.append(str(key))
            _reference_walk(inner, values, signal, depth + 1)
    elif isinstance(value, list):
        for inner in value[:50]:
            _reference_walk(inner, values, signal, depth + 1)
    elif isinstance(value, str):
        values.append(value)
        signal.append(value)
    elif value is not None and not isinstance(value, bool):
        values.append(str(value))


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False, width=16)
    | st.sampled_from(["", "error", "ok"])
)
_items = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=55)
        | st.dictionaries(st.sampled_from(["a", "error", "b", ""]), children, max_size=4)
    ),
    max_leaves=80,
)


@settings(max_examples=300, deadline=None)
@given(_items)
def test_item_parts_match_the_plain_recursive_walk(item: Any) -> None:
    values: list[str] = []
    signal: list[str] = []
    _reference_walk(item, values, signal, 0)
    assert item_parts(item) == (values, signal)


def test_item_parts_stop_at_the_depth_limit_like_the_plain_walk() -> None:
    item: Any = {"error": "x", "n": 1}
    for depth in range(9):
        item = {"level": [item, depth, "s"], "k": {"z": 0, "t": True}}
        values: list[str] = []
        signal: list[str] = []
        _reference_walk(item, values, signal, 0)
        assert item_parts(item) == (values, signal)


def test_signal_scans_are_memoised_per_list_and_bounded() -> None:
    from headroom.options import ToolProfile
    from headroom.transforms import json_compress
    from headroom.transforms.json_compress import Shrinker

    rows = [{"id": i, "state": "ok" if i != 17 else "failed"} for i in range(300)]
    shrinker = Shrinker(ToolProfile(), ("#42",))
    first = shrinker._signal_indices(rows)
    assert 17 in first[0] and 42 in first[1]
    assert shrinker._signal_indices(rows) == first  # from the memo
    other = [dict(row) for row in rows]
    other[99]["state"] = "crashed"
    assert 99 in shrinker._signal_indices(other)[0]  # another list: scanned on its own
    for _ in range(json_compress._SIGNALS_MEMO_ENTRIES + 5):
        shrinker._signal_indices([{"id": 1}] * 30)
    assert len(json_compress._signals_memo) <= json_compress._SIGNALS_MEMO_ENTRIES


# -- rare values: the column-wise build against the row-by-row flattening it replaces ------


def _reference_rare(items: list[Any], max_share: float = 0.05) -> set[int]:
    """rare_category_indices as it was: each item flattened, one column per flattened key."""
    if not all(isinstance(item, dict) for item in items) or len(items) < 8:
        return set()
    limit = max(1, int(len(items) * max_share))
    flat = [rare_values._flatten(item) for item in items]
    keys: dict[str, None] = {}
    for row in flat:
        keys.update(dict.fromkeys(row))
    keep: set[int] = set()
    for key in keys:
        raw = [row.get(key, rare_values._MISSING) for row in flat]
        reprs = list(map(repr, raw))
        if len(set(reprs)) <= 12:
            column = reprs
        else:
            column = ["-" if v is None or v is rare_values._MISSING else "+" for v in raw]
        counts: dict[str, int] = {}
        for value in column:
            counts[value] = counts.get(value, 0) + 1
        if len(counts) < 2 or max(counts.values()) < 0.5 * len(items):
            continue
        keep.update(i for i, value in enumerate(column) if counts[value] <= limit)
    return keep


_FIELD = st.sampled_from(["a", "b", "a.b", "b.c", "state", "head"])
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=30),
    st.sampled_from([0.0, -0.0, 1.0, 1.5]),
    st.sampled_from(["open", "closed", "1", ""]),
    st.text(alphabet="xyz", min_size=2, max_size=3),
)
_VALUE = st.one_of(
    _SCALAR,
    st.lists(_SCALAR, max_size=2),
    st.dictionaries(_FIELD, st.one_of(_SCALAR, st.lists(_SCALAR, max_size=1)), max_size=3),
)
_ROWS = st.lists(st.dictionaries(_FIELD, _VALUE, max_size=5), min_size=8, max_size=60)


@settings(max_examples=400, deadline=None)
@given(_ROWS)
def test_rare_values_match_the_row_by_row_reference(items: list[dict[str, Any]]) -> None:
    assert rare_values.rare_category_indices(items) == _reference_rare(items)


def test_rare_values_with_colliding_dotted_names() -> None:
    items: list[dict[str, Any]] = [{"a": {"b": "x"}, "a.b": "y"} for _ in range(20)]
    # row by row, the later of two same-named fields wins: here the nested "z"
    items[5] = {"a.b": "y", "a": {"b": "z"}}
    assert rare_values.rare_category_indices(items) == _reference_rare(items) == {5}


# -- cache alignment: one search of the whole prompt decides whether any line needs a look --

_PROMPT_PIECES = [
    "You are helpful.",
    "Today is",
    " Wednesday, September 3, 2025",
    "2025-09-19",
    "T08:53:01Z",
    "14:32",
    " 2:05 PM",
    "03/09/2025",
    "Fri May 23 15:44:22 UTC 2025",
    "05 April 2025",
    "Sep.",
    " 3,",
    " ",
    "\n",
    "\r\n",
    ".",
    "1",
    ":",
    "x" * 30,
]


def _reference_align(text: str) -> tuple[str, list[str]]:
    """cache_alignment._align as it was: every line searched."""
    static, existing = cache_alignment.split_context(text)
    moved: list[str] = []
    lines_out: list[str] = []
    lines = static.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line in lines:
        if len(line) <= cache_alignment._MAX_LINE and find_dynamic_values(line):
            kept, taken = cache_alignment._take_dynamic_sentences(line)
            moved.extend(taken)
            if kept.strip() or not taken:
                lines_out.append(kept)
        else:
            lines_out.append(line)
    if len(moved) > cache_alignment._MAX_MOVED:
        moved, lines_out = [], lines
    normalised = cache_alignment._normalise("\n".join(lines_out))
    if existing is not None:
        moved = [existing, *moved]
    return normalised, moved


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PROMPT_PIECES), max_size=30).map("".join))
def test_alignment_matches_the_line_by_line_reference(text: str) -> None:
    assert cache_alignment._align(text) == _reference_align(text)


_DATE_PIECES = [
    *_PROMPT_PIECES,
    "Mon",
    "mon",
    "Sept",
    "Thurs",
    "of",
    "\u0663",  # an Arabic-Indic digit: \d matches it
    "at",
    "UTC",
    "+02:00",
    "/",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_DATE_PIECES), max_size=30).map("".join))
def test_dynamic_value_lookahead_changes_no_match(text: str) -> None:
    prefix = r"(?=[\dADFJMNOSTW])(?:"
    assert DYNAMIC_VALUE.pattern.startswith(prefix) and DYNAMIC_VALUE.pattern.endswith(")")
    plain = re.compile(DYNAMIC_VALUE.pattern[len(prefix) : -1])
    assert find_dynamic_values(text) == [m.span() for m in plain.finditer(text)]
    assert cache_alignment._align(text) == _reference_align(text)


# -- first-letter gates: the same matches as the patterns without them -----------------------


def _ungated(pattern: re.Pattern[str]) -> re.Pattern[str]:
    gate = re.match(r"\(\?=\[[^\]]*\]\)", pattern.pattern)
    assert gate is not None, "the pattern starts with its gate"
    return re.compile(pattern.pattern[gate.end() :], pattern.flags)


_GATE_TERMS = st.lists(
    st.sampled_from(
        ["error", "kill", "#49", "49", "test/issue.py", "segfault", "invalid", "ünïcode", "x"]
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(_TEXT, _GATE_TERMS)
def test_first_letter_gates_change_no_match(text: str, terms: list[str]) -> None:
    term_pattern = question_hits.term_pattern(terms)
    for pattern in (signals.ERROR_SIGNAL, signals.WARNING_SIGNAL, term_pattern):
        assert pattern is not None
        plain = _ungated(pattern)
        assert [m.span() for m in pattern.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ]


# -- question terms: each text's words memoised apart, joined as if read in one go --------

_QUESTION_WORDS = st.sampled_from(
    [
        "the",
        "issue",
        "Issue",
        "#49",
        "49",
        "7",
        "fields.py",
        "test/Issue.py",
        "a-b",
        "limit",
        "ran",
        "MemoryStore",
        "ok",
        "x1",
        "__init__",
        "@user",
        "v2.0",
        "and",
        "#7",
        "#1234",
        "March",
        "issues",
        "Entries",
        "May",
        "9th",
        "of",
        "2021",
        "6:19",
        "pm",
        "2021/03/09",
        "\n",
    ]
)
_QUESTION_TEXT = st.lists(
    st.one_of(_QUESTION_WORDS, st.integers(0, 400).map(lambda i: f"w{i}")), max_size=300
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_QUESTION_TEXT, _QUESTION_TEXT, st.sampled_from([1, 3, 48, 200]))
def test_question_terms_from_memoised_parts_match_reading_the_whole_text(
    first: str, second: str, limit: int
) -> None:
    joined = f"{first}\n{second}"
    expected = questions._terms_read(joined, limit)
    assert questions._terms_of_parts((first, second), limit) == expected
    assert questions._terms_of_parts((first,), limit) == questions._terms_read(first, limit)


def test_question_terms_of_a_part_with_more_words_than_are_memoised() -> None:
    first = " ".join(f"w{i}" for i in range(300))
    for limit in (48, 200, 400):
        expected = questions._terms_read(f"{first}\nsecond words", limit)
        assert questions._terms_of_parts((first, "second words"), limit) == expected
