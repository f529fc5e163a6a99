"""Fixtures every suite shares: the loopback OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.openai_server import OpenAIServer


@pytest.fixture(scope="session")
def _openai_server_session() -> Iterator[OpenAIServer]:
    """One server thread for the whole run, on an ephemeral port."""
    server = OpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
def openai_server(_openai_server_session: OpenAIServer) -> Iterator[OpenAIServer]:
    """The loopback server, reset (no requests, nothing queued, cold prefix cache) per test."""
    _openai_server_session.reset()
    yield _openai_server_session
    _openai_server_session.reset()
