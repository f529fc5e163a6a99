"""What HeadroomClient adds to a request, over the bare OpenAI SDK, against the loopback server.

    python bench/client_overhead.py [--requests 300] [--chunks 2000]

Prints three tables:

1. Per request, warm (the same ~10k-token request repeated, as an agent loop resends its
   history): end-to-end latency of the bare SDK, audit mode and optimize mode (p50, p95), the
   difference to the bare SDK, and the time Headroom itself measured on the call's path
   (``headroom_ms`` in each record: option handling, planning, building the record; the store
   write is timed separately). Calls are interleaved so server and machine noise hits every
   variant alike.
2. The same on a cold engine (every memo emptied before each call): the first sight of a request.
3. Streaming: the cost per chunk of the wrapper (observing each chunk for the usage and the
   streamed text) measured on recorded chunks without the network, and the one-off cost at the
   end of a stream (counting the text, planning in audit mode, writing the record).
Targets from the issue: audit adds under 1 ms p50 on a 10k-token request once warm; streaming
adds under 5 microseconds per chunk.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from headroom import HeadroomClient, count_tokens  # noqa: E402
from headroom.recording import Recorder  # noqa: E402
from tests.support.openai_server import OpenAIServer, text_reply  # noqa: E402

WORKLOADS = ROOT.parent / "shared" / "workloads" / "dev"
# Closest to 10k tokens (8.1k, 14 messages), a 21k single tool output, a 20-message agent loop.
DEFAULT_WORKLOADS = [
    "dev-30-api-stripe-payment-debug",
    "dev-18-search-code-search-paths",
    "dev-34-mixed-swe-agent-marshmallow-window",
]


def load_requests(names: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The named shared workloads (a synthetic ~10k-token request if they are not here)."""
    found = []
    for name in names:
        path = WORKLOADS / f"{name}.json"
        if path.exists():
            found.append((name, json.loads(path.read_text())["request"]))
    return found or [("synthetic-10k", synthetic_request())]


def synthetic_request() -> dict[str, Any]:
    rows = [{"id": i, "title": f"Issue {i}", "body": "text " * 30} for i in range(220)]
    return {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a triage assistant. Current date: 2024-01-15"},
            {"role": "user", "content": "Which issues mention a crash?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "search", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": json.dumps(rows)},
        ],
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cold_engine() -> None:
    """Empty every memo, as in a fresh process."""
    from headroom import analysis
    from headroom.tokens import clear_cache
    from headroom.transforms import recall, tool_output

    clear_cache()
    tool_output._memo = tool_output._Memo()
    recall._memo = recall._Memo()
    analysis._memo = analysis._FactMemo()


def per_request(
    server: OpenAIServer,
    request: dict[str, Any],
    n: int,
    store_url: str,
    before_each: Callable[[], None] | None = None,
) -> dict[str, Any]:
    bare = openai.OpenAI(base_url=server.base_url, api_key="sk-bench", max_retries=0)
    client = HeadroomClient(original_client=bare, store_url=store_url)
    variants: dict[str, Callable[[], Any]] = {
        "bare SDK": lambda: bare.chat.completions.create(**request),
        "audit": lambda: client.chat.completions.create(**request),
        "optimize": lambda: client.chat.completions.create(**request, headroom_mode="optimize"),
    }
    for call in variants.values():  # warm the connection pool, the engine and the server
        for _ in range(3):
            call()
    times: dict[str, list[float]] = {name: [] for name in variants}
    skip = len(client.get_metrics(limit=None))
    for _ in range(n):
        for name, call in variants.items():
            if before_each is not None:
                before_each()
            server.reset()
            start = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - start) * 1000)
    newest_first = client.get_metrics(limit=None)
    records = newest_first[: len(newest_first) - skip]  # the timed calls, not the warm-up
    internal = {
        mode: [r.headroom_ms for r in records if r.mode == mode] for mode in ("audit", "optimize")
    }
    client.close()
    return {"times": times, "internal": internal}


def store_write_ms(store_url: str, n: int = 500) -> float:
    """p50 of one record write to ``store_url``."""
    from headroom.store import RequestRecord

    recorder = Recorder(store_url)
    durations = []
    for i in range(n):
        record = RequestRecord(model="gpt-4o", mode="audit", tokens_before=i)
        start = time.perf_counter()
        recorder.write(record)
        durations.append((time.perf_counter() - start) * 1000)
    recorder.close()
    return statistics.median(durations)


def request_table(title: str, results: list[tuple[str, dict[str, Any]]], write_ms: float) -> Table:
    table = Table(title=title)
    for column in (
        "request",
        "variant",
        "p50 ms",
        "p95 ms",
        "p50 added ms",
        "p95 added ms",
        "own p50 ms",
        "own p95 ms",
    ):
        table.add_column(column, justify="left" if column in ("request", "variant") else "right")
    for label, result in results:
        times = result["times"]
        bare50, bare95 = percentile(times["bare SDK"], 0.5), percentile(times["bare SDK"], 0.95)
        for name, values in times.items():
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            own = result["internal"].get(name)
            table.add_row(
                label if name == "bare SDK" else "",
                name,
                f"{p50:.3f}",
                f"{p95:.3f}",
                "" if name == "bare SDK" else f"{p50 - bare50:+.3f}",
                "" if name == "bare SDK" else f"{p95 - bare95:+.3f}",
                f"{percentile(own, 0.5) + write_ms:.3f}" if own else "",
                f"{percentile(own, 0.95) + write_ms:.3f}" if own else "",
            )
        table.add_section()
    table.caption = (
        "added = latency over the bare SDK, end to end; own = Headroom's own time on the call "
        f"(headroom_ms in the records + one SQLite write, p50 {write_ms:.3f} ms)"
    )
    return table


