"""Metrics store write throughput, and the latency a record write adds to each request.

    python bench/store_throughput.py [--records 1000] [--pg-url postgresql://...]

For SQLite, JSONL and PostgreSQL, with 1 and with 8 writer processes all writing to one store
at once, prints the records per second (all writers together, first write to last) and the
latency of ``Recorder.write`` per record (p50, p99): what recording adds to a request, since
the client writes the record on the caller's thread when the reply is done. Each writer writes
``--records`` records shaped like a real one (a planned request with transforms, waste and
tool counts). PostgreSQL is a throwaway PostgreSQL 15 cluster with the default durable
settings (fsync and synchronous commit on) unless ``--pg-url`` names another server; SQLite
runs in WAL mode with synchronous=NORMAL as the store configures it; the last rows show
PostgreSQL with ``?options=-c%20synchronous_commit%3Doff`` in the store URL, which (like
SQLite's NORMAL) may lose the last moments of records in a crash but never corrupts them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from headroom import Headroom  # noqa: E402
from headroom.recording import Recorder, record_from_plan  # noqa: E402
from headroom.store import RequestRecord, open_store  # noqa: E402
from tests.store_pg.cluster import PostgresCluster  # noqa: E402

WRITERS = (1, 8)
ASYNC_COMMIT = "postgresql, synchronous_commit=off"
ASYNC_OPTION = "options=-c%20synchronous_commit%3Doff"


@dataclass
class WriterResult:
    started: float
    finished: float
    latencies_ms: list[float] = field(default_factory=list)
    dropped: int = 0


def sample_record() -> RequestRecord:
    """A record as the client writes it for a small agent request."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a support agent. Use the tools."},
        {"role": "user", "content": "Why did order 1042 ship late?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup_order", "arguments": '{"id": 1042}'},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_1",
            "content": '{"id": 1042, "status": "late", "carrier": "ACME", "events": '
            + ", ".join(f'{{"at": "2024-05-{d:02d}", "note": "in transit"}}' for d in range(1, 20))
            + "}",
        },
    ]
    plan = Headroom().simulate(messages, model="gpt-4o", mode="optimize")
    usage = {
        "prompt_tokens": plan.tokens_after,
        "completion_tokens": 40,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    return record_from_plan(plan, usage=usage, headroom_ms=0.4, upstream_ms=350.0)


def writer(url: str, records: int, barrier: Any, results: Any) -> None:
    """One writer process: its own store and Recorder, as each app process would have."""
    template = sample_record()
    recorder = Recorder(open_store(url))
    recorder.write(replace(template, id=f"warm-{time.monotonic_ns()}"))  # connect, migrate
    batch = [replace(template, id=RequestRecord(model="", mode="").id) for _ in range(records)]
    barrier.wait(timeout=120)
    result = WriterResult(started=time.monotonic(), finished=0.0)
    for record in batch:
        begun = time.perf_counter()
        recorder.write(record)
        result.latencies_ms.append((time.perf_counter() - begun) * 1000)
    result.finished = time.monotonic()
    result.dropped = recorder.dropped_records
    recorder.close()
    results.put(result)


def run(url: str, writers: int, records: int) -> list[WriterResult]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers)
    results: Any = context.Queue()
    processes = [
        context.Process(target=writer, args=(url, records, barrier, results))
        for _ in range(writers)
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return collected


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000, help="records per writer")
    parser.add_argument("--pg-url", help="an existing PostgreSQL to write to (a scratch DB)")
    args = parser.parse_args()

    console = Console(width=130)
    cluster: PostgresCluster | None = None
    folder = Path(tempfile.mkdtemp(prefix="headroom-bench-"))
    try:
        pg_url = args.pg_url
        if pg_url is None:
            cluster = PostgresCluster(durable=True).init().start()
            pg_url = cluster.url("postgres")
        table = Table(title=f"Store writes ({args.records} records per writer, one store each row)")
        for column in (
            "store",
            "writers",
            "records",
            "seconds",
            "records/s",
            "write p50 ms",
            "write p99 ms",
            "dropped",
        ):
            table.add_column(column, justify="left" if column == "store" else "right")
        for name in ("sqlite", "jsonl", "postgresql", ASYNC_COMMIT):
            for writers in WRITERS:
                if name == "sqlite":
                    url = f"sqlite:///{folder / f'bench-{writers}.db'}"
                elif name == "jsonl":
                    url = f"jsonl://{folder / f'bench-{writers}.jsonl'}"
                else:
                    url = _fresh_postgres(pg_url, cluster, writers)
                    if name == ASYNC_COMMIT:  # libpq's options parameter, set per connection
                        url += ("&" if "?" in url else "?") + ASYNC_OPTION
                results = run(url, writers, args.records)
                total = writers * args.records
                seconds = max(r.finished for r in results) - min(r.started for r in results)
                latencies = [ms for r in results for ms in r.latencies_ms]
                table.add_row(
                    name,
                    str(writers),
                    f"{total:,}",
                    f"{seconds:.2f}",
                    f"{total / seconds:,.0f}",
                    f"{statistics.median(latencies):.3f}",
                    f"{percentile(latencies, 0.99):.3f}",
                    str(sum(r.dropped for r in results)),
                )
        console.print(table)
    finally:
        if cluster is not None:
            cluster.destroy()


def _fresh_postgres(pg_url: str, cluster: PostgresCluster | None, writers: int) -> str:
    """A new database per row on the throwaway cluster; the given server is used as it is."""
    if cluster is None:
        return pg_url
    return cluster.create_database(f"bench_{writers}_{time.monotonic_ns()}")


if __name__ == "__main__":
    main()
