"""PostgreSQL metrics store (``postgresql://user:pass@host:5432/db``, also ``postgres://``),
for apps that run on many processes or hosts and share one database.

psycopg 3 with a ``psycopg_pool`` connection pool, imported only when such a store is opened
(``pip install 'headroom[postgres]'``). The schema lives in ``headroom_requests`` with the same
columns as the SQLite store and migrates itself forward on first use, under an advisory lock so
many processes starting at once agree. Inserts are idempotent by record id, so a write retried
after a dropped connection never duplicates a record. The password never appears in ``url``,
in logs or in error messages.

Optional query parameters (removed before the URL reaches libpq, which gets the rest):
``timeout`` (seconds a write waits for a pooled connection, default 2), ``pool_size`` (most
connections per process, default 4) and ``retry_after`` (seconds to fail fast after the server
was found unreachable, default 0.5). When the server goes away, writes fail at once (the
Recorder counts them) and resume by themselves once it is back.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ._columns import COLUMNS
from ._filters import as_epoch, check_limit
from .record import RequestRecord

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

T = TypeVar("T")

SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
TABLE = "headroom_requests"
VERSION_TABLE = "headroom_schema_version"
LOCK_KEY = 0x4865616472  # pg_advisory_xact_lock key shared by every Headroom process
DEFAULTS = {"timeout": 2.0, "pool_size": 4.0, "retry_after": 0.5}

# Each step takes the schema from version i to i + 1; never edit a released step, append one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            id TEXT PRIMARY KEY,
            timestamp DOUBLE PRECISION NOT NULL,
            model TEXT NOT NULL,
            mode TEXT NOT NULL,
            stream BOOLEAN NOT NULL DEFAULT FALSE,
            tokens_before BIGINT NOT NULL DEFAULT 0,
            tokens_after BIGINT NOT NULL DEFAULT 0,
            tokens_saved BIGINT NOT NULL DEFAULT 0,
            prompt_tokens BIGINT,
            completion_tokens BIGINT,
            cached_tokens BIGINT,
            estimated_savings_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
            error_type TEXT,
            record TEXT NOT NULL
        )""",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_timestamp ON {TABLE} (timestamp)",
    ),
    (
        f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS source TEXT NOT NULL DEFAULT 'openai'",
        f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS stable_prefix_hash TEXT NOT NULL DEFAULT ''",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_model_timestamp ON {TABLE} (model, timestamp)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = COLUMNS
_INSERT = (
    f"INSERT INTO {TABLE} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('%s' for _ in _COLUMNS)}) ON CONFLICT (id) DO NOTHING"
)
_ORDER = ' ORDER BY timestamp DESC, id COLLATE "C" DESC'  # code-point order, as Python sorts


def _psycopg() -> tuple[Any, Any]:
    """The psycopg and psycopg_pool modules, or a ValueError saying how to install them."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:
        raise ValueError(
            "a postgresql:// store_url needs psycopg 3 and psycopg-pool; install them with "
            f"pip install 'headroom[postgres]' ({exc})"
        ) from None
    return psycopg, psycopg_pool


# -- the URL ----------------------------------------------------------------------------------


def redact(url: str) -> str:
    """``url`` with any password (in the netloc or a ``password=`` parameter) replaced."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            creds, host = netloc.rsplit("@", 1)
            if ":" in creds:
                netloc = f"{creds.split(':', 1)[0]}:***@{host}"
        query = urlencode(
            [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query, True)],
            safe="*",
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return url.split("://", 1)[0] + "://***"


def parse_url(url: str) -> tuple[str, dict[str, float]]:
    """(libpq conninfo URL, Headroom options) from a store URL; ValueError when malformed."""
    if not isinstance(url, str) or not url.startswith(SCHEMES):
        raise ValueError(
            "a PostgreSQL store_url looks like postgresql://user:password@host:5432/dbname, "
            f"got {redact(url) if isinstance(url, str) else url!r}"
        )
    shown = redact(url)
    try:
        parts = urlsplit("postgresql://" + url.split("://", 1)[1])
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"store_url {shown!r} is not a valid URL: {exc}") from None
    options = dict(DEFAULTS)
    passed: list[tuple[str, str]] = []
    for key, value in pairs:
        if key not in DEFAULTS:
            passed.append((key, value))
            continue
        try:
            number = float(value)
            if number < 0 or number != number or (key == "pool_size" and number < 1):
                raise ValueError
        except ValueError:
            raise ValueError(
                f"store_url {shown!r}: {key} must be a number "
                f"{'>= 1' if key == 'pool_size' else '>= 0'}, got {value!r}"
            ) from None
        options[key] = number
    if "connect_timeout" not in {key for key, _ in passed}:
        passed.append(("connect_timeout", str(max(2, int(options["timeout"] + 0.999)))))
    conninfo = urlunsplit(
        ("postgresql", parts.netloc, parts.path, urlencode(passed, quote_via=quote), "")
    )
    return conninfo, options


# -- schema -----------------------------------------------------------------------------------


def migrate(conn: psycopg.Connection[Any], target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target`` in one transaction; return the version found before."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)")
        row = conn.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()
        found = int(row[0]) if row is not None and row[0] is not None else 0
        if found > SCHEMA_VERSION:
            raise ValueError(
                f"the metrics database has schema version {found}, newer than this Headroom "
                f"understands ({SCHEMA_VERSION}); upgrade headroom to write to it"
            )
        for version in range(found, target):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)  # type: ignore[arg-type]  # our own constant SQL
        if target > found:
            conn.execute(f"DELETE FROM {VERSION_TABLE}")
            conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (%s)", (target,))
    return found


