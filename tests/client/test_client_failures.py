"""Never break the call: provider errors reach the caller unchanged after a record is written;
a failing store or engine is logged once and counted while the request still goes out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from headroom import HeadroomBudgetError, HeadroomClient
from headroom.store import MemoryStore, RequestRecord
from tests.support.openai_server import OpenAIServer, error_reply, text_reply

from .conftest import chat_bodies

REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.mark.parametrize("mode", ["audit", "optimize"])
@pytest.mark.parametrize(
    "status, error",
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (400, openai.BadRequestError),
    ],
)
def test_provider_errors_reach_the_caller_after_a_record(
    mode: str,
    status: int,
    error: type[Exception],
    client: HeadroomClient,
    openai_server: OpenAIServer,
) -> None:
    openai_server.queue(error_reply(status, "upstream says no", headers={"Retry-After": "2"}))
    with pytest.raises(error) as caught:
        client.chat.completions.create(**REQUEST, headroom_mode=mode)
    assert type(caught.value) is error
    assert "upstream says no" in str(caught.value)
    (record,) = client.get_metrics()
    assert record.error_type == error.__name__
    assert record.mode == mode
    assert record.tokens_before > 0
    assert client.get_summary()["error_count"] == 1


def test_timeout_reaches_the_caller_as_the_sdk_timeout(
    openai_server: OpenAIServer,
) -> None:
    base = openai.OpenAI(
        base_url=openai_server.base_url, api_key="sk-test", max_retries=0, timeout=0.2
    )
    client = HeadroomClient(original_client=base, store_url="memory://")
    openai_server.queue(text_reply(delay=1.0))
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(**REQUEST)
    (record,) = client.get_metrics()
    assert record.error_type == "APITimeoutError"
    base.close()


async def test_async_provider_error_is_recorded(aclient: Any, openai_server: OpenAIServer) -> None:
    openai_server.queue(error_reply(429))
    with pytest.raises(openai.RateLimitError):
        await aclient.chat.completions.create(**REQUEST)
    assert aclient.get_metrics()[0].error_type == "RateLimitError"


class BrokenStore(MemoryStore):
    """A store whose writes fail the way a full disk does."""

    def write(self, record: RequestRecord) -> None:
        raise OSError(28, "No space left on device")


def test_store_failure_never_breaks_the_call_and_is_logged_once(
    bare: openai.OpenAI, caplog: pytest.LogCaptureFixture, openai_server: OpenAIServer
) -> None:
    client = HeadroomClient(original_client=bare, store_url=BrokenStore())
    with caplog.at_level(logging.WARNING, logger="headroom"):
        for _ in range(3):
            reply = client.chat.completions.create(**REQUEST)
            assert reply.choices[0].message.content
        for _chunk in client.chat.completions.create(**REQUEST, stream=True):
            pass
    assert len(openai_server.chat_requests) == 4
    warnings = [r for r in caplog.records if "could not write" in r.getMessage()]
    assert len(warnings) == 1
    assert client.get_summary()["dropped_records"] == 4
    assert client.dropped_records == 4


def test_sqlite_store_in_a_missing_unwritable_place(bare: openai.OpenAI, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the directory should be")
    client = HeadroomClient(original_client=bare, store_url=f"sqlite:///{blocker}/m.db")
    reply = client.chat.completions.create(**REQUEST)
    assert reply.choices[0].message.content
    assert client.dropped_records == 1


def test_locked_sqlite_database(bare: openai.OpenAI, tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "m.db"
    client = HeadroomClient(original_client=bare, store_url=f"sqlite:///{path}?timeout=0.05")
    client.chat.completions.create(**REQUEST)  # creates the schema
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        reply = client.chat.completions.create(**REQUEST)
        assert reply.choices[0].message.content
        assert client.dropped_records == 1
    finally:
        holder.rollback()
        holder.close()
    client.chat.completions.create(**REQUEST)
    assert len(client.get_metrics()) == 2


def test_deleted_jsonl_file_is_recreated(bare: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    client = HeadroomClient(original_client=bare, store_url=f"jsonl://{path}")
    client.chat.completions.create(**REQUEST)
    path.unlink()
    client.chat.completions.create(**REQUEST)
    assert len(client.get_metrics()) == 1
    assert client.dropped_records == 0


def test_deleted_sqlite_file_is_recreated(bare: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    client = HeadroomClient(original_client=bare, store_url=f"sqlite:///{path}")
    client.chat.completions.create(**REQUEST)
    path.unlink()
    client.chat.completions.create(**REQUEST)
    assert path.exists()
    assert len(client.get_metrics()) == 1


def test_engine_failure_sends_the_request_unchanged(
    bare: openai.OpenAI,
    make_client: Callable[..., HeadroomClient],
    openai_server: OpenAIServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = make_client(default_mode="optimize")

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("transform bug")

    monkeypatch.setattr(client.engine, "plan", explode)
    bare.chat.completions.create(**REQUEST)
    with caplog.at_level(logging.WARNING, logger="headroom"):
        client.chat.completions.create(**REQUEST)
        client.chat.completions.create(**REQUEST)
    direct, first, second = chat_bodies(openai_server)
    assert first == direct and second == direct
    assert len([r for r in caplog.records if "transform bug" in r.getMessage()]) == 1
    records = client.get_metrics()
    assert len(records) == 2 and all(r.mode == "optimize" for r in records)
    assert records[0].prompt_tokens is not None
    assert client.get_summary()["internal_failures"] == 2


def test_budget_error_is_raised_before_sending(
    make_client: Callable[..., HeadroomClient], openai_server: OpenAIServer
) -> None:
    client = make_client(model_context_limits={"tiny-model": 1000})
    huge = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(HeadroomBudgetError):
        client.chat.completions.create(model="tiny-model", messages=huge, headroom_mode="optimize")
    assert openai_server.requests == []
    # audit mode never refuses: the request goes out as it is
    client.chat.completions.create(model="tiny-model", messages=huge)
    assert len(openai_server.chat_requests) == 1


def test_failing_transform_is_skipped_and_counted(
    make_client: Callable[..., HeadroomClient],
    openai_server: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from headroom.transforms import tool_output

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("compression bug")

    monkeypatch.setattr(tool_output, "apply", broken)
    client = make_client(default_mode="optimize")
    messages = [
        {"role": "system", "content": "You are helpful. Current date: 2024-01-15"},
        {"role": "user", "content": "Hi"},
    ]
    reply = client.chat.completions.create(model="gpt-4o", messages=messages)
    assert reply.choices[0].message.content
    (sent,) = openai_server.chat_requests
    assert sent.json["messages"][1] == messages[1]
    assert client.engine.failures[tool_output.NAME] == 1
    assert client.get_summary()["internal_failures"] == 1
    assert client.get_metrics()[0].mode == "optimize"
