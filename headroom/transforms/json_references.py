"""Repeated objects in JSON tool output, sent once.

API responses repeat whole sub-objects: every GitHub issue carries its author's ``user`` object
with a dozen URLs, every search hit its ``repository`` with its ``owner``, every workflow run
its ``repository`` twice. Each repeat after the first becomes ``{"__headroom_same_as":
"$[0].user"}``, a JSONPath to the first occurrence in the document as sent, so nothing is lost:
the value is still in the request, once. Small values (under ``MIN_CHARS`` when minified) are
left alone, since a reference would not be much shorter.
"""

from __future__ import annotations

import json
import operator
import re
from typing import Any

SAME_AS_KEY = "__headroom_same_as"
MIN_CHARS = 100
MAX_DEPTH = 4  # owner in items[i].repository.owner; each level deeper costs one more serialisation
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
_CONTAINERS = (dict, list)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def reference_repeats(document: Any) -> tuple[Any, int]:
    """(the document with every repeated object or array after its first occurrence replaced
    by a reference, how many were replaced). Containers are visited in document order, so the
    first occurrence is always the one kept, and the result is deterministic."""
    walker = _Walker()
    return walker.walk(document, "$", 0), walker.replaced


class _Walker:
    def __init__(self) -> None:
        self.first_path: dict[str, str] = {}
        self.replaced = 0

    def walk(self, node: Any, path: str, depth: int) -> Any:
        if not isinstance(node, (dict, list)) or not node:
            return node
        if depth > MAX_DEPTH:
            return node  # nothing this deep is referred to
        if depth >= 1:
            key = _serialised(node)
            if key is not None and len(key) < MIN_CHARS:
                return node  # too short to refer to, and so is everything inside it
            if key is not None:
                first = self.first_path.get(key)
                if first is not None:
                    self.replaced += 1
                    return {SAME_AS_KEY: first}
                self.first_path[key] = path
        # Only containers can be referred to: scalars are neither walked nor given a path,
        # and a container none of whose children changed is returned as it is.
        walk, deeper = self.walk, depth + 1
        if isinstance(node, dict):
            as_dict = {
                k: walk(v, _child_path(path, k), deeper) if v and type(v) in _CONTAINERS else v
                for k, v in node.items()
            }
            return as_dict if any(map(operator.is_not, as_dict.values(), node.values())) else node
        as_list = [
            walk(v, f"{path}[{i}]", deeper) if v and type(v) in _CONTAINERS else v
            for i, v in enumerate(node)
        ]
        return as_list if any(map(operator.is_not, as_list, node)) else node


def _serialised(node: Any) -> str | None:
    try:
        return _ENCODER.encode(node)
    except (ValueError, RecursionError, TypeError):
        return None


def _child_path(path: str, key: str) -> str:
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def expand_references(document: Any) -> Any:
    """The document with every reference replaced by a copy of what it points to: what the
    output held before the repeats were referenced (references that do not resolve stay)."""
    return _expand(document, document, 0)


def _expand(node: Any, root: Any, hops: int) -> Any:
    if isinstance(node, dict):
        target = node.get(SAME_AS_KEY) if len(node) == 1 else None
        if isinstance(target, str) and hops < MAX_DEPTH * 4:
            found, value = _lookup(root, target)
            if found:
                return _expand(value, root, hops + 1)
        return {k: _expand(v, root, hops) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(v, root, hops) for v in node]
    return node


def _lookup(root: Any, path: str) -> tuple[bool, Any]:
    if not path.startswith("$"):
        return False, None
    node, rest = root, path[1:]
    while rest:
        match = _STEP.match(rest)
        if match is None:
            return False, None
        name, index, quoted = match.groups()
        try:
            if index is not None:
                node = node[int(index)] if isinstance(node, list) else None
            else:
                key = name if name is not None else json.loads(quoted)
                node = node[key] if isinstance(node, dict) else None
        except (IndexError, KeyError, ValueError):
            return False, None
        if node is None:
            return False, None
        rest = rest[match.end() :]
    return True, node
