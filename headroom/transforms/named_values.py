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

from ..questions import KANA_HAN, KANA_HAN_RUNS, MAX_QUESTION_WORDS, is_stopword, singular
from .part_index import PartIndex

MAX_SPAN_WORDS = 16
MAX_HOLDERS = 3
# A value the question spells out whole is what it asks for ("the Protected AAC audio file
# ones", "type Organization"): every item holding it is kept, up to a third of a short list
# (at most ASKED_FEW items) or a quarter of a long one.
ASKED_FEW = 25
# Letters and digits of any script; Japanese and Chinese cut where the script changes.
_WORD = re.compile(f"{KANA_HAN_RUNS}|[^\\W_{KANA_HAN}]+")
_END = re.compile(r"[^\s\w]*")  # the punctuation right after a word
_SENTENCE_END = re.compile(r"[.!?;:\n]")  # between two words: the second starts a sentence


@functools.lru_cache(maxsize=2048)
def question_spans(question: str) -> frozenset[str]:
    """Every run of up to ``MAX_SPAN_WORDS`` words of ``question`` from its first word to its
    last (and to the punctuation after that), as written and, for several words, in the other
    usual capitalisations; a single word only as written ("the very last one" does not ask
    about the track "One"), and not when it is a common word, a number under four digits, a
    single letter or the first word of a sentence ("Thanks. One more question")."""
    words = list(_WORD.finditer(question))
    if len(words) > MAX_QUESTION_WORDS:
        return frozenset()
    # Each spelling of a span is a slice of the question spelt that way: the case of a
    # word's letters does not depend on what comes before its first one.
    spellings = (question, question.lower(), question.upper(), question.title())
    upper = spellings[2]
    starts = [w.start() for w in words]
    ends = [w.end() for w in words]
    # Where a span may end after each word: the word's end, after each closing bracket or
    # quote right after it, and after all of its punctuation ("(#332)." ends at 332, "332)"
    # and "332)."); word j's ends are stops[first_stop[j]:first_stop[j + 1]].
    stops: list[int] = []
    first_stop: list[int] = []
    for end in ends:
        first_stop.append(len(stops))
        stops.extend(_span_ends(question, end))
    first_stop.append(len(stops))
    spans: set[str] = set()
    for i, start in enumerate(starts):
        if not (i == 0 or _SENTENCE_END.search(question, ends[i - 1], start)):
            alone = stops[first_stop[i] : first_stop[i + 1]]
            spans.update(w for w in (question[start:end] for end in alone) if _may_name(w))
        last = min(i + MAX_SPAN_WORDS, len(words))
        longer = stops[first_stop[i + 1] : first_stop[last]]
        cuts = [slice(start, end) for end in longer]
        for spelt in spellings:
            spans.update(map(spelt.__getitem__, cuts))
        capital = upper[start]
        spans.update(capital + question[start + 1 : end] for end in longer)
    spans.update(_singular_spans(question, spellings, words, spans))
    spans.update(_joined_spans(spans))
    spans.update(_past_tenses(words))
    return frozenset(spans)


_VERB = re.compile(r"[a-z]{3,}")
_VOWELS = frozenset("aeiou")


_DO = frozenset({"do", "does", "did", "don", "doesn", "didn"})  # "didn't": didn, t


def _past_tenses(words: list[re.Match[str]]) -> list[str]:
    """The past tense of each lowercase word after "did" (or "do", "does"), as data writes
    a state: "which files did this PR add?" asks for the status ``added``, "which jobs did
    someone cancel?" for ``cancelled``. Without the auxiliary a word is more often a noun
    ("it had the label" is no ``labeled`` event)."""
    found: list[str] = []
    after = next((i for i, m in enumerate(words) if m.group().lower() in _DO), None)
    if after is None:
        return found
    for match in words[after + 1 :]:
        word = match.group()
        if not _VERB.fullmatch(word) or word.endswith(("ed", "us", "is")) or is_stopword(word):
            continue
        if word[-1] == "s" and word[-2] != "s":  # "runs", "files": plurals, not verbs
            continue
        if word.endswith("e"):
            found.append(word + "d")  # remove -> removed
        elif word[-1] == "y" and word[-2] not in _VOWELS:
            found.append(word[:-1] + "ied")  # modify -> modified
        else:
            found.append(word + "ed")
            short_vowel = word[-2] in _VOWELS and word[-3] not in _VOWELS
            if short_vowel and word[-1] not in _VOWELS and word[-1] not in "wxy":
                found.append(word + word[-1] + "ed")  # stop -> stopped
    return found


