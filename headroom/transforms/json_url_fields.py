"""Link fields an API derives from an object's own ``url``, sent as one template.

GitHub's REST API gives every repository some forty links (``forks_url`` is its ``url`` and
"/forks", ``keys_url`` its ``url`` and "/keys{/key_id}") and every user eight. In a search
result they are most of the tokens, and each is the object's ``url`` with a fixed ending. An
object's derived link fields (at least ``MIN_FIELDS``) become one key,
``"__headroom_url_fields"``, where the first of them was: the first object with a given set
defines it (``{"L1": {"forks_url": "{url}/forks", ...}}``), later ones name it (``"L1"``), in
document order, so a reader meets a definition before its uses. Nothing is lost:
``expand_url_fields`` writes the fields back (where the key is, in the definition's order; an
object's key order carries no meaning in JSON). A field the question names ("where are its
logs?": ``logs_url``) stays as it is.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .flags import spells_field

URL_FIELDS_KEY = "__headroom_url_fields"
BASE_KEY = "url"
TEMPLATE_BASE = "{url}"
URL_KEY_TEXT = '"url":"'  # in minified JSON, where an object has a url to derive links from
MIN_FIELDS = 3  # fewer fields save less than the key that stands for them costs
_MAX_DEPTH = 64  # compressed documents are far shallower; this only bounds the recursion
_ENDINGS = ("/", "{", "?", "#")  # what follows the url in a link under it
_LINK_ENDINGS = ("_url", "Url")  # names of link fields


def factor_url_fields(document: Any, asked_words: Collection[str] = ()) -> tuple[Any, int]:
    """(``document`` with each object's derived link fields replaced by a ``URL_FIELDS_KEY``
    entry, how many objects changed). ``asked_words``: the question's words; a field whose
    name they spell is kept. A set of links is factored only where that makes the document
    shorter (a short ``url`` used once may not)."""
    factor = _Factor(asked_words)
    factor.find_sets(document)
    if not factor.worth:
        return document, 0
    return factor.walk(document), factor.changed


def expand_url_fields(document: Any) -> Any:
    """``document`` with every ``URL_FIELDS_KEY`` entry written out again as the fields it
    stands for (an entry naming no set defined before it, or on an object without a ``url``,
    stays)."""
    return _expand(document, {}, 0)


_LinkSet = tuple[tuple[str, str], ...]  # (field, template) by field name


class _Factor:
    def __init__(self, asked_words: Collection[str]) -> None:
        self.asked_words = frozenset(asked_words)
        self.sets: dict[int, tuple[list[str], _LinkSet]] = {}  # by id() of the object
        self.holders: set[int] = set()  # id() of each container holding a link set
        self.worth: set[_LinkSet] = set()
        self.ids: dict[_LinkSet, str] = {}
        self.changed = 0

    def find_sets(self, document: Any) -> None:
        """Read each object's link set, and keep those whose factoring saves characters:
        every use costs the key and a name, the first one also the templates."""
        saved: dict[_LinkSet, int] = {}
        self._find(document, 0, saved)
        for link_set, chars in saved.items():
            if chars > sum(len(k) + len(t) + 6 for k, t in link_set):
                self.worth.add(link_set)

    def _find(self, node: Any, depth: int, saved: dict[_LinkSet, int]) -> bool:
        """Whether ``node`` holds an object with a link set (noted in ``holders``)."""
        if depth > _MAX_DEPTH:
            return False
        found = False
        if isinstance(node, list):
            for value in node:
                if isinstance(value, (dict, list)) and self._find(value, depth + 1, saved):
                    found = True
        elif isinstance(node, dict):
            keys = self._derived_keys(node)
            if keys:
                link_set = self._link_set(node, keys)
                self.sets[id(node)] = (keys, link_set)
                written = sum(len(k) + len(node[k]) + 6 for k in keys)
                saved[link_set] = saved.get(link_set, 0) + written - len(URL_FIELDS_KEY) - 12
                found = True
            for value in node.values():
                if isinstance(value, (dict, list)) and self._find(value, depth + 1, saved):
                    found = True
        if found:
            self.holders.add(id(node))
        return found

    def walk(self, node: Any) -> Any:
        """``node`` with the worthwhile link sets of the objects in it factored (only the
        containers ``find_sets`` saw holding one are rebuilt)."""
        if id(node) not in self.holders:
            return node
        if isinstance(node, list):
            return [self.walk(v) if id(v) in self.holders else v for v in node]
        keys, link_set = self.sets.get(id(node), ([], ()))
        derived = keys if link_set in self.worth else []
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in derived:
                if URL_FIELDS_KEY not in out:
                    out[URL_FIELDS_KEY] = self._marker(link_set)
                continue
            out[key] = self.walk(value) if id(value) in self.holders else value
        if derived:
            self.changed += 1
        return out

    def _derived_keys(self, node: dict[str, Any]) -> list[str]:
        """The fields of ``node`` derived from its ``url`` (none if fewer than
        ``MIN_FIELDS``, or if the object already has the key)."""
        base = node.get(BASE_KEY)
        if not isinstance(base, str) or not base or URL_FIELDS_KEY in node:
            return []
        size = len(base)
        keys = [
            key
            for key, value in node.items()
            if type(value) is str
            and key.endswith(_LINK_ENDINGS)
            and value.startswith(base)
            and len(value) > size
            and value[size] in _ENDINGS
            and key != BASE_KEY
            and not self._asked(key)
        ]
        return keys if len(keys) >= MIN_FIELDS else []

    def _asked(self, key: str) -> bool:
        """Whether the question spells the field's name ("the pull requests": pulls_url)."""
        return spells_field(key, self.asked_words, BASE_KEY)

    @staticmethod
    def _link_set(node: dict[str, Any], keys: list[str]) -> _LinkSet:
        """The templates of ``keys`` by name (the same links in another order are the same
        set)."""
        base: str = node[BASE_KEY]
        return tuple(sorted((key, TEMPLATE_BASE + node[key][len(base) :]) for key in keys))

    def _marker(self, link_set: _LinkSet) -> Any:
        """The set's name, or its definition where it is first met."""
        known = self.ids.get(link_set)
        if known is not None:
            return known
        name = self.ids[link_set] = f"L{len(self.ids) + 1}"
        return {name: dict(link_set)}


def _expand(node: Any, sets: dict[str, dict[str, str]], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return node
    if isinstance(node, list):
        return [_expand(v, sets, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    base = node.get(BASE_KEY)
    out: dict[str, Any] = {}
    for key, value in node.items():
        fields = _fields(value, sets) if key == URL_FIELDS_KEY else None
        if fields is None or not isinstance(base, str) or any(k in node for k in fields):
            out[key] = _expand(value, sets, depth + 1)
            continue
        for name, template in fields.items():
            out[name] = base + template.removeprefix(TEMPLATE_BASE)
    return out


def _fields(marker: Any, sets: dict[str, dict[str, str]]) -> dict[str, str] | None:
    """The fields a ``URL_FIELDS_KEY`` entry stands for; a definition is remembered."""
    if isinstance(marker, str):
        return sets.get(marker)
    if not isinstance(marker, dict) or len(marker) != 1:
        return None
    (name, fields), *_ = marker.items()
    if not isinstance(fields, dict) or not all(
        isinstance(t, str) and t.startswith(TEMPLATE_BASE) for t in fields.values()
    ):
        return None
    sets[name] = fields
    return fields
