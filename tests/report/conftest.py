"""A small store with known numbers, hostile names included, for the report tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from headroom.plan import WASTE_CATEGORIES
from headroom.store import RequestRecord, open_store

SCRIPT_TOOL = "<script>alert(1)</script>"
ATTR_TOOL = '"><svg onload=alert(2)>'
IMG_MODEL = "<img src=x onerror=\"document.title='pwned'\">"
DAY0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC).timestamp()
DAY = 86400.0


def waste(**tokens: int) -> dict[str, int]:
    return {c: tokens.get(c, 0) for c in WASTE_CATEGORIES}


def seed_records() -> list[RequestRecord]:
    """Three requests over four days (day 2 empty): two audited gpt-4o requests whose prefix
    differs only by the date, and one optimized request of a model with a hostile name."""
    return [
        RequestRecord(
            model="gpt-4o",
            mode="audit",
            id="r1",
            timestamp=DAY0,
            source="cli",
            tokens_before=12000,
            tokens_after=12000,
            waste=waste(json_whitespace=1500, oversized_tool_output=4000, dynamic_prefix=1200),
            tool_tokens={"search_docs": 8000, SCRIPT_TOOL: 2000},
            prefix_hash="p1",
            stable_prefix_hash="s1",
            context_window=128000,
            prompt_tokens=12000,
            cached_tokens=0,
        ),
        RequestRecord(
            model="gpt-4o",
            mode="audit",
            id="r2",
            timestamp=DAY0 + DAY,
            source="cli",
            tokens_before=6000,
            tokens_after=6000,
            waste=waste(json_whitespace=500, dynamic_prefix=1200),
            tool_tokens={"search_docs": 3000},
            prefix_hash="p2",
            stable_prefix_hash="s1",
            context_window=128000,
            prompt_tokens=6000,
            cached_tokens=1024,
        ),
        RequestRecord(
            model=IMG_MODEL,
            mode="optimize",
            id="r3",
            timestamp=DAY0 + 3 * DAY + 60,
            tokens_before=5000,
            tokens_after=2000,
            tokens_saved=3000,
            transforms={"tool_output_compression": 3000},
            waste=waste(json_whitespace=600, oversized_tool_output=2500),
            tool_tokens={"run_sql": 3000, ATTR_TOOL: 1000},
            prefix_hash="p3",
            stable_prefix_hash="s3",
            context_window=128000,
            estimated_savings_usd=0.0075,
        ),
    ]


@pytest.fixture
def seeded_store(tmp_path: Path) -> Iterator[str]:
    """A real SQLite store holding ``seed_records()``; yields its URL."""
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    store = open_store(url)
    for record in seed_records():
        store.write(record)
    store.close()
    yield url
