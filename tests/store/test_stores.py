"""Every store keeps the MemoryStore's semantics: newest first, since inclusive and until
exclusive, filters by model and mode, and a summary equal to ``record.summarize``."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from headroom.store import MetricsStore, RequestRecord, open_store, summarize
from headroom.store.jsonl import JSONLStore
from headroom.store.sqlite import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SQLiteStore,
    _retry_while_busy,
    migrate,
)

BASE = 1_700_000_000.0


def _records() -> list[RequestRecord]:
    records = []
    for i in range(12):
        records.append(
            RequestRecord(
                model="gpt-4o" if i % 3 else "gpt-4o-mini",
                mode="optimize" if i % 2 else "audit",
                timestamp=BASE + i * 10,
                stream=i % 4 == 0,
                tokens_before=1000 + i,
                tokens_after=900 + i if i % 2 else 1000 + i,
                tokens_saved=100 if i % 2 else 0,
                transforms={"tool_output_compression": 100 if i % 2 else 0},
                waste={"json_whitespace": i},
                tool_tokens={"search": 10 * i},
                prompt_tokens=None if i == 5 else 1000 + i,
                completion_tokens=20,
                cached_tokens=None if i % 5 == 0 else 128,
                estimated_savings_usd=0.00025 if i % 2 else 0.0,
                error_type="RateLimitError" if i == 7 else None,
                headroom_ms=0.25,
                upstream_ms=120.5,
            )
        )
    # two records in the same second, ordered by id
    records.append(RequestRecord(model="gpt-4o", mode="audit", timestamp=BASE + 50, id="zz"))
    records.append(RequestRecord(model="gpt-4o", mode="audit", timestamp=BASE + 50, id="aa"))
    return records


@pytest.fixture(params=["memory", "sqlite", "jsonl"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetricsStore]:
    url = {
        "memory": "memory://",
        "sqlite": f"sqlite:///{tmp_path / 'm.db'}",
        "jsonl": f"jsonl://{tmp_path / 'm.jsonl'}",
    }[request.param]
    opened = open_store(url)
    yield opened
    opened.close()


def test_round_trip_keeps_every_field(store: MetricsStore) -> None:
    records = _records()
    for record in records:
        store.write(record)
    by_id = {r.id: r for r in store.query(limit=None)}
    assert set(by_id) == {r.id for r in records}
    for record in records:
        assert by_id[record.id] == record


def test_query_semantics_match_memory(store: MetricsStore) -> None:
    reference = open_store("memory://")
    for record in _records():
        store.write(record)
        reference.write(record)
    cases = [
        {},
        {"limit": 3},
        {"limit": 0},
        {"limit": None},
        {"since": BASE + 50},
        {"until": BASE + 50},
        {"since": BASE + 20, "until": BASE + 60},
        {"model": "gpt-4o-mini"},
        {"mode": "optimize"},
        {"model": "gpt-4o", "mode": "audit", "limit": 2},
        {"model": "no-such-model"},
    ]
    for case in cases:
        got = [r.id for r in store.query(**case)]  # type: ignore[arg-type]
        expected = [r.id for r in reference.query(**case)]  # type: ignore[arg-type]
        assert got == expected, case
    ordered = store.query(limit=None)
    assert [r.timestamp for r in ordered] == sorted((r.timestamp for r in ordered), reverse=True)
    same_second = [r.id for r in ordered if r.timestamp == BASE + 50]
    assert same_second.index("zz") < same_second.index("aa")


def test_summary_matches_summarize(store: MetricsStore) -> None:
    records = _records()
    for record in records:
        store.write(record)
    assert store.summary() == summarize(records)
    window = [r for r in records if BASE + 20 <= r.timestamp < BASE + 80]
    assert store.summary(since=BASE + 20, until=BASE + 80) == summarize(window)
    assert store.summary(since=BASE + 10_000) == summarize([])


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_since_accepts_datetimes(kind: str, tmp_path: Path) -> None:
    store: MetricsStore = (
        SQLiteStore(f"sqlite:///{tmp_path / 'm.db'}")
        if kind == "sqlite"
        else JSONLStore(f"jsonl://{tmp_path / 'm.jsonl'}")
    )
    for record in _records():
        store.write(record)
    moment = datetime.fromtimestamp(BASE + 50, tz=UTC)
    naive = moment.replace(tzinfo=None)
    as_number = [r.id for r in store.query(since=BASE + 50)]
    assert [r.id for r in store.query(since=moment)] == as_number  # type: ignore[arg-type]
    assert [r.id for r in store.query(since=naive)] == as_number  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="since"):
        store.query(since="yesterday")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        store.query(limit=-1)


def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///rel.db")
    assert isinstance(relative, SQLiteStore) and relative.path == "rel.db"
    absolute = open_store(f"sqlite:///{tmp_path}/abs.db")
    assert isinstance(absolute, SQLiteStore) and absolute.path == f"{tmp_path}/abs.db"
    relative.write(RequestRecord(model="m", mode="audit"))
    assert (tmp_path / "rel.db").exists()
    log = open_store(f"jsonl:///{tmp_path}/a/b.jsonl")
    assert isinstance(log, JSONLStore) and log.path == f"{tmp_path}/a/b.jsonl"
    assert isinstance(open_store("jsonl://rel.jsonl"), JSONLStore)
    for bad in ["", "mysql://x", "sqlite://nofile", "sqlite:///", "file:///x", "jsonl://"]:
        with pytest.raises(ValueError, match="sqlite|jsonl|store_url"):
            open_store(bad)
    with pytest.raises(ValueError, match="sqlite:///, jsonl:///, memory://"):
        open_store("redis://localhost")
    with pytest.raises(ValueError, match="timeout"):
        open_store("sqlite:///x.db?mode=ro")


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "m.db"
    store = SQLiteStore(f"sqlite:///{path}")
    store.write(_records()[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_jsonl_file_is_private_one_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    store = JSONLStore(f"jsonl://{path}")
    records = _records()[:3]
    for record in records:
        store.write(record)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = path.read_bytes().splitlines()
    assert len(lines) == 3
    assert [json.loads(line)["id"] for line in lines] == [r.id for r in records]


def test_jsonl_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    store = JSONLStore(f"jsonl://{path}")
    first, second = _records()[:2]
    store.write(first)
    with open(path, "ab") as handle:
        handle.write(b'{"model": "gpt-4o", "mo')  # a crash mid-write
    store.write(second)
    assert [r.id for r in store.query()] == [second.id, first.id]
    assert store.skipped_lines == 1


def test_sqlite_migrates_an_old_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    migrate(conn, target=1)  # a database written by the first schema
    old, new = _records()[1:3]
    conn.execute(
        "INSERT INTO requests (id, timestamp, model, mode, record) VALUES (?, ?, ?, ?, ?)",
        (old.id, old.timestamp, old.model, old.mode, json.dumps(old.to_dict())),
    )
    conn.commit()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    store = SQLiteStore(f"sqlite:///{path}")
    store.write(new)
    assert [r.id for r in store.query()] == [new.id, old.id]
    assert store.query()[1] == old
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        columns = {row[1] for row in check.execute("PRAGMA table_info(requests)")}
    assert {"source", "stable_prefix_hash"} <= columns
    store.close()


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store = SQLiteStore(f"sqlite:///{path}")
    with pytest.raises(ValueError, match="newer"):
        store.write(_records()[0])


@pytest.mark.parametrize("kind", ["sqlite", "jsonl", "memory"])
def test_concurrent_writers_lose_nothing(kind: str, tmp_path: Path) -> None:
    url = {
        "sqlite": f"sqlite:///{tmp_path / 'm.db'}",
        "jsonl": f"jsonl://{tmp_path / 'm.jsonl'}",
        "memory": "memory://",
    }[kind]
    store = open_store(url)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(50):
                store.write(RequestRecord(model=f"m{n}", mode="audit", tokens_before=i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.summary()["total_requests"] == 300
    assert store.summary()["total_tokens_before"] == 6 * sum(range(50))


_CHILD = """
import sys
from headroom.store import RequestRecord, open_store
store = open_store(sys.argv[1])
for i in range(100):
    store.write(RequestRecord(model=sys.argv[2], mode="audit", tokens_before=i,
                              waste={"padding": 1}, tool_tokens={"x" * 2000: i}))
