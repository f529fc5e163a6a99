"""Why the engine's background token count runs slower than a count alone.

    python bench/count_contention.py [--workload TEXT]

Counts the largest tool output of a workload (dev-29 by default) with tiktoken, the way the
engine's background thread does, and prints the median of seven counts each: alone; while a
thread of this process runs pure Python; while a thread of this process parses JSON (long C
calls that hold the GIL, as the engine's parsing does); while another process parses the same
JSON. The count releases the GIL while it encodes, so only the same-process settings can make
it wait: for the GIL at each start and end, and beside allocation-heavy work.

Two more rows count alone on another thread: with this thread's encoding, and with one of its
own. The first thread to encode with a tiktoken encoding owns its regex's match caches; any
other thread takes one from a locked pool at every match. That is why the engine's background
thread builds its own encoding (``headroom.encodings.own_token_counter``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from headroom.encodings import own_token_counter, token_counter  # noqa: E402

WORKLOADS = ROOT.parent / "shared" / "workloads" / "dev"
RUNS = 7


def largest_json_outputs(name: str) -> list[str]:
    path = next(iter(sorted(WORKLOADS.glob(f"{name}*.json"))))
    messages = json.loads(path.read_text())["request"]["messages"]
    texts = [m["content"] for m in messages if isinstance(m.get("content"), str)]
    return sorted((t for t in texts if t.lstrip()[:1] in "[{"), key=len, reverse=True)


def parse_until(texts: list[str], stop: threading.Event | None, deadline: float) -> None:
    while time.time() < deadline and not (stop is not None and stop.is_set()):
        for text in texts:
            json.loads(text)


def parse_in_process(texts: list[str], started: object, deadline: float) -> None:
    started.set()  # type: ignore[attr-defined]
    parse_until(texts, None, deadline)


def spin_until(stop: threading.Event) -> None:
    total = 0
    while not stop.is_set():
        for i in range(10_000):
            total += i


def median_ms(count: Callable[[], int]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        count()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def beside_thread(target: Callable[[threading.Event], None], count: Callable[[], int]) -> float:
    stop = threading.Event()
    worker = threading.Thread(target=target, args=(stop,))
    worker.start()
    time.sleep(0.1)
    try:
        return median_ms(count)
    finally:
        stop.set()
        worker.join()


def on_a_thread(count: Callable[[], int]) -> float:
    result: list[float] = []
    worker = threading.Thread(target=lambda: result.append(median_ms(count)))
    worker.start()
    worker.join()
    return result[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="dev-29", help="workload name prefix")
    args = parser.parse_args()
    outputs = largest_json_outputs(args.workload)
    if not outputs:
        raise SystemExit(f"{args.workload}: no JSON tool output")
    text = outputs[0]
    counter = token_counter("o200k_base")
    for _ in range(3):
        counter(text)

    def count() -> int:
        return counter(text)

    rows = [("alone", median_ms(count))]
    rows.append(
        ("beside a thread of this process running pure Python", beside_thread(spin_until, count))
    )
    rows.append(
        (
            "beside a thread of this process parsing JSON",
            beside_thread(lambda stop: parse_until(outputs, stop, time.time() + 60), count),
        )
    )
    rows.append(("alone, on another thread (this thread's encoding)", on_a_thread(count)))
    own = own_token_counter("o200k_base")
    rows.append(
        ("alone, on another thread (an encoding of its own)", on_a_thread(lambda: own(text)))
    )
    context = mp.get_context("spawn")
    started = context.Event()
    other = context.Process(target=parse_in_process, args=(outputs, started, time.time() + 30))
    other.start()
    started.wait(20)
    time.sleep(0.2)
    rows.append(("beside another process parsing JSON", median_ms(count)))
    other.terminate()
    other.join()

    table = Table(title=f"Counting {len(text):,} characters of {args.workload} (median of {RUNS})")
    table.add_column("counting")
    table.add_column("ms", justify="right")
    table.add_column("x alone", justify="right")
    for label, ms in rows:
        table.add_row(label, f"{ms:.1f}", f"{ms / rows[0][1]:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
