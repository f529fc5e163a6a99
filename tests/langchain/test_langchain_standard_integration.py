"""langchain-tests' ChatModelIntegrationTests for HeadroomChatOpenAI (optimize mode) against
the loopback OpenAI-compatible server: real HTTP, real openai SDK, real ChatOpenAI code."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_headroom import HeadroomChatOpenAI
from tests.support.openai_server import OpenAIServer


class TestHeadroomChatOpenAIIntegration(ChatModelIntegrationTests):
    """Unsupported through the suite's own properties (each left at the suite's default of
    False, so the suite skips the test with its reason):
    supports_pdf_inputs, supports_audio_inputs, supports_pdf_tool_message,
    supports_image_tool_message - the loopback server is not a multimodal model, and these
    tests check the model's reading of the file; supports_anthropic_inputs - Anthropic-format
    content is not an OpenAI feature; enable_vcr_tests (test_stream_time) - a timing benchmark
    recorded against the real API, and tests here make no timed assertions."""

    server: OpenAIServer | None = None

    @pytest.fixture(autouse=True)
    def _loopback(self, reading_server: OpenAIServer) -> None:
        type(self).server = reading_server

    @property
    def chat_model_class(self) -> type[HeadroomChatOpenAI]:
        return HeadroomChatOpenAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        assert self.server is not None
        return {
            "model": "gpt-4o",
            "base_url": self.server.base_url,
            "api_key": "test-key",
            "headroom_mode": "optimize",
            # ChatOpenAI asks for streamed usage only when told to once base_url is set.
            "stream_usage": True,
        }

    @property
    def model_override_value(self) -> str:
        return "gpt-4o-mini"

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        # test_image_inputs downloads its image from the internet; the suite runs offline.
        # Image parts through HeadroomChatOpenAI are covered in test_langchain_chat_openai.py.
        return False