def _text(value: str) -> str:
    """A string PostgreSQL accepts in a TEXT column (no NUL, no lone surrogates)."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return value.encode("utf-8", "replace").decode("utf-8")


def _optional_text(value: str | None) -> str | None:
    return None if value is None else _text(str(value))


def _row(record: RequestRecord) -> tuple[Any, ...]:
    # ensure_ascii: the full record survives exactly (NUL and lone surrogates become escapes)
    data = json.dumps(record.to_dict(), ensure_ascii=True, default=str, separators=(",", ":"))
    return (
        _text(str(record.id)),
        float(record.timestamp),
        _text(str(record.model)),
        _text(str(record.mode)),
        bool(record.stream),
        _text(str(record.source)),
        int(record.tokens_before),
        int(record.tokens_after),
        int(record.tokens_saved),
        record.prompt_tokens,
        record.completion_tokens,
        record.cached_tokens,
        float(record.estimated_savings_usd),
        _optional_text(record.error_type),
        _text(str(record.stable_prefix_hash)),
        data,
    )


# -- the store --------------------------------------------------------------------------------


class PostgresStore:
    """Request records in one PostgreSQL table; safe to share between threads and processes."""

    def __init__(self, url: str) -> None:
        self._psycopg, self._pool_module = _psycopg()
        self._conninfo, options = parse_url(url)
        self.url = redact(url)  # what logs and reprs may show
        self.timeout = options["timeout"]
        self.pool_size = int(options["pool_size"])
        self.retry_after = options["retry_after"]
        self._lock = threading.Lock()
        self._pool: ConnectionPool[Any] | None = None
        self._unreachable_until = 0.0
        self._last_error = ""

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"

    # -- connections ------------------------------------------------------------------------
    def _current_pool(self) -> ConnectionPool[Any]:
        """The pool, opened after a direct connection has checked the server and the schema.

        The direct probe fails at once when the server is down, where a pool would wait its
        whole timeout; after a failure the store fails fast for ``retry_after`` seconds."""
        with self._lock:
            if self._pool is not None:
                return self._pool
            if time.monotonic() < self._unreachable_until:
                raise self._psycopg.OperationalError(
                    f"PostgreSQL store {self.url} unreachable ({self._last_error}); retrying "
                    f"after {self.retry_after:g} s"
                )
            try:
                with self._psycopg.connect(self._conninfo, autocommit=True) as conn:
                    migrate(conn)
            except self._psycopg.OperationalError as exc:
                self._unreachable_until = time.monotonic() + self.retry_after
                self._last_error = _first_line(exc)
                raise
            self._pool = self._pool_module.ConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self.pool_size,
                kwargs={"autocommit": True},
                timeout=self.timeout,
                name="headroom",
                open=True,
            )
            return self._pool

    def _discard(self, pool: ConnectionPool[Any]) -> None:
        """Drop a pool whose connections broke; the next call probes the server afresh."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.close(timeout=1.0)

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work(conn)`` on a pooled connection, once more on a fresh pool if the first broke
        (safe for writes: an insert is idempotent by record id)."""
        retryable = (self._pool_module.PoolTimeout, self._pool_module.PoolClosed)
        for attempt in (1, 2):
            pool = self._current_pool()
            conn: psycopg.Connection[Any] | None = None
            try:
                with pool.connection(timeout=self.timeout) as conn:
                    return work(conn)
            except (self._psycopg.OperationalError, *retryable) as exc:
                broken = conn is None or conn.broken or conn.closed
                if not (broken or isinstance(exc, retryable)):
                    raise
                self._discard(pool)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the MetricsStore protocol ----------------------------------------------------------
    def write(self, record: RequestRecord) -> None:
        row = _row(record)
        self._run(lambda conn: conn.execute(_INSERT, row))

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
        sql = f"SELECT record FROM {TABLE}{where}{_ORDER}"
        limit = check_limit(limit)
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        rows = self._run(lambda conn: conn.execute(sql, params).fetchall())  # type: ignore[call-overload]
        return [RequestRecord.from_dict(json.loads(row[0])) for row in rows]

    def summary(
        self, *, since: float | datetime | None = None, until: float | datetime | None = None
    ) -> dict[str, Any]:
        where, params = _where(since, until, None, None)
        sql = (
            "SELECT count(*), coalesce(sum(tokens_before), 0), coalesce(sum(tokens_after), 0),"
            " coalesce(sum(tokens_saved), 0), coalesce(sum(cached_tokens), 0),"
            " coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),"
            " coalesce(sum(estimated_savings_usd), 0),"
            " count(*) FILTER (WHERE mode = 'audit'), count(*) FILTER (WHERE mode = 'optimize'),"
            " count(*) FILTER (WHERE error_type IS NOT NULL AND error_type <> '')"
            f" FROM {TABLE}{where}"
        )
        row = self._run(lambda conn: conn.execute(sql, params).fetchone())  # type: ignore[call-overload]
        if row is None:  # pragma: no cover - an aggregate always returns one row
            raise RuntimeError("PostgreSQL returned no summary row")
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
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


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
        clauses.append("timestamp >= %s")
        params.append(start)
    if end is not None:
        clauses.append("timestamp < %s")
        params.append(end)
    if model is not None:
        clauses.append("model = %s")
        params.append(_text(str(model)))
    if mode is not None:
        clauses.append("mode = %s")
        params.append(_text(str(mode)))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
