"""SQLite metrics store (``sqlite:///relative.db``, ``sqlite:////absolute.db``).

WAL mode so readers (reports, dashboards) never block the writer; a versioned schema in
``PRAGMA user_version`` that migrates itself forward on open; the database file created 0600
because it describes the user's traffic. One connection behind a lock: SQLite serialises
writers anyway, and a record is one small INSERT.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from datetime import datetime
from typing import Any

from ._columns import COLUMNS
from ._filters import as_epoch, check_limit
from .record import RequestRecord

# Each step takes the schema from version i to i + 1; never edit a released step, append one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS requests (
            id TEXT PRIMARY KEY,
            timestamp REAL NOT NULL,
            model TEXT NOT NULL,
            mode TEXT NOT NULL,
            stream INTEGER NOT NULL DEFAULT 0,
            tokens_before INTEGER NOT NULL DEFAULT 0,
            tokens_after INTEGER NOT NULL DEFAULT 0,
            tokens_saved INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cached_tokens INTEGER,
            estimated_savings_usd REAL NOT NULL DEFAULT 0,
            error_type TEXT,
            record TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS requests_timestamp ON requests (timestamp)",
    ),
    (
        "ALTER TABLE requests ADD COLUMN source TEXT NOT NULL DEFAULT 'openai'",
        "ALTER TABLE requests ADD COLUMN stable_prefix_hash TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX IF NOT EXISTS requests_model_timestamp ON requests (model, timestamp)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
DEFAULT_TIMEOUT = 2.0  # seconds a write waits for another writer before it is dropped

_COLUMNS = COLUMNS
_INSERT = (
    f"INSERT OR REPLACE INTO requests ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


def parse_url(url: str) -> tuple[str, float]:
    """``sqlite:///a.db`` -> (``a.db``, 2.0); ``sqlite:////tmp/a.db?timeout=0.5`` ->
    (``/tmp/a.db``, 0.5): the path and how long a write waits for a lock (seconds)."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"a SQLite store_url looks like sqlite:///relative.db, got {url!r}")
    path, _, query = url[len("sqlite:///") :].partition("?")
    if not path:
        raise ValueError(f"store_url {url!r} names no database file")
    timeout = DEFAULT_TIMEOUT
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        try:
            if key != "timeout":
                raise ValueError
            timeout = float(value)
            if timeout < 0:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"store_url {url!r}: the only query parameter is timeout=<seconds >= 0>"
            ) from None
    return path, timeout


def path_from_url(url: str) -> str:
    """``sqlite:///a.db`` -> ``a.db``; ``sqlite:////tmp/a.db`` -> ``/tmp/a.db``."""
    return parse_url(url)[0]


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target``; return the version found before.

    The version is read again and every step applied inside one ``BEGIN IMMEDIATE``
    transaction, so processes opening a fresh file at once migrate it exactly once."""
    found = _user_version(conn)
    if found >= target:
        return found
    previous = conn.isolation_level
    conn.isolation_level = None  # explicit transaction control for the DDL
    try:
        conn.execute("BEGIN IMMEDIATE")  # the write lock, waiting up to the busy timeout
        try:
            current = _user_version(conn)
            for version in range(current, target):
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
            if current < target:
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.isolation_level = previous
    return found


def _retry_while_busy(conn: sqlite3.Connection, statement: str, timeout: float) -> None:
    """Run ``statement``, retrying for up to ``timeout`` seconds while the file is locked.

    SQLite answers "database is locked" at once, without waiting on the busy timeout, when
    another connection is recovering the WAL of a file just opened; a process opening the
    store while others write to it must wait for that as it waits for any other lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute(statement)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def _user_version(conn: sqlite3.Connection) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"the metrics database has schema version {version}, newer than this Headroom "
            f"understands ({SCHEMA_VERSION}); upgrade headroom to write to it"
        )
    return version


