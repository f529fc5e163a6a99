"""Hypothesis settings for the core suite: derandomized in CI so a run is reproducible."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import headroom.tokens as tokens_module

settings.register_profile(
    "headroom",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("headroom")


@pytest.fixture
def tokenized_lengths(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every text tokenized from now on in the test (counts stay real)."""
    real, seen = tokens_module._encode_len, []

    def spied(encoding: str, text: str) -> int:
        seen.append(len(text))
        return real(encoding, text)

    monkeypatch.setattr(tokens_module, "_encode_len", spied)
    return seen
