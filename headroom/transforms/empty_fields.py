"""Items a question asks for by a field they lack or hold: "which countries have no capital?",
"repos without a homepage", "which customers have a fax number?".

The answer is an absence or a presence: no word of it is in the items to match, and the
field's name is in every item that has it. A field the question names after "no", "without"
or "missing" (or before "is empty") selects the items where it is null, empty or absent; one
it names after "have" or "with" (or before "is set") selects the items where it has a value.
Either only when few items are selected: a field most items hold is no group.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from ..questions import MAX_QUESTION_WORDS, singular
from .flags import name_words

_WORD = r"([a-z][a-z_-]*)"
_EMPTY = r"(?:empty|missing|null|blank|not\s+set)\b"
_LACKING = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"(?:\b(?:no|without|missing|lacks?|lacking)|(?:n't|\bnot)\s+have)\s+"
        r"(?:an?\s+|any\s+|the\s+)?" + _WORD,
        r"\b" + _WORD + r"\s+(?:is|are)\s+" + _EMPTY,  # "the capital is empty"
        r"\b(?:is|are)\s+(?:the\s+|its\s+|their\s+)?" + _WORD + r"\s+" + _EMPTY,
    )
)
_SET = r"(?:set|present|given|filled|not\s+" + _EMPTY + ")"
_HAVING = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\b(?:have|has|having|with)\s+(?:an?\s+|any\s+|the\s+|some\s+)?" + _WORD,
        r"\b" + _WORD + r"\s+(?:is|are)\s+" + _SET,  # "the fax is set"
        r"\b(?:is|are)\s+(?:the\s+|its\s+|their\s+)?" + _WORD + r"\s+" + _SET,
    )
)
_NEGATED = re.compile(r"(?:n't|\bnot)\s*$", re.IGNORECASE)  # "doesn't have a capital"
_SCHEMA_ITEMS = 50  # the fields of a list are read off its first items
# Endings of a field's name that a question leaves out: "no homepage" names homepage_url.
_SUFFIXES = frozenset({"url", "id", "name", "at", "date", "text"})


@functools.lru_cache(maxsize=1024)
def lacked_fields(question: str) -> frozenset[str]:
    """The words (lowercase, with their singulars) naming fields ``question`` asks to lack."""
    return _named_fields(question, _LACKING)


@functools.lru_cache(maxsize=1024)
def held_fields(question: str) -> frozenset[str]:
    """The words (lowercase, with their singulars) naming fields ``question`` asks to hold a
    value ("which customers have a fax number?": fax), not after a negation."""
    return _named_fields(question, _HAVING, skip_negated=True)


def _named_fields(
    question: str, patterns: tuple[re.Pattern[str], ...], skip_negated: bool = False
) -> frozenset[str]:
    if len(question.split()) > MAX_QUESTION_WORDS:
        return frozenset()
    words: set[str] = set()
    for pattern in patterns:
        for match in pattern.finditer(question):
            if skip_negated and _NEGATED.search(question, 0, match.start()):
                continue
            word = match[1].lower()
            words.add(word)
            one = singular(word)
            if one is not None:
                words.add(one)
    return frozenset(words)


def sometimes_empty_keys(items: Sequence[Any]) -> set[str]:
    """The fields of ``items`` (dicts) that some of them leave null, empty or absent."""
    dicts = [item for item in items if isinstance(item, dict)]
    keys = {key for item in dicts for key in item if isinstance(key, str)}
    return {key for key in keys if any(_empty(item.get(key)) for item in dicts)}


def _names(name: tuple[str, ...], wanted: frozenset[str]) -> bool:
    """Whether a field named ``name`` (its words) is one of the ``wanted`` words."""
    if not name:
        return False
    if "".join(name) in wanted:
        return True
    return len(name) == 2 and name[0] in wanted and name[1] in _SUFFIXES


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def lacking_or_holding_items(items: Sequence[Any], question: str, most: int) -> set[int]:
    """Indices of the items where a field the question asks to lack ("no capital") is null,
    empty or absent, or where one it asks to hold ("a fax number") has a value, each field
    when at most ``most`` (and some) items are so."""
    if not question:
        return set()
    found = _items_where(items, lacked_fields(question), most, empty=True)
    return found | _items_where(items, held_fields(question), most, empty=False)


def _items_where(items: Sequence[Any], wanted: frozenset[str], most: int, empty: bool) -> set[int]:
    """Indices of the items where a field named by one of ``wanted`` is empty (or, not
    ``empty``, holds a value), per field when at most ``most`` (and some) are."""
    if not wanted:
        return set()
    keys = {
        key
        for item in items[:_SCHEMA_ITEMS]
        if isinstance(item, dict)
        for key in item
        if isinstance(key, str) and _names(name_words(key), wanted)
    }
    found: set[int] = set()
    for key in keys:
        holders = {
            i
            for i, item in enumerate(items)
            if isinstance(item, dict) and _empty(item.get(key)) == empty
        }
        if 0 < len(holders) <= most:
            found |= holders
    return found
