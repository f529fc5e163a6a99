"""Items a question asks for by a yes/no field: "which countries are landlocked?", "which
repos are forks?", "the ones that are not UN members".

The field's name is in every item, so as a question term it singles nothing out, and
``true`` is no word to search for. Instead a boolean field whose name the question spells
(``landlocked``, ``unMember``, ``has_wiki``) selects the items holding the value asked for:
``true``, or ``false`` when a negation comes just before the name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from typing import Any

from ..questions import MAX_QUESTION_WORDS, singular

# Words a field's name may start with that the question need not repeat ("has_wiki": "which
# ones have a wiki?").
_FILLER = frozenset({"is", "has", "have", "can", "was", "are", "does", "do", "should"})
_NEGATIONS = frozenset(
    {"not", "no", "non", "without", "never", "isn't", "aren't", "don't", "doesn't", "wasn't"}
)
_NEGATION_REACH = 3  # words between a negation and the name it negates
_QUESTION_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@functools.lru_cache(maxsize=1024)
def _question_words(question: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """(the question's lowercase words, the first position of each word and its singular)."""
    words = tuple(_QUESTION_WORD.findall(question.lower()))
    if len(words) > MAX_QUESTION_WORDS:
        return (), {}
    first: dict[str, int] = {}
    for at, word in enumerate(words):
        first.setdefault(word, at)
        one = singular(word)
        if one is not None:
            first.setdefault(one, at)
    return words, first


def question_words(question: str) -> frozenset[str]:
    """The question's lowercase words and their singulars (none for a very long text)."""
    return frozenset(_question_words(question)[1])


@functools.lru_cache(maxsize=4096)
def name_words(key: str) -> tuple[str, ...]:
    """The words of a field's name (``unMember`` -> un, member; ``has_wiki`` -> wiki)."""
    words = [w.lower() for w in _NAME_WORD.findall(key)]
    while words and words[0] in _FILLER:
        words = words[1:]
    return tuple(words)


@functools.lru_cache(maxsize=4096)
def spells_field(key: str, asked_words: frozenset[str], ignored: str = "") -> bool:
    """Whether ``asked_words`` (a question's, ``question_words``) spell every word of a
    field's name but ``ignored`` ("the due date": ``due_date``; "the pull requests":
    ``pulls_url`` ignoring "url"), a plural also standing for its singular."""
    words = [w for w in name_words(key) if w != ignored]
    return bool(words) and all(w in asked_words or singular(w) in asked_words for w in words)


def asked_flag(question: str, key: str) -> bool | None:
    """The value of the boolean field ``key`` that ``question`` asks for: True when it
    spells every word of the name ("landlocked", "UN members"), False when a negation comes
    shortly before it ("not landlocked"), None when it does not name the field."""
    words, first = _question_words(question)
    name = name_words(key)
    if not name:
        return None
    if any(w not in first for w in name):
        name = ("".join(name),)  # "unmember", as the field is written
        if name[0] not in first:
            return None
    start = min(first[w] for w in name)
    before = words[max(start - _NEGATION_REACH, 0) : start]
    return not any(w in _NEGATIONS for w in before)


def flag_columns(items: Sequence[Any], keys: Collection[str]) -> dict[str, list[int | None]]:
    """For each boolean field of the items named in ``keys`` (top level, or one object down:
    ``repo.fork`` by ``fork``), each item's value as 1 or 0 (None where it has none)."""
    columns: dict[str, list[int | None]] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if isinstance(value, bool):
                if key in keys:
                    columns.setdefault(key, [None] * len(items))[i] = int(value)
            elif isinstance(value, dict):
                for inner, flag in value.items():
                    if isinstance(flag, bool) and inner in keys:
                        columns.setdefault(inner, [None] * len(items))[i] = int(flag)
    return columns


def boolean_keys(items: Sequence[Any]) -> set[str]:
    """The names of the boolean fields of ``items`` (top level, or one object down)."""
    keys: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if isinstance(value, bool):
                keys.add(str(key))
            elif isinstance(value, dict):
                keys.update(str(k) for k, flag in value.items() if isinstance(flag, bool))
    return keys


# The fields of a list are read off its first items: API lists share one schema.
_SCHEMA_ITEMS = 50


def asked_flag_items(items: Sequence[Any], question: str, most: int) -> set[int]:
    """Indices of the items holding the value a question asks for of a boolean field it
    names ("which ones are landlocked?"), when at most ``most`` items hold it: a question
    asking for nearly all of them singles none out."""
    if not question or not _question_words(question)[0]:
        return set()
    asked = {
        key: wanted
        for key in boolean_keys(items[:_SCHEMA_ITEMS])
        if (wanted := asked_flag(question, key)) is not None
    }
    found: set[int] = set()
    if not asked:  # most questions name no yes/no field: no need to read every item
        return found
    for key, values in flag_columns(items, asked.keys()).items():
        holders = {i for i, value in enumerate(values) if value == int(asked[key])}
        if len(holders) <= most:
            found |= holders
    return found
