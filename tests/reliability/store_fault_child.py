"""Run requests through HeadroomClient while a store fault comes and goes, in a child process.

``python -m tests.reliability.store_fault_child SCENARIO BASE_URL DIRECTORY`` prints one JSON
object: the dropped-record count after each phase (before / during / after the fault), the
warnings Headroom logged, and the record count the store holds at the end. A child process
because the faults need one: an unprivileged user (root ignores file modes) and a file-size
limit (RLIMIT_FSIZE, with SIGXFSZ ignored so a write fails with EFBIG instead of killing us).
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import resource
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import openai

from headroom import HeadroomClient

PER_PHASE = 3
REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def drop_root(directory: Path) -> None:
    """Become ``nobody`` (owning ``directory``) so file modes apply to us."""
    if os.geteuid() != 0:
        return
    nobody = pwd.getpwnam("nobody")
    os.chown(directory, nobody.pw_uid, nobody.pw_gid)
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)


def warm_up(bare: openai.OpenAI) -> None:
    """Import everything a request and a store need while we may still read the interpreter's
    own files (it may live where an unprivileged user cannot)."""
    import encodings.idna  # noqa: F401 - httpx looks the codec up lazily
    import sqlite3  # noqa: F401

    HeadroomClient(original_client=bare, store_url="memory://").chat.completions.create(**REQUEST)


def limit_file_size(size: int) -> None:
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))


def unlimited_file_size() -> None:
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))


def scenario(name: str, directory: Path) -> tuple[str, Callable[[], None], Callable[[], None]]:
    """(store_url, inject the fault, remove it)."""
    db, jsonl = directory / "m.db", directory / "m.jsonl"
    if name == "sqlite_read_only":

        def fault() -> None:
            db.chmod(0o444)
            directory.chmod(0o555)

        def heal() -> None:
            directory.chmod(0o755)
            db.chmod(0o644)

        return f"sqlite:///{db}", fault, heal
    if name == "sqlite_deleted_dir_read_only":

        def fault() -> None:
            for path in directory.glob("m.db*"):
                path.unlink()
            directory.chmod(0o555)

        def heal() -> None:
            directory.chmod(0o755)

        return f"sqlite:///{db}", fault, heal
    if name == "sqlite_disk_full":
        return f"sqlite:///{db}", lambda: limit_file_size(0), unlimited_file_size
    if name == "jsonl_disk_full":
        return f"jsonl://{jsonl}", lambda: limit_file_size(0), unlimited_file_size
    if name == "jsonl_read_only":

        def fault() -> None:
            jsonl.chmod(0o444)

        def heal() -> None:
            jsonl.chmod(0o600)

        return f"jsonl://{jsonl}", fault, heal
    raise SystemExit(f"unknown scenario {name!r}")


def main() -> None:
    name, base_url, directory = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    bare = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
    warm_up(bare)
    drop_root(directory)
    collect = Collect()
    logging.getLogger("headroom").addHandler(collect)
    logging.getLogger("headroom").setLevel(logging.DEBUG)
    url, fault, heal = scenario(name, directory)
    client = HeadroomClient(original_client=bare, store_url=url)
    replies: list[bool] = []
    dropped: list[int] = []
    for step in (None, fault, heal):
        if step is not None:
            step()
        for _ in range(PER_PHASE):
            reply = client.chat.completions.create(**REQUEST)
            replies.append(bool(reply.choices[0].message.content))
        dropped.append(client.dropped_records)  # get_summary() reads the store: not mid-fault
    summary = client.get_summary()
    print(
        json.dumps(
            {
                "replies": replies,
                "dropped": dropped,
                "warnings": [m for m in collect.messages if "could not write" in m],
                "stored": len(client.get_metrics(limit=None)),
                "summary_dropped": summary["dropped_records"],
                "summary_requests": summary["total_requests"],
                "failures": dict(client._session.recorder.failures),
            }
        )
    )


if __name__ == "__main__":
    main()
