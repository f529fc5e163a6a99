"""What a question asks about: the terms of a user's question (``#49``, ``Moldova``,
``fields.py``) and of the arguments of the tool call an output answers.

Terms are memoised per text: an agent loop asks the same question of every tool output of a
turn, and resends the same history every turn.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .conversation import user_text_before
from .relative_days import (
    names_a_relative_day,
    reference_day,
    relative_day_terms,
    relative_terms_at,
)
from .written_forms import data_form_terms

# Words of any script (``Viêt``, ``Österreich``), with inner path punctuation (``fields.py``).
_WORD = re.compile(r"\w[\w./:@-]*\w|[^\W_]")
_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "please",
        "same",
        "she",
        "should",
        "show",
        "so",
        "some",
        "such",
        "tell",
        "than",
        "that",
        "the",
        "their",
        "them",
        "ones",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "us",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "can't",
        "don't",
        "i'll",
        "i'm",
        "it's",
        "let's",
        "check",
        "look",
        "find",
        "give",
        "need",
        "want",
        "pull",
        "read",
        "list",
        "see",
        "ok",
        "okay",
        "thanks",
        "thank",
        "now",
        "next",
        "first",
        "last",
        "any",
        "anything",
        "something",
        "there's",
        "did",
        "does",
        "done",
        "go",
        "going",
        "know",
        "like",
        "make",
        "sure",
        "try",
        "use",
        "using",
        "way",
        "well",
        "yes",
        "yet",
    ]
)


_TERM_LIMIT = 48
# A question of more words (a pasted issue text) is read for its terms only: not span by
# span for values it spells out, nor for a ranking or a neighbour it asks for.
MAX_QUESTION_WORDS = 64


def is_stopword(word: str) -> bool:
    """Whether lowercase ``word`` is too common to name anything (``the``, ``show``)."""
    return word in _STOPWORDS


@functools.lru_cache(maxsize=2048)
def question_terms(text: str, limit: int = _TERM_LIMIT) -> tuple[str, ...]:
    """Distinctive terms of a user question, lowercased, in first-seen order.

    Words of three characters or more that are not stopwords, numbers of two digits or more
    (``#49`` -> ``49``), path-like tokens with their parts (``test/Issue.py``) and each
    plural's singular (``singular``); dates, times and numbers written as people write them,
    as data holds them (``data_form_terms``: "March 9" -> ``-03-09``, "5,242,880" ->
    ``5242880``); then, while there is room, the question's phrases (``phrases``).
    """
    return _with_phrases(_terms_of_parts((text,), limit), text, limit)


def _with_phrases(terms: tuple[str, ...], text: str, limit: int) -> tuple[str, ...]:
    """``terms``, then, while there is room, the question's ``phrases``: matched only as a
    whole value (``question_hits``), so "United States" names the country, not every
    "United States dollar" (its words already find those)."""
    found = phrases(text)
    if not found or len(terms) >= limit:
        return terms
    return tuple(dict.fromkeys((*terms, *found)))[:limit]


_MAX_PHRASE_TEXT = 2_000  # a longer text (a pasted issue) has terms enough
_DOUBLE_QUOTED = re.compile(r"[\"“]([^\"”\n]{3,80})[\"”]")
_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")


@functools.lru_cache(maxsize=2048)
def phrases(text: str) -> tuple[str, ...]:
    """Names of several words in ``text``, lowercased: double-quoted ones ("Wind Up") and runs
    of capitalised words ("All Because Of You"), the first word of a sentence left out. A
    title of common words has no term of its own, and its words single nothing out."""
    if len(text) > _MAX_PHRASE_TEXT:
        return ()
    found = [q.strip() for q in _DOUBLE_QUOTED.findall(text) if " " in q.strip()]
    run: list[re.Match[str]] = []
    for word in (*_NAME_WORD.finditer(text), None):
        joined = word is not None and run and text[run[-1].end() : word.start()] == " "
        if word is not None and word.group()[:1].isupper() and (joined or not run):
            run.append(word)
            continue
        found.extend(_run_phrase(text, run))
        run = [word] if word is not None and word.group()[:1].isupper() else []
    return tuple(dict.fromkeys(p.lower() for p in found))


def _run_phrase(text: str, run: list[re.Match[str]]) -> list[str]:
    """The run of capitalised words as a phrase, its first word left out at a sentence start."""
    if run and _SENTENCE_START_AT.search(text, 0, run[0].start()):
        run = run[1:]
    return [text[run[0].start() : run[-1].end()]] if len(run) >= 2 else []


_SENTENCE_START_AT = re.compile(r"(?:\A|[.!?;:\n])\s*[\"'“‘(\[]*\Z")


def _terms_of_parts(parts: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """``question_terms`` of the parts joined by newlines (no word or ``#49`` spans one):
    every ``#49`` first, then each word's terms in order until ``limit`` is reached."""
    seen: dict[str, None] = {
        "#" + number: None for part in parts for number in _ISSUE_REF.findall(part)
    }
    seen.update((term, None) for part in parts for term in data_form_terms(part))
    if len(seen) >= limit:  # the first word is read even so, and it may have no term
        return _terms_read("\n".join(parts), limit)
    for part in parts:
        groups, complete = _part_words(part)
        for group in groups:
            for term in group:
                if term not in seen and "#" + term not in seen:
                    seen[term] = None
            if len(seen) >= limit:
                return tuple(seen)
        if not complete:  # more words than were kept: read the whole text
            return _terms_read("\n".join(parts), limit)
    return tuple(seen)


# Each text's first distinct terms kept: enough unless its ``#49``s or the text before it
# already hold more than a few of them.
_PART_TERMS = _TERM_LIMIT + 16


@functools.lru_cache(maxsize=4096)
def _part_words(text: str) -> tuple[tuple[tuple[str, ...], ...], bool]:
    """(the terms of each word of ``text`` in order (a term seen in an earlier word left
    out, words left with none dropped), whether every word was read)."""
    groups: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for match in _WORD.finditer(text):
        group = []
        for term in _word_terms(match.group()):
            t = term.lower()
            if t in seen or t in _STOPWORDS:
                continue
            if _long_enough(t):
                seen.add(t)
                group.append(t)
        if group:
            groups.append(tuple(group))
            if len(seen) >= _PART_TERMS:
                return tuple(groups), match.end() >= len(text)
    return tuple(groups), True


def _terms_read(text: str, limit: int) -> tuple[str, ...]:
    """``question_terms`` read word by word from the start (the reference form)."""
    seen: dict[str, None] = {}
    for number in _ISSUE_REF.findall(text):
        seen["#" + number] = None
    seen.update((term, None) for term in data_form_terms(text))
    for match in _WORD.finditer(text):  # stops at the limit: arguments can be long
        for term in _word_terms(match.group()):
            t = term.lower()
            if t in _STOPWORDS or t in seen or "#" + t in seen:
                continue
            if _long_enough(t):
                seen[t] = None
        if len(seen) >= limit:
            break
    return tuple(seen)


_ISSUE_REF = re.compile(r"#(\d+)\b")
_QUOTED = re.compile(r"[\"“'‘`]([^\"”'’`]{2,80})[\"”'’`]")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)(\w+)")


_CAMEL_CASE = re.compile(r"[a-z][A-Z]")


@functools.lru_cache(maxsize=2048)
def identifier_terms(text: str) -> tuple[str, ...]:
    """The terms of a question that name one thing rather than a kind of thing: numbers and
    ``#49``, words with digits or inner punctuation (``ome-documentation``, ``fields.py``),
    capitalised words inside a sentence (``Vacation``), camelCase words, even first in a
    sentence (``removeLocked``, ``iPhone``), and words in quotes."""
    terms = question_terms(text)
    starters = {m.lower() for m in _SENTENCE_START.findall(text)}
    quoted = {w.lower() for q in _QUOTED.findall(text) for w in _WORD.findall(q)}
    words = _WORD.findall(text)
    capitalised = {w.lower() for w in words if w[:1].isupper()} - starters
    capitalised.update(w.lower() for w in words if _CAMEL_CASE.search(w))
    strong = []
    for term in terms:
        if (
            term.startswith("#")
            or any(c.isdigit() for c in term)
            or any(c in term for c in "-_./:@")
            or term in capitalised
            or term in quoted
        ):
            strong.append(term)
    return tuple(strong)


@functools.lru_cache(maxsize=2048)
def compound_terms(text: str) -> dict[str, tuple[str, ...]]:
    """The terms of ``text`` that hold path punctuation (``2012-07-03T07:50:18Z``,
    ``test/Issue.py``), lowercased, each with the parts it adds to ``question_terms``. Where
    the whole is found, its parts (``07``, ``50``) name nothing more (do not mutate)."""
    found: dict[str, tuple[str, ...]] = {}
    for match in _WORD.finditer(text):
        whole, *parts = (t.lower() for t in _expand(match.group()))
        if parts:
            found[whole] = tuple(parts)
    return found


def singular(word: str) -> str | None:
    """The singular of an English plural (``organizations`` -> ``organization``, ``entries``
    -> ``entry``, ``matches`` -> ``match``), for data that names one of a kind in the
    singular; None for a word that is not one (``status``, ``class``, ``analysis``)."""
    if len(word) < 4 or word[-1:] not in "sS" or not word.isalpha():
        return None
    lower = word.lower()
    if lower.endswith(("ss", "us", "is", "os", "ics")):
        return None
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + ("Y" if word[-1] == "S" else "y")
    if lower.endswith(("ches", "shes", "xes", "zes", "sses")):
        return word[:-2]
    return word[:-1]


def _word_terms(token: str) -> list[str]:
    """The terms a word of a question gives (``_expand``), each plural followed by its
    singular (but for the words that ask for something rather than name it: "entries")."""
    expanded = _expand(token)
    found: list[str] = []
    for term in expanded:
        found.append(term)
        lower = term.lower()
        one = None if lower in _GENERIC_PLURALS or lower in _STOPWORDS else singular(term)
        if one is not None:
            found.append(one)
    return found


# Plurals that say what kind of answer is wanted ("list the entries", "which lines"), whose
# singular would name a key or a word of many items rather than what is asked about.
_GENERIC_PLURALS = frozenset(
    (
        "entries",
        "items",
        "results",
        "details",
        "records",
        "rows",
        "lines",
        "values",
        "fields",
        "others",
        "things",
        "times",
        "ways",
        "parts",
        "lists",
        "questions",
        "answers",
        "objects",
        "elements",
    )
)


def _expand(token: str) -> list[str]:
    """The token, then its parts when it holds path punctuation (``test/Issue.py``) or runs
    of Japanese or Chinese script with no space between words (``ドミニカ国の首都は``)."""
    if not token.isascii():
        runs = SCRIPT_RUN.findall(token)
        if len(runs) > 1:
            return [token, *runs]
    if token.isalnum() or token.isidentifier():  # letters, digits and _ only: one piece
        return [token]
    pieces = _PATH_PUNCTUATION.split(token)
    if len(pieces) == 1:
        return pieces
    return [token, *(p for p in pieces if p)]


_PATH_PUNCTUATION = re.compile(r"[./:@-]+")


def _long_enough(term: str) -> bool:
    """Numbers of two digits or more, words of three characters or more (two in Japanese or
    Chinese script, where ``中国`` is a word)."""
    if term.isdigit():
        return len(term) >= 2
    return len(term) >= 3 or (len(term) == 2 and KANA_HAN_CHAR.match(term) is not None)


# Katakana, hiragana, Han, then anything else: where Japanese and Chinese, written without
# spaces, change script is most often where one word ends (ドミニカ|国|の|首都|は).
KANA_HAN = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
KANA_HAN_RUNS = "[\u30a0-\u30ff\u31f0-\u31ff]+|[\u3040-\u309f]+|[\u3400-\u4dbf\u4e00-\u9fff]+"
KANA_HAN_CHAR = re.compile(f"[{KANA_HAN}]")
SCRIPT_RUN = re.compile(f"{KANA_HAN_RUNS}|[^{KANA_HAN}]+")


def tool_question_terms(
    messages: Sequence[Any], index: int, calls: Mapping[str, tuple[str, str]]
) -> tuple[str, ...]:
    """The ``question_terms`` of what the tool output at ``index`` answers: the latest user
    message before it, then what the call that produced it asked for (``argument_words``),
    with the dates of the days it names relative to today (``relative_terms_at``).
    Each text's words are memoised apart: the outputs of one turn share the user's."""
    question = user_text_before(messages, index)
    message = messages[index]
    call_id = message.get("tool_call_id") if isinstance(message, Mapping) else None
    if isinstance(call_id, str) and call_id in calls:
        terms = _two_part_terms(question, argument_words(calls[call_id][1]))
    else:
        terms = question_terms(question)
    relative = relative_terms_at(messages, index, question)  # "yesterday": 2025-09-02
    return tuple(dict.fromkeys((*relative, *terms)))[:_TERM_LIMIT] if relative else terms


def argument_only_terms(terms: tuple[str, ...], question: str) -> frozenset[str]:
    """Those of ``tool_question_terms`` that the call's arguments give and the user's words
    do not (neither their ``question_terms`` nor the days they name: those are dates)."""
    own = question_terms(question)
    return frozenset(t for t in terms if t not in own and not _DAY_TERM.fullmatch(t))


_DAY_TERM = re.compile(r"\d{4}-\d{2}-\d{2}")


@functools.lru_cache(maxsize=2048)
def _two_part_terms(question: str, arguments: str) -> tuple[str, ...]:
    """``question_terms(question + "\n" + arguments)``, from each part's memoised words."""
    return _with_phrases(_terms_of_parts((question, arguments), _TERM_LIMIT), question, _TERM_LIMIT)


@functools.lru_cache(maxsize=4096)
def argument_words(arguments: str) -> str:
    """What a tool call's arguments say it looks for: their values, not the parameter names
    (``service``, ``query``), not the paging numbers (``"limit": 1200``) that say how much
    to return rather than what, and not the ordering (``"sort": "comments"``). Arguments
    that are not a JSON object are taken whole (and very long ones only in part: a
    question's terms come from its first words)."""
    if len(arguments) > _MAX_ARGUMENT_CHARS:
        return arguments[:_MAX_ARGUMENT_CHARS]
    try:
        parsed = json.loads(arguments)
    except (ValueError, RecursionError):
        return arguments
    if not isinstance(parsed, (dict, list)):
        return arguments
    words: list[str] = []
    _collect_values(parsed, None, words, 0)
    return "\n".join(words)


_MAX_ARGUMENT_CHARS = 65_536
# Parameters whose numbers size or page the answer rather than name what is asked about.
PAGING_PARAMETERS = frozenset(
    {
        "limit",
        "page",
        "per_page",
        "perpage",
        "page_size",
        "pagesize",
        "offset",
        "skip",
        "count",
        "max",
        "max_results",
        "maxresults",
        "max_items",
        "size",
        "top",
        "top_k",
        "topk",
        "first",
        "last",
        "head",
        "tail",
        "lines",
        "n",
        "k",
        "timeout",
        "depth",
    }
)


# Parameters whose values say how to order the answer ("sort": "comments", "order":
# "desc"), not what it is about.
ORDERING_PARAMETERS = frozenset(
    {"sort", "sort_by", "sortby", "order", "order_by", "orderby", "direction", "dir"}
)


def _collect_values(value: Any, key: str | None, words: list[str], depth: int) -> None:
    if depth > 32:
        return
    if isinstance(value, str):
        if key is None or key.lower() not in ORDERING_PARAMETERS:
            words.append(value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (int, float)):
        if key is None or key.lower() not in PAGING_PARAMETERS:
            words.append(str(value))
    elif isinstance(value, dict):
        for inner_key, inner in value.items():
            _collect_values(inner, str(inner_key), words, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _collect_values(inner, key, words, depth + 1)


def clear_caches() -> None:
    """Forget every memoised term (for benchmarks that measure a cold engine)."""
    memoised = (question_terms, identifier_terms, compound_terms, argument_words, phrases)
    days = (names_a_relative_day, relative_day_terms, reference_day)
    for cached in (*memoised, _two_part_terms, _part_words, data_form_terms, *days):
        cached.cache_clear()


def asked_count(question: str, most: int) -> int:
    """The smallest number from 2 to ``most`` written on its own in ``question`` ("5", "ten",
    "(3)"; not the 10 of a date), else 1: of two, the other is most often the whole ("which
    3 of the 20 runs took longest")."""
    numbers = []
    for token in question.lower().split():
        word = token.strip(_PUNCTUATION)
        number = _NUMBER_WORDS.get(word, int(word) if word.isdecimal() and len(word) <= 3 else 0)
        if 2 <= number <= most:
            numbers.append(number)
    return min(numbers, default=1)


_PUNCTUATION = "\"'“”‘’()[]{}.,;:!?"
_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        [
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ],
        start=2,
    )
}
