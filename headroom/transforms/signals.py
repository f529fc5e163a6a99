"""Error and warning signals: the words that mark a value or a log line as worth keeping.
Shared by the JSON and the text compressors (a question's terms: question_hits; values that
stand out in a list: rare_values)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .part_index import PartIndex
from .text_scan import TextScan

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


def item_signal_tiers(
    items: Sequence[Sequence[str]], index: PartIndex | None = None
) -> list[set[int]]:
    """``signal_tiers`` for items made of text parts (a JSON array item's keys and values),
    each distinct part scanned once; a match lies inside one part. ``index`` may be built
    over more of each item's parts than ``items`` holds (all of them, shared with the
    question search): what a part holds is the same, and only ``items`` say who holds it."""
    own = index is None
    index = PartIndex(items) if index is None else index
    hits: list[set[int]] = [set(), set()]
    for scan, first in index.scans():
        for tier, found in zip(hits, _scan_signal_hits(scan), strict=True):
            tier.update(first + i for i in found)
    lists = None if own else items
    return [_at_most_half(index.items_holding(tier, lists), len(items)) for tier in hits]


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