class _Replay:
    """An SDK-shaped client whose streams replay recorded chunks: no network in the timing."""

    def __init__(self, chunks: list[Any]) -> None:
        self.chunks = chunks
        self.chat = self
        self.completions = self

    def create(self, **kwargs: Any) -> Any:
        return _ReplayStream(self.chunks)


class _ReplayStream:
    def __init__(self, chunks: list[Any]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[Any]:
        return iter(self._chunks)

    def close(self) -> None:
        pass


def streaming(server: OpenAIServer, n_chunks: int, rounds: int) -> Table:
    text = " ".join(f"w{i}" for i in range(n_chunks))
    bare = openai.OpenAI(base_url=server.base_url, api_key="sk-bench", max_retries=0)
    messages = [{"role": "user", "content": "Stream a long answer."}]
    server.queue(text_reply(text))
    chunks = list(bare.chat.completions.create(model="gpt-4o", messages=messages, stream=True))
    bare.close()
    replay = _Replay(chunks)
    table = Table(title=f"Streaming: {len(chunks)} chunks per stream, recorded, no network")
    for column in (
        "variant",
        "per chunk p50 us",
        "per chunk p95 us",
        "per chunk CPU p50 us",
        "end of stream p50 ms",
    ):
        table.add_column(column, justify="right" if column != "variant" else "left")

    def timed(stream: Any) -> tuple[float, float, float]:
        """(wall us per chunk, CPU us per chunk, end-of-stream ms), the same loop for all."""
        iterator = iter(stream)
        wall, cpu = time.perf_counter(), time.thread_time()
        for _index in range(len(chunks)):
            next(iterator)
        wall_end, cpu_end = time.perf_counter(), time.thread_time()
        for _rest in iterator:  # StopIteration: counting, planning, the record
            pass
        finish = time.perf_counter()
        per = 1e6 / len(chunks)
        return (wall_end - wall) * per, (cpu_end - cpu) * per, (finish - wall_end) * 1000

    raw = [timed(replay.create()) for _ in range(rounds)]
    raw50, raw95 = percentile([r[0] for r in raw], 0.5), percentile([r[0] for r in raw], 0.95)
    raw_cpu = percentile([r[1] for r in raw], 0.5)
    table.add_row("bare iteration", f"{raw50:.3f}", f"{raw95:.3f}", f"{raw_cpu:.3f}", "")
    for mode in ("audit", "optimize"):
        client = HeadroomClient(original_client=replay, store_url="memory://", default_mode=mode)
        runs = [
            timed(client.chat.completions.create(model="gpt-4o", messages=messages, stream=True))
            for _ in range(rounds)
        ]
        table.add_row(
            f"HeadroomClient {mode} (added)",
            f"{percentile([r[0] for r in runs], 0.5) - raw50:+.3f}",
            f"{percentile([r[0] for r in runs], 0.95) - raw95:+.3f}",
            f"{percentile([r[1] for r in runs], 0.5) - raw_cpu:+.3f}",
            f"{statistics.median(r[2] for r in runs):.3f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="calls per variant (warm)")
    parser.add_argument("--cold", type=int, default=20, help="calls per variant (cold)")
    parser.add_argument("--chunks", type=int, default=2000, help="words in the streamed reply")
    parser.add_argument("--workload", action="append", help="workload ids (default: three)")
    args = parser.parse_args()
    console = Console()
    requests = load_requests(args.workload or DEFAULT_WORKLOADS)
    labels = []
    for name, request in requests:
        tokens = count_tokens(request["messages"], request["model"], request.get("tools"))
        labels.append(f"{name[:24]} ({tokens / 1000:.1f}k tok, {len(request['messages'])} msg)")
    with tempfile.TemporaryDirectory() as tmp, OpenAIServer() as server:
        url = f"sqlite:///{tmp}/bench.db"
        write_ms = store_write_ms(f"sqlite:///{tmp}/write.db")
        warm = [
            (label, per_request(server, request, args.requests, url))
            for label, (_name, request) in zip(labels, requests, strict=True)
        ]
        console.print(
            request_table(f"Per request, warm ({args.requests} calls each)", warm, write_ms)
        )
        cold = [(labels[0], per_request(server, requests[0][1], args.cold, url, cold_engine))]
        console.print(
            request_table(f"Per request, cold engine ({args.cold} calls)", cold, write_ms)
        )
        console.print(streaming(server, args.chunks, rounds=20))


if __name__ == "__main__":
    main()
