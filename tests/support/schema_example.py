"""A deterministic value that conforms to a JSON schema: tool-call arguments and structured
output for the loopback server's default replies."""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 12


def example_from_schema(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """The simplest value valid under ``schema`` (types, enums, const, refs, min sizes)."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None if depth > _MAX_DEPTH else {}
    if "$ref" in schema:
        return example_from_schema(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return example_from_schema((non_null or options)[0], root, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, dict) and "$ref" in part:
                part = _resolve(part["$ref"], root)
            if isinstance(part, dict):
                merged = _merge(merged, part)
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return example_from_schema(_merge(merged, rest), root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or kind
        kind = kinds[0] if kinds else None
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return _example_of_type(kind, schema, root, depth)


def _example_of_type(kind: str, schema: dict[str, Any], root: Any, depth: int) -> Any:
    if kind == "object":
        props = schema.get("properties") or {}
        return {
            name: example_from_schema(spec, root, depth + 1)
            for name, spec in props.items()
            if isinstance(spec, dict)
        }
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        items = schema.get("items")
        if isinstance(items, list):  # tuple form
            return [example_from_schema(s, root, depth + 1) for s in items]
        return [example_from_schema(items or {}, root, depth + 1) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        if low is None:
            return 1.5
        return float(low) + (0.5 if "exclusiveMinimum" in schema else 0.0)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _example_string(schema)


def _example_string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    text = {
        "date": "2024-01-15",
        "date-time": "2024-01-15T10:00:00Z",
        "time": "10:00:00",
        "email": "user@example.com",
        "uri": "https://example.com",
        "uuid": "00000000-0000-4000-8000-000000000000",
    }.get(fmt if isinstance(fmt, str) else "", "example")
    min_length = int(schema.get("minLength", 0))
    if len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and len(text) > max_length:
        text = text[:max_length]
    return text


def _resolve(ref: Any, root: Any) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return {}
    node = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict):
            return {}
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
    return node


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if key == "properties" and isinstance(value, dict):
            out["properties"] = {**out.get("properties", {}), **value}
        else:
            out[key] = value
    return out
