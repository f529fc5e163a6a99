"""Store faults while requests run through HeadroomClient: every request completes, the failure
is logged once per kind, ``dropped_records`` counts exactly the lost writes, and writes resume
when the store comes back (PostgreSQL stopped mid-run: tests/store_pg/test_client_store_faults.py).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from headroom import HeadroomClient
from tests.support.openai_server import OpenAIServer

from .store_fault_child import PER_PHASE, REQUEST

ROOT = Path(__file__).resolve().parents[2]


def run_child(scenario: str, base_url: str, directory: Path) -> dict[str, Any]:
    """The fault scenario in a child process (an unprivileged user, a file-size limit)."""
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "tests.reliability.store_fault_child",
            scenario,
            base_url,
            str(directory),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def child_dir() -> Iterator[Path]:
    """A directory the child's unprivileged user can reach (pytest's tmp_path is root-only)."""
    directory = Path(tempfile.mkdtemp(prefix="headroom-fault-"))
    yield directory
    shutil.rmtree(directory)


@pytest.mark.parametrize(
    "scenario, kind",
    [
        ("sqlite_deleted_dir_read_only", "PermissionError"),
        ("sqlite_disk_full", "OperationalError"),
        ("jsonl_disk_full", "OSError"),
        ("jsonl_read_only", "PermissionError"),
    ],
)
def test_fault_mid_run_drops_exactly_the_lost_writes_then_resumes(
    scenario: str, kind: str, openai_server: OpenAIServer, child_dir: Path
) -> None:
    result = run_child(scenario, openai_server.base_url, child_dir)
    assert result["replies"] == [True] * 3 * PER_PHASE  # every request completed
    assert len(openai_server.chat_requests) == 3 * PER_PHASE + 1  # + the child's warm-up
    assert result["dropped"] == [0, PER_PHASE, PER_PHASE]  # only the writes during the fault
    assert result["failures"] == {kind: PER_PHASE}
    (warning,) = result["warnings"]  # logged once for the kind
    assert kind in warning
    assert result["summary_dropped"] == PER_PHASE
    # Writes resumed: the records before (unless the file itself was deleted) and after.
    kept = PER_PHASE if "deleted" in scenario else 2 * PER_PHASE
    assert result["stored"] == result["summary_requests"] == kept


def test_sqlite_made_read_only_under_an_open_store_loses_nothing(
    openai_server: OpenAIServer, child_dir: Path
) -> None:
    """The store keeps its open connection, so a chmod mid-run does not stop its writes."""
    result = run_child("sqlite_read_only", openai_server.base_url, child_dir)
    assert result["replies"] == [True] * 3 * PER_PHASE
    assert result["dropped"] == [0, 0, 0] and result["warnings"] == []
    assert result["stored"] == 3 * PER_PHASE


def _phase(client: HeadroomClient, count: int = PER_PHASE) -> None:
    """``count`` requests, bounded: a store that hangs must fail the test, not the run."""
    outcome: list[Any] = []

    def run() -> None:
        for _ in range(count):
            outcome.append(client.chat.completions.create(**REQUEST).choices[0].message.content)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "a request hung on the store"
    assert len(outcome) == count and all(outcome)


def test_jsonl_locked_by_another_process_drops_then_resumes(
    bare: openai.OpenAI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m.jsonl"
    client = HeadroomClient(original_client=bare, store_url=f"jsonl://{path}")
    client.store.lock_timeout = 0.05  # type: ignore[union-attr]
    with caplog.at_level(logging.WARNING, logger="headroom"):
        _phase(client)
        holder = os.open(path, os.O_RDWR)  # another open file: its flock excludes ours
        fcntl.flock(holder, fcntl.LOCK_EX)
        try:
            _phase(client)
            assert client.dropped_records == PER_PHASE
        finally:
            fcntl.flock(holder, fcntl.LOCK_UN)
            os.close(holder)
        _phase(client)
    warnings = [r.getMessage() for r in caplog.records if "could not write" in r.getMessage()]
    assert len(warnings) == 1 and "TimeoutError" in warnings[0]
    summary = client.get_summary()
    assert summary["dropped_records"] == PER_PHASE
    assert summary["total_requests"] == 2 * PER_PHASE
    assert len(path.read_text().splitlines()) == 2 * PER_PHASE


def test_jsonl_file_replaced_by_a_directory_drops_then_resumes(
    bare: openai.OpenAI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m.jsonl"
    client = HeadroomClient(original_client=bare, store_url=f"jsonl://{path}")
    with caplog.at_level(logging.WARNING, logger="headroom"):
        _phase(client)
        saved = path.read_bytes()
        path.unlink()
        path.mkdir()
        _phase(client)
        assert client.dropped_records == PER_PHASE
        path.rmdir()
        path.write_bytes(saved)
        _phase(client)
    warnings = [r.getMessage() for r in caplog.records if "could not write" in r.getMessage()]
    assert len(warnings) == 1 and "IsADirectoryError" in warnings[0]
    summary = client.get_summary()
    assert summary["dropped_records"] == PER_PHASE
    assert summary["total_requests"] == 2 * PER_PHASE


def test_sqlite_deleted_mid_run_is_recreated_and_loses_no_later_write(
    bare: openai.OpenAI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m.db"
    client = HeadroomClient(original_client=bare, store_url=f"sqlite:///{path}")
    with caplog.at_level(logging.WARNING, logger="headroom"):
        _phase(client)
        for file in tmp_path.glob("m.db*"):
            file.unlink()
        _phase(client)
        _phase(client)
    assert not [r for r in caplog.records if "could not write" in r.getMessage()]
    summary = client.get_summary()
    assert summary["dropped_records"] == 0
    assert summary["total_requests"] == 2 * PER_PHASE  # the deleted file took the first three
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
