"""One client shared by threads or by concurrent tasks: every call gets exactly one record."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from headroom import AsyncHeadroomClient, HeadroomBudgetError, HeadroomClient
from tests.support.openai_server import OpenAIServer

REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


def test_threads_share_one_client_and_one_sqlite_store(
    make_client: Callable[..., HeadroomClient], openai_server: OpenAIServer, tmp_path: Path
) -> None:
    client = make_client(store_url=f"sqlite:///{tmp_path / 'm.db'}")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(6):
                mode = "optimize" if (n + i) % 2 else "audit"
                if i % 3 == 0:
                    for _chunk in client.chat.completions.create(
                        **REQUEST, stream=True, headroom_mode=mode
                    ):
                        pass
                else:
                    client.chat.completions.create(**REQUEST, headroom_mode=mode)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(openai_server.chat_requests) == 18
    summary = client.get_summary()
    assert summary["total_requests"] == 18
    assert summary["audit_count"] == summary["optimize_count"] == 9
    assert summary["dropped_records"] == 0
    client.close()


async def test_concurrent_tasks_on_the_async_client(
    aclient: AsyncHeadroomClient, openai_server: OpenAIServer
) -> None:
    async def one(i: int) -> str:
        if i % 2:
            stream = await aclient.chat.completions.create(**REQUEST, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream])
        reply = await aclient.chat.completions.create(**REQUEST)
        return reply.choices[0].message.content or ""

    texts = await asyncio.gather(*(one(i) for i in range(12)))
    assert len(set(texts)) == 1
    assert aclient.get_summary()["total_requests"] == 12
    assert sorted(r.stream for r in aclient.get_metrics()) == [False] * 6 + [True] * 6


async def test_async_option_and_budget_errors_before_sending(
    make_async_client: Callable[..., AsyncHeadroomClient], openai_server: OpenAIServer
) -> None:
    client = make_async_client(model_context_limits={"tiny-model": 1000})
    with pytest.raises(ValueError, match="headroom_bogus"):
        await client.chat.completions.create(**REQUEST, headroom_bogus=True)
    with pytest.raises(HeadroomBudgetError):
        await client.chat.completions.create(
            model="tiny-model",
            messages=[{"role": "user", "content": "word " * 3000}],
            headroom_mode="optimize",
            stream=True,
        )
    assert openai_server.requests == []
    assert client.get_metrics() == []
