"""Many processes, one store: 8 processes x 500 requests each through HeadroomClient against the
loopback server, writing to one PostgreSQL store, then one SQLite file, then one JSONL file.
Each store must hold exactly 4,000 records, one per request, none duplicated or torn, and a
summary equal to the sum of its records and to what the provider reported."""

from __future__ import annotations

import json
import multiprocessing
import queue
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from headroom.store import RequestRecord, open_store, summarize
from headroom.store.jsonl import JSONLStore
from headroom.store.postgres import TABLE
from tests.store_pg import load_worker
from tests.store_pg.cluster import PostgresCluster
from tests.support.openai_server import OpenAIServer
from tests.support.prefix_cache import PrefixCache

pytestmark = pytest.mark.slow  # 12,000 real HTTP requests: about a minute on two idle cores

WORKERS = 8
REQUESTS = 500
TOTAL = WORKERS * REQUESTS
STORES = ("postgresql", "sqlite", "jsonl")


class RecentPrefixCache(PrefixCache):
    """The server's prefix cache, remembering only recent prompts: the full one compares each
    prompt with every earlier one, quadratic over 12,000 requests, and this test is about the
    stores, not cache hits (its prompts are far below the 1,024-token minimum anyway)."""

    def cached_tokens(self, request: dict[str, Any], prompt_tokens: int) -> int:
        cached = super().cached_tokens(request, prompt_tokens)
        with self._lock:
            del self._seen[:-32]
        return cached


@dataclass
class LoadRun:
    urls: dict[str, str]
    results: dict[str, list[load_worker.PhaseResult]]
    server_requests: int


@pytest.fixture(scope="module")
def load_run(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LoadRun]:
    folder = tmp_path_factory.mktemp("load")
    pg_cluster.create_database("headroom_load")
    urls = {
        "postgresql": pg_cluster.url("headroom_load"),
        "sqlite": f"sqlite:///{folder / 'load.db'}",
        "jsonl": f"jsonl://{folder / 'load.jsonl'}",
    }
    server = OpenAIServer()
    server.prefix_cache = RecentPrefixCache()
    server.start()
    try:
        results = _run_workers(server.base_url, [urls[name] for name in STORES])
        yield LoadRun(urls, results, len(server.chat_requests))
    finally:
        server.stop()
        pg_cluster.drop_database("headroom_load")


def _run_workers(
    base_url: str, store_urls: list[str], requests: int = REQUESTS
) -> dict[str, list[load_worker.PhaseResult]]:
    """Run the workers; every phase result, or a test failure naming what went wrong."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.store_pg.load_preload"])
    barrier = context.Barrier(WORKERS)
    results: Any = context.Queue()
    processes = [
        context.Process(
            target=load_worker.run,
            args=(worker, base_url, store_urls, requests, barrier, results),
            name=f"headroom-load-{worker}",
        )
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    collected: list[load_worker.PhaseResult] = []
    expected = WORKERS * len(store_urls)
    idle = 0.0
    try:
        while len(collected) < expected:
            try:
                result = results.get(timeout=0.5)
            except queue.Empty:
                idle += 0.5
                dead = [p.name for p in processes if p.exitcode not in (None, 0)]
                if dead or idle > 120:
                    pytest.fail(f"load workers {dead or 'stalled'} after {len(collected)} results")
                continue
            idle = 0.0
            collected.append(result)
            if result.error is not None:
                pytest.fail(f"load worker {result.worker} failed:\n{result.error}")
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0, (process.name, process.exitcode)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
    return {
        name: sorted((r for r in collected if r.phase == phase), key=lambda r: r.worker)
        for phase, name in enumerate(STORES[: len(store_urls)])
    }


def test_every_request_reached_the_server(load_run: LoadRun) -> None:
    assert load_run.server_requests == len(STORES) * TOTAL
    for name in STORES:
        assert [r.requests for r in load_run.results[name]] == [REQUESTS] * WORKERS, name


@pytest.mark.parametrize("name", STORES)
def test_exactly_one_whole_record_per_request(load_run: LoadRun, name: str) -> None:
    raw = _raw_records(name, load_run.urls[name])
    assert len(raw) == TOTAL  # no record lost, none written twice
    records = [RequestRecord.from_dict(json.loads(text)) for text in raw]  # none torn
    assert len({r.id for r in records}) == TOTAL
    seen = sorted(_request_of(r) for r in records)
    assert seen == [(w, n) for w in range(WORKERS) for n in range(REQUESTS)]
    assert all(r.error_type is None and r.source == "openai" for r in records)
    assert all(r.dropped_records == 0 for r in load_run.results[name])


@pytest.mark.parametrize("name", STORES)
def test_summary_totals_equal_the_records_and_the_provider(load_run: LoadRun, name: str) -> None:
    store = open_store(load_run.urls[name])
    try:
        records = store.query(limit=None)
        summary = store.summary()
        if isinstance(store, JSONLStore):
            assert store.skipped_lines == 0
    finally:
        store.close()
    assert len(records) == TOTAL
    assert summary == summarize(records)
    assert summary["total_requests"] == TOTAL
    assert summary["audit_count"] == summary["optimize_count"] == TOTAL // 2
    worker_results = load_run.results[name]
    assert summary["total_prompt_tokens"] == sum(r.prompt_tokens for r in worker_results)
    assert summary["total_completion_tokens"] == sum(r.completion_tokens for r in worker_results)
    assert summary["total_prompt_tokens"] > 0


def _raw_records(name: str, url: str) -> list[str]:
    """Every stored record exactly as it lies on disk or in the table, bypassing the store."""
    if name == "postgresql":
        with psycopg.connect(url) as conn:
            return [str(row[0]) for row in conn.execute(f"SELECT record FROM {TABLE}")]
    if name == "sqlite":
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            return [str(row[0]) for row in conn.execute("SELECT record FROM requests")]
    text = Path(url.removeprefix("jsonl://")).read_text(encoding="utf-8")
    assert text.endswith("\n")
    return text.removesuffix("\n").split("\n")  # a blank or torn line fails to parse


def _request_of(record: RequestRecord) -> tuple[int, int]:
    assert record.content is not None
    user = record.content["messages"][1]["content"]
    match = re.fullmatch(r"load w(\d+) r(\d+): say hi", user)
    assert match is not None, user
    return int(match.group(1)), int(match.group(2))
