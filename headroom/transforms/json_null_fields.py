"""An object's null fields, sent as one list of their names.

Payment and CRM APIs answer with every field of an object, set or not: a Stripe invoice
carries some thirty ``"account_name":null`` entries, a customer's address six more. Each
costs its name plus ``":null,``. An object's null fields (where that is shorter) become one
key, ``"__headroom_nulls": "account_name account_tax_ids application"``, where the first of
them was. Nothing is lost: ``expand_null_fields`` writes them back as nulls (where the key
is; an object's key order carries no meaning in JSON). A field the question names ("is the
due date set?": ``due_date``) stays as it is, and so does a name that a space would split.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection
from typing import Any

from .flags import spells_field

NULL_FIELDS_KEY = "__headroom_nulls"
NULL_TEXT = '":null'  # in minified JSON, where some object has a null field
_MAX_DEPTH = 64  # compressed documents are far shallower; this only bounds the recursion
# What the key costs beyond the names it lists: "__headroom_nulls":"", and a comma.
_KEY_CHARS = len(NULL_FIELDS_KEY) + 6
_FIELD_CHARS = len('"":null,')  # what a null field costs beyond its name
_NAME_CHARS = 1  # what a name costs in the list: the space before it
_CONTAINERS = (dict, list)
# The fewest null fields whose list is shorter than they are.
_MIN_NULLS = _KEY_CHARS // (_FIELD_CHARS - _NAME_CHARS) + 1


def factor_null_fields(document: Any, asked_words: Collection[str] = ()) -> tuple[Any, int]:
    """(``document`` with each object's null fields replaced by one ``NULL_FIELDS_KEY``
    entry listing their names, where that is shorter; how many objects changed).
    ``asked_words``: the question's words; a field whose name they spell stays."""
    factor = _Factor(asked_words)
    out = factor.walk(document, 0)
    return out, factor.changed


def expand_null_fields(document: Any) -> Any:
    """``document`` with every ``NULL_FIELDS_KEY`` entry written out again as null fields
    (an entry that is not a string of names, or names a field the object has, stays)."""
    return _expand(document, 0)


class _Factor:
    def __init__(self, asked_words: Collection[str]) -> None:
        self.asked_words = frozenset(asked_words)
        self.changed = 0

    def walk(self, node: Any, depth: int) -> Any:
        """``node`` with its objects' null fields listed; ``node`` itself where nothing in
        it changes."""
        if depth > _MAX_DEPTH:
            return node
        if isinstance(node, list):
            items = [self.walk(v, depth + 1) if type(v) in _CONTAINERS else v for v in node]
            return node if all(map(operator.is_, items, node)) else items
        if not isinstance(node, dict):
            return node
        nulls = self._null_keys(node)
        out: dict[str, Any] = {}
        same = not nulls
        for key, value in node.items():
            if key in nulls:
                if NULL_FIELDS_KEY not in out:
                    out[NULL_FIELDS_KEY] = " ".join(nulls)
                continue
            walked = self.walk(value, depth + 1) if type(value) in _CONTAINERS else value
            same = same and walked is value
            out[key] = walked
        if nulls:
            self.changed += 1
        return node if same else out

    def _null_keys(self, node: dict[str, Any]) -> dict[str, None]:
        """The null fields of ``node`` to list (none where listing them saves nothing, or
        where the object already has the key)."""
        if NULL_FIELDS_KEY in node or None not in node.values():
            return _NO_KEYS
        nulls = [key for key, value in node.items() if value is None]
        if len(nulls) < _MIN_NULLS:
            return _NO_KEYS
        asked = self.asked_words
        keys = [key for key in nulls if _listable(key) and not (asked and spells_field(key, asked))]
        return dict.fromkeys(keys) if len(keys) >= _MIN_NULLS else _NO_KEYS


_NO_KEYS: dict[str, None] = {}


@functools.lru_cache(maxsize=4096)
def _listable(key: str) -> bool:
    """Whether a name can stand in a space-separated list and be read back the same."""
    return key.split() == [key] and not key.startswith("__headroom")


def _expand(node: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return node
    if isinstance(node, list):
        return [_expand(v, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        names = value.split(" ") if key == NULL_FIELDS_KEY and isinstance(value, str) else None
        if names is None or not all(names) or any(n in node for n in names):
            out[key] = _expand(value, depth + 1)
            continue
        for name in names:
            out[name] = None
    return out
