"""Which items of a JSON list a question names word for word: a title, a login, a timestamp.

Question terms find most things a later question asks about, but not a title made of common
words ("All Because Of You"), a name written in lowercase (``rappoccio``) or in another script
(``Fääri saared``), or a log message copied without quotes. Those are found by a test that
cannot mislead: a span of the question's words that is, as written or in its usual
capitalisations, a whole value of an item. Only values that at most ``MAX_HOLDERS`` items hold
single an item out. Values are looked up, never scanned: a question about a long chat costs
a few dictionary lookups per list.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from ..questions import KANA_HAN, KANA_HAN_RUNS, is_stopword
from .part_index import PartIndex

MAX_WORDS = 64  # a longer question (a pasted issue text) is not read span by span
MAX_SPAN_WORDS = 16
MAX_HOLDERS = 3
# Letters and digits of any script; Japanese and Chinese cut where the script changes.
_WORD = re.compile(f"{KANA_HAN_RUNS}|[^\\W_{KANA_HAN}]+")
_END = re.compile(r"[^\s\w]*")  # the punctuation right after a word
_SENTENCE_END = re.compile(r"[.!?;:\n]")  # between two words: the second starts a sentence


@functools.lru_cache(maxsize=2048)
def question_spans(question: str) -> frozenset[str]:
    """Every run of up to ``MAX_SPAN_WORDS`` words of ``question`` from its first word to its
    last (and to the punctuation after that), as written and, for several words, in the other
    usual capitalisations (``_spellings``); common words, numbers under four digits,
    single letters and the first word of a sentence alone left out ("Thanks. One more
    question" does not ask about the track "One")."""
    words = list(_WORD.finditer(question))
    if len(words) > MAX_WORDS:
        return frozenset()
    ends = [_punctuation_end(question, w.end()) for w in words]
    spans: set[str] = set()
    previous_end = 0
    for i, first in enumerate(words):
        gap = question[previous_end : first.start()]
        previous_end = first.end()
        alone = 1 if i == 0 or _SENTENCE_END.search(gap) else 0
        for j in range(i + alone, min(i + MAX_SPAN_WORDS, len(words))):
            spans.add(question[first.start() : words[j].end()])
            spans.add(question[first.start() : ends[j]])  # with a closing "." or ")"
    return frozenset(_spellings(s for s in spans if _may_name(s)))


def _spellings(spans: Iterable[str]) -> set[str]:
    """Each span as written; one of several words also in its other usual capitalisations (a
    single word only as written: "the very last one" does not ask about the track "One")."""
    found: set[str] = set()
    for span in spans:
        found.add(span)
        if len(_WORD.findall(span)) > 1:
            found.update((span.lower(), span.upper(), span.title(), span[:1].upper() + span[1:]))
    return found


def _punctuation_end(text: str, at: int) -> int:
    found = _END.match(text, at)
    return at if found is None else found.end()


def _may_name(span: str) -> bool:
    """Not a common word, and not a number of one to three digits (a count, a page)."""
    if len(span) < 2 or is_stopword(span.lower()):
        return False
    return not (span.isdigit() and len(span) < 4)


def named_values(index: PartIndex, spans: frozenset[str]) -> set[str]:
    """The ``spans`` that are whole values (or keys) in the items of ``index``."""
    return set(index.occurrences.keys() & spans)  # C-level: the smaller side is iterated


def named_items(index: PartIndex, spans: frozenset[str]) -> set[int]:
    """Indices of the items holding a value that one of ``spans`` spells out whole, for each
    such value held by at most ``MAX_HOLDERS`` items."""
    kept: set[int] = set()
    for value in sorted(named_values(index, spans)):
        if index.occurrences[value] <= MAX_HOLDERS:
            holders = index.items_holding_texts({value})
            if len(holders) <= MAX_HOLDERS:
                kept |= holders
    return kept
