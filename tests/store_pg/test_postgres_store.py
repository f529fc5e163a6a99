"""The PostgreSQL store against a real PostgreSQL 15: the same records, queries and summaries as
the SQLite store, idempotent writes, a self-migrating schema, and no password anywhere."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
import pytest

from headroom.recording import Recorder
from headroom.store import RequestRecord, open_store, summarize
from headroom.store.postgres import (
    MIGRATIONS,
    SCHEMA_VERSION,
    TABLE,
    VERSION_TABLE,
    PostgresStore,
    migrate,
    parse_url,
    redact,
)
from tests.store.test_stores import BASE, _records
from tests.store_pg.cluster import PASSWORD, PostgresCluster


@pytest.fixture
def store(pg_url: str) -> Iterator[PostgresStore]:
    opened = open_store(pg_url)
    assert isinstance(opened, PostgresStore)
    yield opened
    opened.close()


def test_round_trip_keeps_every_field(store: PostgresStore) -> None:
    records = _records()
    for record in records:
        store.write(record)
    by_id = {r.id: r for r in store.query(limit=None)}
    assert set(by_id) == {r.id for r in records}
    for record in records:
        assert by_id[record.id] == record


def test_query_semantics_match_memory(store: PostgresStore) -> None:
    reference = open_store("memory://")
    for record in _records():
        store.write(record)
        reference.write(record)
    cases: list[dict[str, object]] = [
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
    same_second = [r.id for r in store.query(limit=None) if r.timestamp == BASE + 50]
    assert same_second.index("zz") < same_second.index("aa")


def test_summary_matches_summarize(store: PostgresStore) -> None:
    records = _records()
    for record in records:
        store.write(record)
    assert store.summary() == summarize(records)
    window = [r for r in records if BASE + 20 <= r.timestamp < BASE + 80]
    assert store.summary(since=BASE + 20, until=BASE + 80) == summarize(window)
    assert store.summary(since=BASE + 10_000) == summarize([])


def test_since_accepts_datetimes_and_bad_filters_are_value_errors(store: PostgresStore) -> None:
    for record in _records():
        store.write(record)
    moment = datetime.fromtimestamp(BASE + 50, tz=UTC)
    as_number = [r.id for r in store.query(since=BASE + 50)]
    assert as_number and [r.id for r in store.query(since=moment)] == as_number
    assert [r.id for r in store.query(since=moment.replace(tzinfo=None))] == as_number
    with pytest.raises(ValueError, match="since"):
        store.query(since="yesterday")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        store.query(limit=-1)


def test_a_retried_write_never_duplicates(pg_url: str, store: PostgresStore) -> None:
    record = _records()[3]
    store.write(record)
    store.write(record)
    other = open_store(pg_url.replace("postgresql://", "postgres://"))
    other.write(record)  # another process retrying the same record
    other.close()
    assert [r.id for r in store.query(limit=None)] == [record.id]
    assert store.summary()["total_requests"] == 1


def test_hostile_strings_survive_exactly(store: PostgresStore) -> None:
    nasty = "nul\x00 lone\ud800 surrogate, emoji \U0001f600, quote ' \" \\ ; DROP TABLE x"
    record = RequestRecord(
        model=nasty, mode="audit", error_type=nasty, content={"messages": [nasty]}
    )
    store.write(record)
    assert store.query() == [record]
    assert [r.id for r in store.query(model=nasty)] == [record.id]
    assert store.summary()["error_count"] == 1


def test_schema_migrates_from_version_1(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrate(conn, target=1) == 0
        old = RequestRecord(model="gpt-4o", mode="audit", timestamp=BASE, tokens_before=7)
        conn.execute(
            f"INSERT INTO {TABLE} (id, timestamp, model, mode, tokens_before, record) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (old.id, old.timestamp, old.model, old.mode, 7, _legacy_json(old)),
        )
        columns = _columns(conn)
        assert "source" not in columns and "stable_prefix_hash" not in columns
    store = PostgresStore(pg_url)
    new = RequestRecord(model="gpt-4o", mode="optimize", timestamp=BASE + 1, source="cli")
    store.write(new)
    assert [r.id for r in store.query()] == [new.id, old.id]
    assert store.query()[1] == old
    assert store.summary()["total_tokens_before"] == 7
    store.close()
    with psycopg.connect(pg_url) as conn:
        assert {"source", "stable_prefix_hash"} <= _columns(conn)
        version = conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchall()
        assert version == [(SCHEMA_VERSION,)] and len(MIGRATIONS) == SCHEMA_VERSION
        source = conn.execute(f"SELECT source FROM {TABLE} WHERE id = %s", (old.id,)).fetchone()
        assert source == ("openai",)


def test_a_newer_schema_is_refused(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        migrate(conn)
        conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (SCHEMA_VERSION + 1,))
    store = PostgresStore(pg_url)
    with pytest.raises(ValueError, match="newer"):
        store.write(_records()[0])
    store.close()


def test_many_stores_migrating_at_once_agree(pg_url: str) -> None:
    """Eight stores (as eight processes would) open a fresh database at the same moment."""
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        store = PostgresStore(pg_url)
        try:
            start.wait()
            for i in range(25):
                store.write(RequestRecord(model=f"m{n}", mode="audit", tokens_before=i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = PostgresStore(pg_url)
    assert store.summary()["total_requests"] == 200
    assert store.summary()["total_tokens_before"] == 8 * sum(range(25))
    store.close()


def test_urls_options_and_redaction() -> None:
    conninfo, options = parse_url(
        "postgres://u:p%40ss@db.example:5433/metrics?timeout=0.5&sslmode=disable&pool_size=2"
    )
    assert conninfo.startswith("postgresql://u:p%40ss@db.example:5433/metrics?")
    passed = dict(parse_qsl(urlsplit(conninfo).query))
    assert passed == {"sslmode": "disable", "connect_timeout": "2"}  # ours are taken out
    assert options["timeout"] == 0.5 and options["pool_size"] == 2
    assert redact("postgresql://u:hunter2@h/db") == "postgresql://u:***@h/db"
    assert "hunter2" not in redact("postgresql://h/db?password=hunter2")
    for bad in [
        "postgresql://u:hunter2@h:notaport/db",
        "postgresql://u:hunter2@h/db?timeout=-1",
        "postgresql://u:hunter2@h/db?pool_size=0",
        "postgresql://u:hunter2@h/db?retry_after=soon",
    ]:
        with pytest.raises(ValueError) as caught:
            open_store(bad)
        assert "hunter2" not in str(caught.value)
        assert "store_url" in str(caught.value)


def test_password_never_reaches_url_repr_errors_or_logs(
    pg_cluster: PostgresCluster, pg_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(pg_cluster.url(pg_database))
    assert PASSWORD not in store.url and PASSWORD not in repr(store)
    wrong = open_store(pg_cluster.url(pg_database, password="wrong-" + PASSWORD))
    recorder = Recorder(wrong)
    with caplog.at_level(logging.DEBUG):
        assert recorder.write(_records()[0]) is False
        assert recorder.write(_records()[1]) is False
    assert recorder.dropped_records == 2
    assert "password authentication failed" in caplog.text
    assert caplog.text.count("could not write a metrics record") == 1
    assert PASSWORD not in caplog.text
    store.close()
    wrong.close()


def test_server_down_fails_fast_and_writes_resume(
    pg_cluster: PostgresCluster, store: PostgresStore
) -> None:
    recorder = Recorder(store)
    assert recorder.write(RequestRecord(model="m", mode="audit", id="before"))
    pg_cluster.stop()
    try:
        assert recorder.write(RequestRecord(model="m", mode="audit", id="down-1")) is False
        begun = time.monotonic()
        assert recorder.write(RequestRecord(model="m", mode="audit", id="down-2")) is False
        assert time.monotonic() - begun < store.timeout  # failed fast, did not wait for a pool
        assert set(recorder.failures) == {"OperationalError"}
    finally:
        pg_cluster.start()
    deadline = time.monotonic() + 30
    while not recorder.write(RequestRecord(model="m", mode="audit", id="after")):
        assert time.monotonic() < deadline, "writes did not resume after the server came back"
        time.sleep(0.05)
    assert {r.id for r in store.query(limit=None)} == {"before", "after"}


def test_without_psycopg_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ValueError, match=r"headroom\[postgres\]"):
        open_store("postgresql://u:pw@localhost/db")


def _columns(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (TABLE,)
    ).fetchall()
    return {str(row[0]) for row in rows}


def _legacy_json(record: RequestRecord) -> str:
    """A record as schema 1 wrote it: without the fields added later."""
    import json

    data = record.to_dict()
    data.pop("source")
    data.pop("stable_prefix_hash")
    return json.dumps(data)


def test_the_throwaway_cluster_runs_unprivileged_on_loopback_and_leaves_nothing() -> None:
    with PostgresCluster() as cluster:
        root, port = cluster.root, cluster.port
        assert cluster.data.stat().st_uid != 0  # PostgreSQL refuses root; it runs as another user
        with psycopg.connect(cluster.url()) as conn:
            row = conn.execute("SELECT current_setting('listen_addresses')").fetchone()
            assert row == ("127.0.0.1",)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(cluster.url(password="not-the-password")).close()
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.url(), connect_timeout=2).close()
    assert cluster.port == port