"""


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_several_processes_append_to_one_store(kind: str, tmp_path: Path) -> None:
    url = {"sqlite": f"sqlite:///{tmp_path / 'm.db'}", "jsonl": f"jsonl://{tmp_path / 'm.jsonl'}"}[
        kind
    ]
    children = [subprocess.Popen([sys.executable, "-c", _CHILD, url, f"proc{n}"]) for n in range(3)]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    store = open_store(url)
    records = store.query(limit=None)
    assert len(records) == 300
    assert {r.model for r in records} == {"proc0", "proc1", "proc2"}
    if isinstance(store, JSONLStore):
        assert store.skipped_lines == 0


def test_postgres_url_without_its_support_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "headroom.store.postgres", None)  # as if not installed
    with pytest.raises(ValueError, match="PostgreSQL support is not installed"):
        open_store("postgresql://user:pw@localhost/db")


_RACER = """
import sys, time
from headroom.store import RequestRecord, open_store
url, start_at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))  # every process opens the fresh file at once
store = open_store(url)
for i in range(20):
    store.write(RequestRecord(model="racer", mode="audit", tokens_before=i))
store.close()
"""


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_processes_opening_a_fresh_store_at_once(kind: str, tmp_path: Path) -> None:
    """The schema is created exactly once and no process loses a record or leaves a blank line,
    however the first opens interleave."""
    url = {"sqlite": f"sqlite:///{tmp_path / 'm.db'}", "jsonl": f"jsonl://{tmp_path / 'm.jsonl'}"}[
        kind
    ]
    start_at = time.time() + 2.0
    children = [
        subprocess.Popen([sys.executable, "-c", _RACER, url, str(start_at)], stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    failures = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0] * 6, failures
    store = open_store(url)
    assert store.summary()["total_requests"] == 120
    if kind == "sqlite":
        with sqlite3.connect(tmp_path / "m.db") as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    else:
        text = (tmp_path / "m.jsonl").read_text()
        assert text.count("\n") == 120 and "\n\n" not in text


def test_a_locked_file_is_waited_for_when_the_store_opens(tmp_path: Path) -> None:
    """SQLite can answer "database is locked" at once, without its busy timeout (another
    connection recovering the WAL of a file just opened): opening the store retries for up to
    its timeout. Here the lock is another connection's exclusive transaction, released after
    0.2 s, and the busy timeout is zero, so only the retry can wait for it."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    releaser = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
    releaser.start()
    opener = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _retry_while_busy(opener, "PRAGMA journal_mode=WAL", 0.0)
        _retry_while_busy(opener, "PRAGMA journal_mode=WAL", 5.0)
        assert opener.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        releaser.join()
        opener.close()
        holder.close()
