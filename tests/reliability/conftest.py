"""Fixtures for the reliability suite: the bare SDK against the loopback server, and hypothesis
settings that are derandomized under CI so every run tries the same cases."""

from __future__ import annotations

import os
from collections.abc import Iterator

import openai
import pytest
from hypothesis import HealthCheck, settings

from tests.support.openai_server import OpenAIServer

settings.register_profile(
    "headroom-reliability",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=bool(os.environ.get("CI")),
)

# The fuzz tests apply this explicitly (a loaded profile is process-wide, and other folders load
# their own): small example counts keep the whole folder well under a minute on two cores.
FUZZ = settings(settings.get_profile("headroom-reliability"))


@pytest.fixture
def bare(openai_server: OpenAIServer) -> Iterator[openai.OpenAI]:
    """The plain SDK client, no retries, so faults surface at once."""
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    yield client
    client.close()
