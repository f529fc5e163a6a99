"""Records and metrics through the client: one record per request with the provider's usage
beside Headroom's counts, filters and summaries, and no prompt text unless asked for."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from headroom import HeadroomClient, count_tokens
from headroom.store import SUMMARY_KEYS
from tests.support.openai_server import OpenAIServer, text_reply

MARKER = "ZEBRA-MARKER-7731"
MESSAGES = [
    {"role": "system", "content": "You are a careful assistant."},
    {"role": "user", "content": f"Please remember the code word {MARKER} for later."},
]


def test_record_fields_from_a_real_call(client: HeadroomClient) -> None:
    reply = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    (record,) = client.get_metrics()
    assert reply.usage is not None
    assert record.model == "gpt-4o" and record.mode == "audit" and record.stream is False
    assert record.source == "openai"
    assert record.tokens_before == count_tokens(MESSAGES, "gpt-4o") == reply.usage.prompt_tokens
    assert record.tokens_after == record.tokens_before and record.tokens_saved == 0
    assert record.completion_tokens == reply.usage.completion_tokens
    assert record.cached_tokens == 0
    assert len(record.stable_prefix_hash) == 64
    assert record.messages_count == 2
    assert record.headroom_ms >= 0 and record.upstream_ms is not None and record.upstream_ms > 0
    assert record.content is None
    assert record.error_type is None


def test_cached_tokens_from_the_provider(
    client: HeadroomClient, openai_server: OpenAIServer
) -> None:
    openai_server.queue(text_reply(usage={"prompt_tokens_details": {"cached_tokens": 1152}}))
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert client.get_metrics()[0].cached_tokens == 1152
    assert client.get_summary()["total_cached_tokens"] == 1152


@pytest.mark.parametrize("scheme", ["memory", "sqlite", "jsonl"])
def test_get_metrics_filters_and_summary(
    scheme: str, make_client: Callable[..., HeadroomClient], tmp_path: Path
) -> None:
    url = {
        "memory": "memory://",
        "sqlite": f"sqlite:///{tmp_path / 'm.db'}",
        "jsonl": f"jsonl://{tmp_path / 'm.jsonl'}",
    }[scheme]
    client = make_client(store_url=url)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    middle = time.time()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, headroom_mode="optimize")
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, headroom_mode="optimize")
    records = client.get_metrics()
    assert [r.model for r in records] == ["gpt-4o", "gpt-4o-mini", "gpt-4o"]  # newest first
    assert [r.mode for r in records] == ["optimize", "optimize", "audit"]
    assert len(client.get_metrics(limit=2)) == 2
    assert [r.model for r in client.get_metrics(model="gpt-4o-mini")] == ["gpt-4o-mini"]
    assert len(client.get_metrics(mode="audit")) == 1
    assert len(client.get_metrics(since=middle)) == 2
    assert len(client.get_metrics(since=datetime.fromtimestamp(middle, tz=UTC))) == 2
    summary = client.get_summary()
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["total_requests"] == 3
    assert summary["audit_count"] == 1 and summary["optimize_count"] == 2
    assert summary["total_tokens_before"] == sum(r.tokens_before for r in records)
    assert (
        summary["total_tokens_saved"]
        == summary["total_tokens_before"] - summary["total_tokens_after"]
    )
    assert summary["dropped_records"] == 0
    assert "estimated_cost_saved_usd" in summary
    client.close()


@pytest.mark.parametrize("scheme", ["sqlite", "jsonl"])
def test_no_prompt_text_in_the_store_by_default(
    scheme: str, make_client: Callable[..., HeadroomClient], tmp_path: Path
) -> None:
    path = tmp_path / f"metrics.{scheme}"
    url = f"sqlite:///{path}" if scheme == "sqlite" else f"jsonl://{path}"
    client = make_client(store_url=url)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    for _chunk in client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True):
        pass
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, headroom_mode="optimize")
    client.close()
    assert len(make_client(store_url=url).get_metrics()) == 3
    files = [p for p in tmp_path.iterdir() if p.name.startswith("metrics")]
    assert files
    for file in files:
        raw = file.read_bytes()
        assert MARKER.encode() not in raw
        assert b"careful assistant" not in raw
        assert b"loopback test server" not in raw  # nor the reply


@pytest.mark.parametrize("scheme", ["sqlite", "jsonl"])
def test_store_content_opt_in_keeps_request_and_reply(
    scheme: str, make_client: Callable[..., HeadroomClient], tmp_path: Path
) -> None:
    path = tmp_path / f"metrics.{scheme}"
    url = f"sqlite:///{path}" if scheme == "sqlite" else f"jsonl://{path}"
    client = make_client(store_url=url, store_content=True)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    for _chunk in client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True):
        pass
    streamed, plain = client.get_metrics()
    for record in (streamed, plain):
        assert record.content is not None
        assert record.content["messages"] == MESSAGES
        assert "loopback test server" in record.content["reply"]["content"]
    client.close()
    assert MARKER in json.dumps(make_client(store_url=url).get_metrics()[0].to_dict())