_JOINABLE = re.compile(r"[a-z0-9]+(?: [a-z0-9]+){1,3}")


def _joined_spans(spans: set[str]) -> list[str]:
    """The lowercase spans of two to four words joined as identifiers are: "pull request"
    names the event ``pull_request``, "merge conflict" a label ``merge-conflict``."""
    plain = [span for span in spans if _JOINABLE.fullmatch(span)]
    return [*(s.replace(" ", "_") for s in plain), *(s.replace(" ", "-") for s in plain)]


def _singular_spans(
    question: str, spellings: tuple[str, ...], words: list[re.Match[str]], spans: set[str]
) -> list[str]:
    """Each of ``spans`` that ends with an English plural, with that word in the singular
    ("Protected AAC audio files" -> "... file", "Organizations" -> "Organization", and a
    single word also capitalised: "organizations" -> "Organization"): looked up word by
    word, not span by span."""
    found = []
    for j, word in enumerate(words):
        one = singular(word.group())
        if one is None:
            continue
        cut = len(word.group()) - len(one.rstrip("yY"))  # letters that the singular replaces
        end = word.end()
        for i in range(max(j - MAX_SPAN_WORDS + 1, 0), j + 1):
            start = words[i].start()
            capital = spellings[2][start] + question[start + 1 : end]
            for span in {*(spelt[start:end] for spelt in spellings), capital} & spans:
                tail = ("Y" if span[-cut].isupper() else "y") if one[-1] in "yY" else ""
                found.append(span[:-cut] + tail)
                if i == j:  # "organizations": a type is written "Organization"
                    found.append(found[-1][:1].upper() + found[-1][1:])
    return found


_CLOSING = frozenset(")]}\"'”’»")


def _span_ends(text: str, at: int) -> list[int]:
    """Where a span ending with the word that ends at ``at`` may end (``question_spans``)."""
    found = _END.match(text, at)
    closed = at if found is None else found.end()
    ends = [at]
    ends += [i + 1 for i in range(at, closed - 1) if text[i] in _CLOSING]
    if closed != at:
        ends.append(closed)
    return ends


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
    return _holders(index, spans, MAX_HOLDERS)


def asked_items(index: PartIndex, spans: frozenset[str]) -> set[int]:
    """Indices of the items holding a value that one of ``spans`` spells out whole, for each
    such value held by at most a third of the ``n`` items (at most ``ASKED_FEW``) or a
    quarter of them (as for yes/no fields and thresholds): a question naming a value asks
    for all of its items ("which countries are in Africa?": 59 of 250), a common one ("the
    PhishBench runs" of PhishBench's runs) singles none out."""
    return _holders(index, spans, asked_group_most(len(index.items)))


def asked_group_most(n: int) -> int:
    """How many of ``n`` items a question may ask for as one group (a value it spells out, a
    yes/no field, a threshold): a third of a short list (at most ``ASKED_FEW``) or a quarter
    of a long one; more singles nothing out."""
    return max(MAX_HOLDERS, min(n // 3, ASKED_FEW), n // 4)


def _holders(index: PartIndex, spans: frozenset[str], most: int) -> set[int]:
    """The items holding each spelt-out value (``spelt_values``) that at most ``most`` items
    hold (an item may hold it several times: Serbia's name in its translations)."""
    kept: set[int] = set()
    for value in spelt_values(index, spans):
        holders = index.items_holding_texts({value})
        if len(holders) <= most:
            kept |= holders
    return kept


def spelt_values(index: PartIndex, spans: frozenset[str]) -> list[str]:
    """``named_values``, less those inside a longer one: asked about "Black Hole Sun", the
    track "Black" is not asked about."""
    longest_first = sorted(named_values(index, spans), key=lambda v: (-len(v), v))
    kept: list[str] = []
    for value in longest_first:
        if not any(value in longer for longer in kept):
            kept.append(value)
    return kept
