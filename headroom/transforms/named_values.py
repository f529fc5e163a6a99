"""Which items of a JSON list a question names word for word: a title, a login, a timestamp.

Question terms find most things a later question asks about, but not a title made of common
words ("All Because Of You"), a name written in lowercase (``rappoccio``) or in another script
(``Fääri saared``), or a log message copied without quotes. Those are found by a test that
cannot mislead: a span of the question's words that equals, ignoring case, a whole value of
an item. Only values that at most ``MAX_HOLDERS`` items hold single an item out.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import KeysView
from weakref import WeakKeyDictionary

from ..questions import is_stopword
from .part_index import PartIndex

MAX_WORDS = 64  # a longer question (a pasted issue text) is not read span by span
MAX_SPAN_WORDS = 16
MAX_HOLDERS = 3
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script
_END = re.compile(r"[^\s\w]*")  # the punctuation right after a word
_SENTENCE_START = re.compile(r"(?:\A|[.!?;:\n])[\s\"'“‘(\[]*\Z")  # what comes before a first word


@functools.lru_cache(maxsize=2048)
def question_spans(question: str) -> frozenset[str]:
    """Every run of up to ``MAX_SPAN_WORDS`` words of ``question``, as written from its first
    word to its last (and to the punctuation after that), lowercased; common words, numbers
    under four digits, single letters and the first word of a sentence alone left out
    ("Thanks. One more question" does not ask about the track "One")."""
    words = list(_WORD.finditer(question))
    if len(words) > MAX_WORDS:
        return frozenset()
    ends = [_punctuation_end(question, w.end()) for w in words]
    spans: set[str] = set()
    for i, first in enumerate(words):
        alone = 1 if _SENTENCE_START.search(question, 0, first.start()) else 0
        for j in range(i + alone, min(i + MAX_SPAN_WORDS, len(words))):
            spans.add(question[first.start() : words[j].end()].lower())
            spans.add(question[first.start() : ends[j]].lower())  # with a closing "." or ")"
    return frozenset(s for s in spans if _may_name(s))


def _punctuation_end(text: str, at: int) -> int:
    found = _END.match(text, at)
    return at if found is None else found.end()


def _may_name(span: str) -> bool:
    """Not a common word, and not a number of one to three digits (a count, a page)."""
    if len(span) < 2 or is_stopword(span):
        return False
    return not (span.isdigit() and len(span) < 4)


def named_items(index: PartIndex, spans: frozenset[str]) -> set[int]:
    """Indices of the items holding a value that one of ``spans`` spells out whole, for each
    such value held by at most ``MAX_HOLDERS`` items."""
    if not spans:
        return set()
    lowered = _lowered_parts(index)
    named = [i for span in spans.intersection(lowered) for i in lowered[span]]
    kept: set[int] = set()
    for part in sorted(set(named)):
        if index.occurrences[index.parts[part]] <= MAX_HOLDERS:
            holders = index.items_holding([part])
            if len(holders) <= MAX_HOLDERS:
                kept |= holders
    return kept


def lowered_values(index: PartIndex) -> KeysView[str]:
    """The distinct parts of ``index``, lowercased."""
    return _lowered_parts(index).keys()


_lowered: WeakKeyDictionary[PartIndex, dict[str, list[int]]] = WeakKeyDictionary()
_lock = threading.Lock()


def _lowered_parts(index: PartIndex) -> dict[str, list[int]]:
    """Each distinct part of ``index`` lowercased -> the indices of the parts it comes from,
    built once per index (recall asks every later question of the same list)."""
    with _lock:
        found = _lowered.get(index)
    if found is None:
        found = {}
        for i, part in enumerate(index.parts):
            found.setdefault(part.lower(), []).append(i)
        with _lock:
            _lowered[index] = found
    return found
