"""JSON Lines metrics store (``jsonl:///absolute/path.jsonl`` or ``jsonl://relative.jsonl``).

One JSON object per line, appended with ``O_APPEND`` and a single ``write`` per record (under
an advisory ``flock``), so several processes can log to one file without interleaving lines.
The file is created 0600.
Reading skips a line that is not a complete record (a crash mid-write) and counts it in
``skipped_lines``.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ._filters import as_epoch, check_limit, select
from .record import RequestRecord, summarize

LOCK_TIMEOUT = 2.0  # seconds a write waits for another process's lock before it is dropped


def path_from_url(url: str) -> str:
    """``jsonl:///var/log/h.jsonl`` -> ``/var/log/h.jsonl`` (a file URL); ``jsonl://h.jsonl``
    -> ``h.jsonl`` (relative to the working directory)."""
    if not url.startswith("jsonl://"):
        raise ValueError(
            f"a JSONL store_url looks like jsonl:///var/log/headroom.jsonl, got {url!r}"
        )
    rest = url[len("jsonl://") :]
    if rest.startswith("/"):
        rest = "/" + rest.lstrip("/")
    if rest.strip("/") == "":
        raise ValueError(f"store_url {url!r} names no file")
    return rest


class JSONLStore:
    """Append-only records in a text file, one JSON object per line."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = path_from_url(url)
        self.skipped_lines = 0
        self.lock_timeout = LOCK_TIMEOUT
        self._lock = threading.Lock()

    def write(self, record: RequestRecord) -> None:
        line = json.dumps(record.to_dict(), ensure_ascii=False, default=str, separators=(",", ":"))
        data = (line + "\n").encode("utf-8", "surrogatepass")
        directory = os.path.dirname(self.path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700, exist_ok=True)
        # Opened per record: a rotated or deleted file is recreated, never written into the void.
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # The lock makes the torn-line check exact against other Headroom writers; the
            # append itself is one O_APPEND write, so lines never interleave either way.
            _lock_within(fd, self.lock_timeout, self.path)
            if _ends_torn(fd):  # a crash left half a line: start ours on a fresh one
                data = b"\n" + data
            written = os.write(fd, data)
        finally:
            os.close(fd)
        if written != len(data):
            raise OSError(f"short write to {self.path}: {written} of {len(data)} bytes")

    def _records(self) -> Iterator[RequestRecord]:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return
        skipped = 0
        with handle:
            for raw in handle:
                if not raw.strip():
                    continue
                try:
                    data = json.loads(raw)
                    if not isinstance(data, dict):
                        raise ValueError("not an object")
                    yield RequestRecord.from_dict(data)
                except (ValueError, TypeError):
                    skipped += 1
        with self._lock:
            self.skipped_lines = skipped

    def query(
        self,
        *,
        limit: int | None = 100,
        since: float | datetime | None = None,
        until: float | datetime | None = None,
        model: str | None = None,
        mode: str | None = None,
    ) -> list[RequestRecord]:
        return select(
            self._records(),
            limit=check_limit(limit),
            since=as_epoch(since, "since"),
            until=as_epoch(until, "until"),
            model=model,
            mode=mode,
        )

    def summary(
        self, *, since: float | datetime | None = None, until: float | datetime | None = None
    ) -> dict[str, Any]:
        return summarize(self.query(limit=None, since=since, until=until))

    def close(self) -> None:
        pass


def _lock_within(fd: int, timeout: float, path: str) -> None:
    """Take the exclusive lock, waiting at most ``timeout`` seconds: a lock some other program
    holds forever must cost one dropped record, never a hung request."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{path} stayed locked by another process for {timeout:g} s"
                ) from None
            time.sleep(0.005)


def _ends_torn(fd: int) -> bool:
    """Whether the file's last byte is not a newline (a record was cut off mid-write)."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
