"""Fixtures for the LangChain integration tests: chat models pointed at the loopback server.

No ``__init__.py`` here on purpose: a ``tests/langchain`` package could shadow the real
``langchain`` package. Shared helpers live in ``lc_helpers.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from lc_helpers import reading_reply

from tests.support.openai_server import OpenAIServer


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


@pytest.fixture
def reading_server(openai_server: OpenAIServer) -> OpenAIServer:
    """The loopback server answering with ``reading_reply`` when nothing is queued."""
    openai_server.responder = reading_reply
    return openai_server
