"""langchain-tests' ChatModelUnitTests for HeadroomChatOpenAI and HeadroomChatModel (offline:
no test here sends a request)."""

from __future__ import annotations

from typing import Any

from langchain_openai import ChatOpenAI
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_headroom import HeadroomChatModel, HeadroomChatOpenAI


class TestHeadroomChatOpenAIUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[HeadroomChatOpenAI]:
        return HeadroomChatOpenAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "gpt-4o", "api_key": "test", "headroom_mode": "optimize"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        # Drives test_init_from_env. test_serdes is skipped by the suite because
        # HeadroomChatOpenAI.is_lc_serializable() is False: langchain_core.load only revives
        # classes on LangChain's own allowlist, so a third-party model cannot round-trip.
        return (
            {"OPENAI_API_KEY": "api_key", "OPENAI_API_BASE": "https://base.example"},
            {},
            {"openai_api_key": "api_key", "openai_api_base": "https://base.example"},
        )


class TestHeadroomChatModelUnit(ChatModelUnitTests):
    """The wrapper around a real ChatOpenAI (its bind_tools and structured output).

    test_init_from_env and test_serdes are skipped by the suite itself: the wrapper reads no
    environment variables (the wrapped model does) and, like any model outside LangChain's
    load allowlist, is not lc-serializable."""

    @property
    def chat_model_class(self) -> type[HeadroomChatModel]:
        return HeadroomChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"llm": ChatOpenAI(model="gpt-4o", api_key="test"), "mode": "optimize"}
