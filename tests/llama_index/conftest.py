"""Fixtures for the LlamaIndex integration tests: an offline embedding that really retrieves,
LlamaIndex Settings restored after each test, and OpenAI LLMs pointed at the loopback server.

No ``__init__.py`` here on purpose: a ``tests/llama_index`` package could shadow the real
``llama_index`` namespace package.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Settings
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.callbacks import CallbackManager

_WORD = re.compile(r"\w+")


class HashingEmbedding(BaseEmbedding):
    """Bag of words hashed into a fixed-size, L2-normalised vector: deterministic, offline,
    and similar texts get similar vectors (so retrieval ranks by word overlap)."""

    dim: int = 512

    @classmethod
    def class_name(cls) -> str:
        return "HashingEmbedding"

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for word in _WORD.findall(text.casefold()):
            vector[zlib.crc32(word.encode("utf-8")) % self.dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture(autouse=True)
def _llama_index_settings() -> Iterator[None]:
    """Every test starts with an offline embedding and no global LLM or callbacks, and
    leaves Settings as it found them."""
    saved = (Settings._llm, Settings._embed_model, Settings._callback_manager)
    Settings._llm = None
    Settings._callback_manager = None
    Settings.embed_model = HashingEmbedding()
    yield
    Settings._llm, Settings._embed_model, Settings._callback_manager = saved


@pytest.fixture
def embed_model() -> HashingEmbedding:
    return HashingEmbedding()


@pytest.fixture
def make_openai(openai_server: Any) -> Any:
    """Build ``llama_index.llms.openai.OpenAI`` talking to the loopback server, no retries."""
    from llama_index.llms.openai import OpenAI

    def make(**kwargs: Any) -> OpenAI:
        kwargs.setdefault("model", "gpt-4o")
        kwargs.setdefault("api_key", "sk-test")
        kwargs.setdefault("api_base", openai_server.base_url)
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("callback_manager", CallbackManager([]))
        return OpenAI(**kwargs)

    return make


@pytest.fixture
def chat_requests(openai_server: Any) -> Any:
    """The chat completion requests the server received, as parsed JSON bodies."""

    def bodies() -> list[dict[str, Any]]:
        return [r.json for r in openai_server.requests if r.path.endswith("/chat/completions")]

    return bodies
