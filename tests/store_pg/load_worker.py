"""One process of the many-process load test (started with the ``forkserver`` context: a fresh
interpreter imports this module once, with openai, Headroom and the tokenizer, and forks each
worker from it, so eight workers do not each pay for those imports on a two-core machine).

For each store URL in turn, every worker waits at a barrier (so all of them write to the same
store at once), sends its requests through a HeadroomClient around the real ``openai`` SDK, and
reports what the provider said it used."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from headroom import Headroom, HeadroomClient
from headroom.encodings import get_encoding

MESSAGES = [{"role": "system", "content": "Answer in one word."}]


def warm_up() -> None:
    """Do once, in the forkserver, what every worker's first request would do again: load the
    tokenizer, the engine's lazy parts and the SDK's response models."""
    get_encoding("o200k_base")
    engine = Headroom()
    for mode in ("audit", "optimize"):
        engine.simulate([*MESSAGES, {"role": "user", "content": "warm"}], "gpt-4o-mini", mode=mode)
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-warm-up")
    client.chat.completions  # noqa: B018 - imports the lazily loaded resource modules
    client.close()
    ChatCompletion.model_validate(
        {
            "id": "warm",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "hi"},
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )


@dataclass
class PhaseResult:
    """What one worker saw while writing to one store."""

    phase: int
    worker: int
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    dropped_records: int = 0
    seconds: float = 0.0
    error: str | None = None


def request_text(worker: int, number: int) -> str:
    """The user message of request ``number`` of ``worker``; the test finds it in the store."""
    return f"load w{worker} r{number}: say hi"


def run(
    worker: int,
    base_url: str,
    store_urls: list[str],
    requests: int,
    barrier: Any,
    results: Any,
) -> None:
    for phase, url in enumerate(store_urls):
        result = PhaseResult(phase=phase, worker=worker)
        try:
            barrier.wait(timeout=120)
            started = time.perf_counter()
            _one_phase(worker, base_url, url, requests, result)
            result.seconds = time.perf_counter() - started
        except BaseException:  # noqa: BLE001 - reported to the test, which fails
            result.error = traceback.format_exc()
        results.put(result)
        if result.error is not None:
            barrier.abort()  # the others must not wait for us
            return


def _one_phase(worker: int, base_url: str, url: str, requests: int, result: PhaseResult) -> None:
    bare = openai.OpenAI(base_url=base_url, api_key="sk-load-test", max_retries=0, timeout=60)
    with HeadroomClient(bare, store_url=url, store_content=True) as client:
        for number in range(requests):
            response = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[*MESSAGES, {"role": "user", "content": request_text(worker, number)}],
                max_tokens=8,
                headroom_mode="optimize" if (worker + number) % 2 else "audit",
            )
            assert response.usage is not None
            result.requests += 1
            result.prompt_tokens += response.usage.prompt_tokens
            result.completion_tokens += response.usage.completion_tokens
        result.dropped_records = client.dropped_records
