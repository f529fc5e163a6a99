"""PostgreSQL stopped while requests run through HeadroomClient (in this folder for the cluster
fixture): every request completes, the outage is logged once and counted, writes resume."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import openai
import pytest

from headroom import HeadroomClient
from tests.store_pg.cluster import PostgresCluster
from tests.support.openai_server import OpenAIServer

REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}
PER_PHASE = 3


@pytest.fixture
def bare(openai_server: OpenAIServer) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    yield client
    client.close()


def test_database_stopped_mid_run_then_started_again(
    pg_cluster: PostgresCluster,
    pg_url: str,
    bare: openai.OpenAI,
    openai_server: OpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = HeadroomClient(original_client=bare, store_url=pg_url)

    def phase() -> None:
        for _ in range(PER_PHASE):
            assert client.chat.completions.create(**REQUEST).choices[0].message.content

    with caplog.at_level(logging.WARNING, logger="headroom"):
        phase()
        pg_cluster.stop()
        try:
            phase()
            assert client.dropped_records == PER_PHASE
        finally:
            pg_cluster.start()
        # The pool notices the server is back by itself; wait for it without a request.
        deadline = time.monotonic() + 30
        while True:
            try:
                client.get_metrics(limit=1)
                break
            except Exception:  # noqa: BLE001 - still reconnecting
                assert time.monotonic() < deadline, "the store did not come back"
                time.sleep(0.1)
        phase()
    assert len(openai_server.chat_requests) == 3 * PER_PHASE
    warnings = [r.getMessage() for r in caplog.records if "could not write" in r.getMessage()]
    assert len(warnings) == 1 and "OperationalError" in warnings[0]
    summary = client.get_summary()
    assert summary["dropped_records"] == PER_PHASE
    assert summary["total_requests"] == 2 * PER_PHASE
    client.close()
