"""Fixtures for the client suite: the real openai SDK (sync and async) pointed at the loopback
server, bare or wrapped in HeadroomClient."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import openai
import pytest

from headroom import AsyncHeadroomClient, HeadroomClient
from tests.support.openai_server import OpenAIServer


@pytest.fixture
def bare(openai_server: OpenAIServer) -> Iterator[openai.OpenAI]:
    """The plain SDK client, no retries so scripted errors surface at once."""
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    yield client
    client.close()


@pytest.fixture
async def abare(openai_server: OpenAIServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    yield client
    await client.close()


@pytest.fixture
def make_client(bare: openai.OpenAI) -> Callable[..., HeadroomClient]:
    """HeadroomClient around ``bare``; a memory store unless ``store_url`` says otherwise."""

    def make(**kwargs: Any) -> HeadroomClient:
        kwargs.setdefault("store_url", "memory://")
        return HeadroomClient(original_client=bare, **kwargs)

    return make


@pytest.fixture
def make_async_client(abare: openai.AsyncOpenAI) -> Callable[..., AsyncHeadroomClient]:
    def make(**kwargs: Any) -> AsyncHeadroomClient:
        kwargs.setdefault("store_url", "memory://")
        return AsyncHeadroomClient(original_client=abare, **kwargs)

    return make


@pytest.fixture
def client(make_client: Callable[..., HeadroomClient]) -> HeadroomClient:
    return make_client()


@pytest.fixture
def aclient(make_async_client: Callable[..., AsyncHeadroomClient]) -> AsyncHeadroomClient:
    return make_async_client()


def chat_bodies(server: OpenAIServer) -> list[bytes]:
    """The raw bodies of the chat completion requests the server received, in order."""
    return [r.body for r in server.chat_requests]


SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the issue tracker.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look for"},
                "limit": {"type": "integer", "minimum": 1},
            },
            "required": ["query"],
        },
    },
}
