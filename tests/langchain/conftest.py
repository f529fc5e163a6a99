"""Fixtures for the LangChain integration tests: chat models pointed at the loopback server.

No ``__init__.py`` here on purpose: a ``tests/langchain`` package could shadow the real
``langchain`` package.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.openai_server import (
    OpenAIServer,
    Reply,
    _tool_to_call,
    text_reply,
    tool_call_reply,
)
from tests.support.schema_example import example_from_schema


@pytest.fixture
def openai_kwargs(openai_server: OpenAIServer) -> dict[str, Any]:
    """ChatOpenAI arguments for the loopback server: no retries, usage on streams."""
    return {
        "model": "gpt-4o",
        "base_url": openai_server.base_url,
        "api_key": "test-key",
        "max_retries": 0,
        "stream_usage": True,
    }


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    str(p.get("text", "")) for p in content if isinstance(p, dict)
                )
    return ""


def _arguments(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """Arguments for a tool schema, read from the question: numbers fill numeric parameters
    and quoted phrases fill string parameters, in order; the rest come from the schema."""
    example = example_from_schema(schema)
    args = dict(example) if isinstance(example, dict) else {}
    numbers = [float(n) if "." in n else int(n) for n in _NUMBER.findall(text)]
    quoted = [a or b for a, b in _QUOTED.findall(text)]
    for name, spec in (schema.get("properties") or {}).items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind in ("integer", "number") and numbers:
            args[name] = numbers.pop(0)
        elif kind == "string" and quoted:
            args[name] = quoted.pop(0)
    return args


def reading_reply(body: dict[str, Any]) -> Reply | None:
    """A stand-in model that reads the question, for suites (LangChain's standard tests)
    that check answers against what they asked; None leaves the server's default."""
    tool = _tool_to_call(body)
    text = _last_user_text(body)
    if tool is not None:
        fn = tool["function"]
        return tool_call_reply([(fn["name"], _arguments(fn.get("parameters") or {}, text))])
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_object":
        keys = [a or b for a, b in _QUOTED.findall(text)] or ["answer"]
        return text_reply(json.dumps({key: f"a {key}" for key in keys}))
    return None


@pytest.fixture
def reading_server(openai_server: OpenAIServer) -> OpenAIServer:
    """The loopback server answering with ``reading_reply`` when nothing is queued."""
    openai_server.responder = reading_reply
    return openai_server