class SQLiteStore:
    """Request records in one SQLite table; safe to share between threads and processes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path, self.timeout = parse_url(url)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._inode: int | None = None

    # -- connection ----------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        """The open connection, reopened if the file was deleted under us (caller holds lock)."""
        if self._conn is not None and (self.path == ":memory:" or self._same_file()):
            return self._conn
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.path != ":memory:":
            _create_private(self.path)
        conn = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False)
        try:
            _retry_while_busy(conn, "PRAGMA journal_mode=WAL", self.timeout)
            conn.execute("PRAGMA synchronous=NORMAL")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._inode = None if self.path == ":memory:" else os.stat(self.path).st_ino
        return conn

    def _same_file(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self._inode
        except OSError:
            return False

    # -- the MetricsStore protocol ---------------------------------------------------------
    def write(self, record: RequestRecord) -> None:
        data = record.to_dict()
        row = (
            record.id,
            float(record.timestamp),
            record.model,
            record.mode,
            int(bool(record.stream)),
            record.source,
            int(record.tokens_before),
            int(record.tokens_after),
            int(record.tokens_saved),
            record.prompt_tokens,
            record.completion_tokens,
            record.cached_tokens,
            float(record.estimated_savings_usd),
            record.error_type,
            record.stable_prefix_hash,
            json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":")),
        )
        with self._lock:
            conn = self._connection()
            with conn:
                conn.execute(_INSERT, row)

    def query(
        self,
        *,
        limit: int | None = 100,
        since: float | datetime | None = None,
        until: float | datetime | None = None,
        model: str | None = None,
        mode: str | None = None,
    ) -> list[RequestRecord]:
        where, params = _where(since, until, model, mode)
        sql = f"SELECT record FROM requests{where} ORDER BY timestamp DESC, id DESC"
        limit = check_limit(limit)
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._connection().execute(sql, params).fetchall()
        return [RequestRecord.from_dict(json.loads(row[0])) for row in rows]

    def summary(
        self, *, since: float | datetime | None = None, until: float | datetime | None = None
    ) -> dict[str, Any]:
        where, params = _where(since, until, None, None)
        sql = (
            "SELECT COUNT(*), TOTAL(tokens_before), TOTAL(tokens_after), TOTAL(tokens_saved),"
            " TOTAL(cached_tokens), TOTAL(prompt_tokens), TOTAL(completion_tokens),"
            " TOTAL(estimated_savings_usd), TOTAL(mode = 'audit'), TOTAL(mode = 'optimize'),"
            " TOTAL(error_type IS NOT NULL AND error_type != '')"
            f" FROM requests{where}"
        )
        with self._lock:
            row = self._connection().execute(sql, params).fetchone()
        count, before, after, saved, cached, prompt, completion, usd, audit, optimize, errors = row
        return {
            "total_requests": int(count),
            "total_tokens_before": int(before),
            "total_tokens_after": int(after),
            "total_tokens_saved": int(saved),
            "total_cached_tokens": int(cached),
            "total_prompt_tokens": int(prompt),
            "total_completion_tokens": int(completion),
            "estimated_cost_saved_usd": round(float(usd), 6),
            "audit_count": int(audit),
            "optimize_count": int(optimize),
            "error_count": int(errors),
        }

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _where(
    since: float | datetime | None,
    until: float | datetime | None,
    model: str | None,
    mode: str | None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    start, end = as_epoch(since, "since"), as_epoch(until, "until")
    if start is not None:
        clauses.append("timestamp >= ?")
        params.append(start)
    if end is not None:
        clauses.append("timestamp < ?")
        params.append(end)
    if model is not None:
        clauses.append("model = ?")
        params.append(model)
    if mode is not None:
        clauses.append("mode = ?")
        params.append(mode)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _create_private(path: str) -> None:
    """Create the database file readable by its owner only, if it does not exist yet."""
    if os.path.exists(path):
        return
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
