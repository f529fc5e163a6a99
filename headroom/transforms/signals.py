"""What marks a piece of tool output as worth keeping: an error or failure, a term from the
user's question, or a numeric extreme. Shared by the JSON and the text compressors."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain

from .part_index import PartIndex
from .text_scan import CASEFOLD_SPECIALS, TextScan

_ERROR_WORDS_PATTERN = (
    r"error|errors|errno|fail|fails|failed|failure|failures|failing|fatal"
    r"|exception|exceptions|critical|crit|panic|traceback|denied|forbidden|refused|crash|crashed"
    r"|unauthorized|severe|emerg|segfault|stack ?trace|E/|F/"
)
_WARNING_WORDS_PATTERN = (
    r"warn|warning|warnings|timeout|timed out|unable|cannot|could not"
    r"|not found|invalid|rejected|broken|unhealthy|oom|killed|abort|aborted|W/"
)


def first_letter_gate(starts: Iterable[str]) -> str:
    """A lookahead for the first characters of ``starts`` (how each alternative's match
    begins, as literal text): a search then skips, at the cost of one class test, every
    position no alternative can start at, instead of trying each one there (several times
    faster on long text, and no change to what matches, case-insensitive or not)."""
    firsts = sorted({start[:1] for start in starts})
    return "(?=[" + "".join(re.escape(c) for c in firsts) + "])"


def _word_signal(words: str) -> re.Pattern[str]:
    return re.compile(
        first_letter_gate(words.split("|")) + r"(?<![A-Za-z])(?:" + words + r")(?![A-Za-z])",
        re.IGNORECASE,
    )


# Words that flag an error or a failure in a value or a log line ...
ERROR_SIGNAL = _word_signal(_ERROR_WORDS_PATTERN)
# ... and words that flag something weaker: a warning, a timeout, a rejection.
WARNING_SIGNAL = _word_signal(_WARNING_WORDS_PATTERN)


def has_error_signal(text: str) -> bool:
    return ERROR_SIGNAL.search(text) is not None


# Substrings every match of each pattern contains: a cheap test before the regex runs.
_ERROR_ANCHORS = (
    "err",
    "fail",
    "fatal",
    "exception",
    "crit",
    "panic",
    "traceback",
    "denied",
    "forbidden",
    "refused",
    "crash",
    "unauthorized",
    "severe",
    "emerg",
    "segfault",
    "stack",
    "e/",
    "f/",
)
_WARNING_ANCHORS = (
    "warn",
    "timeout",
    "timed out",
    "unable",
    "cannot",
    "could not",
    "not found",
    "invalid",
    "rejected",
    "broken",
    "unhealthy",
    "oom",
    "killed",
    "abort",
    "w/",
)


def _matching(
    texts: Sequence[str], lowered: Sequence[str], anchors: Sequence[str], pattern: re.Pattern[str]
) -> set[int]:
    return {
        i
        for i, low in enumerate(lowered)
        if any(anchor in low for anchor in anchors) and pattern.search(texts[i])
    }


# The anchors without spaces: what a match's first word must contain in the lowercased text.
_ERROR_WORDS = tuple(a.split(" ")[0] for a in _ERROR_ANCHORS)
_WARNING_WORDS = tuple(a.split(" ")[0] for a in _WARNING_ANCHORS)


def signal_tiers(texts: Sequence[str]) -> list[set[int]]:
    """[errors, warnings]: indices of texts in each tier, a tier left empty when more than
    half of the texts carry it (then the word singles nothing out)."""
    return [_at_most_half(hits, len(texts)) for hits in _signal_hits(texts)]


def item_signal_tiers(items: Sequence[Sequence[str]]) -> list[set[int]]:
    """``signal_tiers`` for items made of text parts (a JSON array item's keys and values),
    each distinct part scanned once; a match lies inside one part."""
    index = PartIndex(items)
    hits: list[set[int]] = [set(), set()]
    for scan, first in _part_scans(index):
        for tier, found in zip(hits, _scan_signal_hits(scan), strict=True):
            tier.update(first + i for i in found)
    return [_at_most_half(index.items_holding(tier), len(items)) for tier in hits]


def _part_scans(index: PartIndex) -> list[tuple[TextScan, int]]:
    """Scans over ``index``'s parts, each with the index of its first part: one scan, or,
    when some parts cannot be searched joined (``TextScan.exact``, ``CASEFOLD_SPECIALS``),
    the others in one scan and those after them in a second, searched part by part. The
    parts are reordered to match; a few Turkish names no longer slow down the whole list."""
    scan = TextScan(index.parts)
    if scan.exact and not scan.casefold_specials:
        return [(scan, 0)]
    odd_at = scan.holding_any(CASEFOLD_SPECIALS)
    plain = [part for i, part in enumerate(index.parts) if i not in odd_at]
    plain_scan = TextScan(plain)
    if not plain_scan.exact:  # a character other than the specials changes length
        odd_at = {i for i, part in enumerate(index.parts) if _odd(part)}
        plain = [part for i, part in enumerate(index.parts) if i not in odd_at]
        plain_scan = TextScan(plain)
    odd = [index.parts[i] for i in sorted(odd_at)]
    index.parts = plain + odd
    return [(plain_scan, 0), (TextScan(odd), len(plain))]


def _odd(text: str) -> bool:
    """Whether a joined scan cannot search ``text`` exactly."""
    return len(text.lower()) != len(text) or any(c in text for c in CASEFOLD_SPECIALS)


def _at_most_half(hits: set[int], n: int) -> set[int]:
    return hits if len(hits) <= n // 2 else set()


def _signal_hits(texts: Sequence[str]) -> list[set[int]]:
    """[errors, warnings]: indices of the texts each pattern matches in."""
    return _scan_signal_hits(TextScan(texts))


def _scan_signal_hits(scan: TextScan) -> list[set[int]]:
    texts = scan.texts
    if not scan.exact or scan.casefold_specials:
        lowered = [text.lower() for text in texts]
        return [
            _matching(texts, lowered, _ERROR_ANCHORS, ERROR_SIGNAL),
            _matching(texts, lowered, _WARNING_ANCHORS, WARNING_SIGNAL),
        ]
    return [
        _scanned_hits(scan, _ERROR_WORDS, ERROR_SIGNAL),
        _scanned_hits(scan, _WARNING_WORDS, WARNING_SIGNAL),
    ]


def _scanned_hits(scan: TextScan, words: Sequence[str], pattern: re.Pattern[str]) -> set[int]:
    """The texts ``pattern`` matches in, found from the joined texts.

    Every alternative of the patterns starts, after a non-letter, with its anchor's first
    word, so (with no ``CASEFOLD_SPECIALS`` in the texts) a text matches exactly when the
    pattern matches at such a word, and then it also holds the anchor ``_matching`` asks for.
    """
    return scan.pattern_holders(words, pattern)


def _term_regex(term: str) -> str:
    # Numbers match whole (49 is not 1492, but 2012-05-28 matches 2012-05-28T13:58);
    # words match at a word start (replay matches ReplayData and replays).
    if term.startswith("#") and term[1:].isdigit():
        # "#49": the number as a whole value, a path segment or a "#49" reference.
        return rf"(?:(?<=[\s#/])|^){term[1:]}(?=[\s/?#]|$)"
    body = re.escape(term)
    left = "(?<![0-9])" if term[:1].isdigit() else "(?<![A-Za-z0-9])"
    right = "(?![0-9])" if term[-1:].isdigit() else ""
    return f"{left}{body}{right}"


def term_pattern(terms: Sequence[str], ignore_case: bool = True) -> re.Pattern[str] | None:
    """One regex matching any of ``terms``, case-insensitively (or, for lowercased text and
    lowercase terms, as they are: compiling that costs a quarter as much)."""
    return _term_pattern(terms, ignore_case) if terms else None


def _term_pattern(terms: Sequence[str], ignore_case: bool) -> re.Pattern[str]:
    ordered = sorted(set(terms), key=lambda t: (-len(t), t))
    body = "|".join(_term_regex(t) for t in ordered)
    starts = [_match_start(t) for t in ordered]
    if all(starts):
        body = first_letter_gate(starts) + "(?:" + body + ")"
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


def _canonical(match: str, terms: Sequence[str]) -> str:
    lowered = match.lower()
    if lowered.isdigit() and "#" + lowered in terms and lowered not in terms:
        return "#" + lowered
    return lowered


def question_hits(
    texts: Sequence[str], terms: Sequence[str], max_keep: int = 25, keep_ties: bool = True
) -> set[int]:
    """Indices of ``texts`` that the question's terms single out.

    Terms found in more than half of the texts single nothing out (``capital`` in a list of
    countries) and are ignored. Every text holding a term that at most three texts hold is
    kept; the rest are ranked by the summed rarity (idf) of the terms they hold and the best
    ``max_keep`` are kept (with ``keep_ties``, every text tied with the last one kept when
    that is at most twice as many), ties otherwise broken by position: deterministic.
    """
    if not terms or not texts:
        return set()
    n = len(texts)
    scan = TextScan(texts)
    present = [term for term in terms if _singles_out(scan, term, n)]
    return _ranked_hits(_term_matches(scan, present), terms, n, max_keep, keep_ties)


def item_question_hits(
    items: Sequence[Sequence[str]],
    terms: Sequence[str],
    max_keep: int = 25,
    keep_ties: bool = True,
) -> set[int]:
    """``question_hits`` for items made of text parts (a JSON array item's keys and values),
    each distinct part scanned once; a match lies inside one part."""
    if not terms or not items:
        return set()
    n = len(items)
    index = PartIndex(items)
    scans = _part_scans(index)
    present = [term for term in terms if _singles_out_of_items(scans, index, term, n)]
    matches: dict[int, list[str]] = {}
    for scan, first in scans:
        matches.update((first + i, found) for i, found in _term_matches(scan, present).items())
    return _ranked_hits(index.gather(matches), terms, n, max_keep, keep_ties)


def _term_matches(scan: TextScan, present: Sequence[str]) -> dict[int, list[str]]:
    """For the texts holding one of the ``present`` terms, their matches (possibly none;
    lowercase where the texts could be searched lowercased)."""
    if not present:
        return {}
    starts = [_match_start(t) for t in present]
    if scan.exact and not scan.casefold_specials and all(map(_plain_needle, starts)):
        # lowercase ASCII terms in texts whose lowercase form keeps every position: a
        # case-insensitive match is exactly a plain match in the lowercased text
        return scan.findall(starts, _term_pattern(present, ignore_case=False), True)
    pattern = _term_pattern(present, ignore_case=True)
    holders = _term_holders(scan, present)
    holding = sorted({i for term in present for i in holders[term]})
    return {i: pattern.findall(scan.texts[i]) for i in holding}


def _ranked_hits(
    matches: dict[int, list[str]], terms: Sequence[str], n: int, max_keep: int, keep_ties: bool
) -> set[int]:
    """The texts to keep out of ``n``, from each text's matches (``question_hits``)."""
    candidates = sorted(matches)
    found = [{_canonical(m, terms) for m in matches[i]} for i in candidates]
    df: dict[str, int] = {}
    for hits in found:
        for term in hits:
            df[term] = df.get(term, 0) + 1
    useful = {t: math.log(n / c) for t, c in df.items() if c <= max(n // 2, 1)}
    if not useful:
        return set()
    pairs = list(zip(candidates, found, strict=True))
    keep = {i for i, hits in pairs if any(df[t] <= 3 and t in useful for t in hits)}
    # fsum: the same score whatever order a set of terms is iterated in (hash seeds differ)
    scored = [(math.fsum(useful.get(t, 0.0) for t in hits), i) for i, hits in pairs]
    ranked = sorted((p for p in scored if p[0] > 0), key=lambda p: (-p[0], p[1]))
    keep.update(i for _, i in ranked[: _with_ties(ranked, max_keep) if keep_ties else max_keep])
    return keep


def _with_ties(ranked: list[tuple[float, int]], max_keep: int) -> int:
    """How many of ``ranked`` to keep: ``max_keep``, or every item tied with the last one
    kept when that is at most twice as many. Items holding the same question terms are one
    answer ("which clients hit this error": all 32 of them), not a cut to make by position."""
    if max_keep <= 0 or len(ranked) <= max_keep:
        return max_keep
    last = ranked[max_keep - 1][0]
    end = max_keep
    while end < len(ranked) and ranked[end][0] == last:
        end += 1
    return end if end <= 2 * max_keep else max_keep


def _singles_out(scan: TextScan, term: str, n: int) -> bool:
    """Whether some text holds ``term`` (lowercase, a ``#49`` reference as ``49``) and it is
    not in nearly every text: a word in 90% of the texts even as a substring cannot single
    anything out; numbers and #refs match more strictly than as substrings, so they always
    stay. Counting occurrences (one C call) settles it unless they exceed 90% of the texts."""
    anchor = term[1:] if term.startswith("#") else term
    dense_ok = n < 4 or any(c.isdigit() for c in anchor)
    if scan.exact and anchor and "\n" not in anchor:
        occurrences = scan.lowered.count(anchor)
        if occurrences == 0:
            return False
        if dense_ok or occurrences <= 0.9 * n:
            return True  # holders <= occurrences
        return scan.count_holders(anchor) <= 0.9 * n
    held = len(_term_holders(scan, [term])[term])
    return held > 0 and (held <= 0.9 * n or dense_ok)


def _singles_out_of_items(
    scans: list[tuple[TextScan, int]], index: PartIndex, term: str, n: int
) -> bool:
    """``_singles_out`` for ``n`` items whose distinct parts ``scans`` hold."""
    anchor = term[1:] if term.startswith("#") else term
    dense_ok = n < 4 or any(c.isdigit() for c in anchor)
    part_holders: list[int] = []
    for scan, first in scans:
        if scan.exact and anchor and "\n" not in anchor:
            if anchor not in scan.lowered:
                continue
            if dense_ok:
                return True
            found = scan.holders(anchor)
        else:
            found = _term_holders(scan, [term])[term]
        part_holders.extend(first + i for i in found)
    held = len(index.items_holding(part_holders))
    return held > 0 and (held <= 0.9 * n or dense_ok)


def _match_start(term: str) -> str:
    """What a match of ``term``'s regex starts with (``#49`` matches as ``49``)."""
    return term[1:] if term.startswith("#") and term[1:].isdigit() else term


def _plain_needle(needle: str) -> bool:
    """Lowercase ASCII without a newline: then (with no ``CASEFOLD_SPECIALS`` in the texts)
    a case-insensitive match of it shows as the needle itself in the lowercased text."""
    return bool(needle) and needle.isascii() and needle == needle.lower() and "\n" not in needle


def _term_holders(scan: TextScan, terms: Sequence[str]) -> dict[str, list[int]]:
    """For each term, the indices of the texts whose lowercase form contains it (a ``#49``
    reference as ``49``)."""
    needles = {term: term[1:] if term.startswith("#") else term for term in terms}
    texts = scan.texts
    if scan.exact and not any("\n" in needle for needle in needles.values()):
        return {term: scan.holders(needle) for term, needle in needles.items()}
    lowered = [text.lower() for text in texts]
    return {
        term: [i for i, low in enumerate(lowered) if needle in low]
        for term, needle in needles.items()
    }


def extreme_indices(columns: Iterable[Sequence[float | None]]) -> set[int]:
    """For each numeric column, the index of its largest and of its smallest value."""
    keep: set[int] = set()
    for column in columns:
        values = [(v, i) for i, v in enumerate(column) if v is not None]
        if len(values) < 3:
            continue
        high = max(values, key=lambda p: (p[0], -p[1]))
        low = min(values, key=lambda p: (p[0], p[1]))
        if high[0] != low[0]:
            keep.add(high[1])
            keep.add(low[1])
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
        reprs = list(map(repr, raw))
        if len(set(reprs)) <= 12:
            counts = Counter(reprs)
            if len(counts) < 2 or max(counts.values()) < 0.5 * n:
                return ()  # no usual value to deviate from
            if min(counts.values()) > limit:
                return ()
            return [i for i, value in enumerate(reprs) if counts[value] <= limit]
    # high-cardinality field: only its presence can be rare
    missing = raw.count(None) + raw.count(_MISSING)
    if not 0 < missing < n or max(missing, n - missing) < 0.5 * n:
        return ()
    if missing <= limit:
        return [i for i, v in enumerate(raw) if v is None or v is _MISSING]
    if n - missing <= limit:
        return [i for i, v in enumerate(raw) if v is not None and v is not _MISSING]
    return ()


def _field_columns(items: Sequence[dict[str, object]]) -> list[list[object]]:
    """For each scalar field of the items, one level of nesting included (``head.label``),
    its value in every item (``_MISSING`` where absent). Built column by column; when two
    fields would share a dotted name, row by row as ``_flatten`` defines them."""
    columns: dict[str, list[object]] = {}
    for key in dict.fromkeys(chain.from_iterable(items)):
        if key in columns:  # a nested field's dotted name
            return _flattened_columns(items)
        values = [item.get(key, _MISSING) for item in items]
        if not any(issubclass(kind, (dict, list)) for kind in set(map(type, values))):
            columns[key] = values
            continue
        columns[key] = [_MISSING if isinstance(v, (dict, list)) else v for v in values]
        inner_dicts = [v if isinstance(v, dict) else _NO_DICT for v in values]
        for inner_key in dict.fromkeys(chain.from_iterable(inner_dicts)):
            name = f"{key}.{inner_key}"
            if name in columns:
                return _flattened_columns(items)
            column = [d.get(inner_key, _MISSING) for d in inner_dicts]
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
