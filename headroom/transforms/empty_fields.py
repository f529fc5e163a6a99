"""Items a question asks for by a field they lack: "which countries have no capital?", "repos
without a homepage", "customers missing an email".

The answer is an absence: no word of it is in the items to match, and the field's name is in
every item. A field the question names after "no", "without" or "missing" (or before "is
empty") selects the items where it is null, empty or absent, when few do.
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
        r"\b(?:no|without|missing|lacks?|lacking)\s+(?:an?\s+|any\s+|the\s+)?" + _WORD,
        r"\b" + _WORD + r"\s+(?:is|are)\s+" + _EMPTY,  # "the capital is empty"
        r"\b(?:is|are)\s+(?:the\s+|its\s+|their\s+)?" + _WORD + r"\s+" + _EMPTY,
    )
)
_SCHEMA_ITEMS = 50  # the fields of a list are read off its first items
# Endings of a field's name that a question leaves out: "no homepage" names homepage_url.
_SUFFIXES = frozenset({"url", "id", "name", "at", "date", "text"})


@functools.lru_cache(maxsize=1024)
def lacked_fields(question: str) -> frozenset[str]:
    """The words (lowercase, with their singulars) naming fields ``question`` asks to lack."""
    if len(question.split()) > MAX_QUESTION_WORDS:
        return frozenset()
    words: set[str] = set()
    for pattern in _LACKING:
        for match in pattern.finditer(question):
            word = match[1].lower()
            words.add(word)
            one = singular(word)
            if one is not None:
                words.add(one)
    return frozenset(words)


def _names(name: tuple[str, ...], wanted: frozenset[str]) -> bool:
    """Whether a field named ``name`` (its words) is one of the ``wanted`` words."""
    if not name:
        return False
    if "".join(name) in wanted:
        return True
    return len(name) == 2 and name[0] in wanted and name[1] in _SUFFIXES


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def lacking_items(items: Sequence[Any], question: str, most: int) -> set[int]:
    """Indices of the items where a field the question asks to lack ("no capital") is null,
    empty or absent, when at most ``most`` (and some) are."""
    if not question:
        return set()
    wanted = lacked_fields(question)
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
            i for i, item in enumerate(items) if isinstance(item, dict) and _empty(item.get(key))
        }
        if 0 < len(holders) <= most:
            found |= holders
    return found
