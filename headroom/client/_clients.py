"""HeadroomClient and AsyncHeadroomClient: the OpenAI SDK client, with Headroom in
``chat.completions`` and metrics at hand. Everything else is the wrapped client's own."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..engine import Headroom
from ..recording import Recorder
from ..store import MetricsStore, RequestRecord
from ..store._filters import as_epoch
from ._call import Session
from ._resources import AsyncCompletions, Chat, Completions, _Proxy


class _BaseClient:
    _completions_class: type[_Proxy] = Completions

    def __init__(
        self,
        original_client: Any,
        store_url: str | MetricsStore | None = "sqlite:///headroom.db",
        default_mode: str = "audit",
        model_context_limits: Mapping[str, int] | None = None,
        *,
        store_content: bool = False,
        output_buffer_tokens: int | None = None,
        keep_turns: int | None = None,
        tool_profiles: Mapping[str, Any] | None = None,
        source: str = "openai",
    ) -> None:
        chat = getattr(original_client, "chat", None)
        completions = getattr(chat, "completions", None)
        create = getattr(completions, "create", None)
        if create is None:
            raise ValueError(
                f"original_client must be an OpenAI-style client with chat.completions.create, "
                f"got {type(original_client).__name__}"
            )
        self._check_flavour(create)
        engine = Headroom(
            model_context_limits,
            mode=default_mode,
            output_buffer_tokens=output_buffer_tokens,
            keep_turns=keep_turns,
            tool_profiles=tool_profiles,
        )
        recorder = Recorder(store_url)
        self._original = original_client
        self._session = Session(engine, recorder, store_content=bool(store_content), source=source)
        self.chat = Chat(chat, self._completions_class(completions, self._session))

    def _check_flavour(self, create: Any) -> None:
        if _is_async(create):
            raise ValueError(
                "HeadroomClient wraps a synchronous OpenAI client; "
                "use AsyncHeadroomClient for AsyncOpenAI"
            )

    # -- what Headroom adds -----------------------------------------------------------------
    @property
    def original_client(self) -> Any:
        return self._original

    @property
    def engine(self) -> Headroom:
        return self._session.engine

    @property
    def store(self) -> MetricsStore | None:
        return self._session.recorder.store

    def get_metrics(
        self,
        limit: int | None = 100,
        since: float | datetime | None = None,
        model: str | None = None,
        mode: str | None = None,
        until: float | datetime | None = None,
    ) -> list[RequestRecord]:
        """Stored records, newest first; ``since``/``until`` in epoch seconds or datetimes."""
        store = self._session.recorder.store
        if store is None:
            return []
        return store.query(
            limit=limit,
            since=as_epoch(since, "since"),
            until=as_epoch(until, "until"),
            model=model,
            mode=mode,
        )

    def get_summary(
        self, since: float | datetime | None = None, until: float | datetime | None = None
    ) -> dict[str, Any]:
        """Totals over the stored records, plus records and internal failures that were lost."""
        summary = self._session.recorder.summary(
            since=as_epoch(since, "since"), until=as_epoch(until, "until")
        )
        summary["internal_failures"] = sum(self._session.failures.values()) + sum(
            self._session.engine.failures.values()
        )
        return summary

    @property
    def dropped_records(self) -> int:
        return self._session.recorder.dropped_records

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_original", "_session"):
            raise AttributeError(name)
        return getattr(self._original, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self._original)))


class HeadroomClient(_BaseClient):
    """Wraps ``openai.OpenAI``: use it exactly like the original client."""

    def close(self) -> None:
        """Close the metrics store and the wrapped client."""
        self._session.recorder.close()
        close = getattr(self._original, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> HeadroomClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncHeadroomClient(_BaseClient):
    """Wraps ``openai.AsyncOpenAI``: use it exactly like the original client."""

    _completions_class = AsyncCompletions

    def _check_flavour(self, create: Any) -> None:
        if not _is_async(create):
            raise ValueError(
                "AsyncHeadroomClient wraps an asynchronous client (AsyncOpenAI); "
                "use HeadroomClient for OpenAI"
            )

    async def close(self) -> None:
        """Close the metrics store and the wrapped client."""
        self._session.recorder.close()
        close = getattr(self._original, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result

    async def __aenter__(self) -> AsyncHeadroomClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _is_async(function: Any) -> bool:
    """Whether ``function`` (possibly behind functools.wraps decorators) is a coroutine."""
    try:
        unwrapped = inspect.unwrap(function)
    except ValueError:
        unwrapped = function
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(unwrapped)
