"""The API key given to the wrapped OpenAI client never reaches a store or a log, in either
mode, streamed or not, on success or error, with every logger at DEBUG. (No prompt or reply
text unless store_content=True: tests/client/test_client_metrics.py; file modes 0600:
tests/store/test_stores.py.)"""

from __future__ import annotations

import logging
from pathlib import Path

import openai
import pytest

from headroom import HeadroomClient
from tests.support.openai_server import OpenAIServer, error_reply

API_KEY = "sk-proj-LEAKCANARY0123456789abcdefABCDEF"
MESSAGES = [{"role": "user", "content": "Summarise the report."}]


@pytest.mark.parametrize("scheme", ["sqlite", "jsonl"])
@pytest.mark.parametrize("store_content", [False, True])
def test_api_key_never_reaches_the_store_or_the_logs(
    scheme: str,
    store_content: bool,
    openai_server: OpenAIServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / f"metrics.{scheme}"
    url = f"sqlite:///{path}" if scheme == "sqlite" else f"jsonl://{path}"
    base = openai.OpenAI(base_url=openai_server.base_url, api_key=API_KEY, max_retries=0)
    client = HeadroomClient(original_client=base, store_url=url, store_content=store_content)
    broken = HeadroomClient(  # a store that fails, so its warning is logged too
        original_client=base, store_url=f"sqlite:///{tmp_path}/missing/\0bad.db"
    )
    with caplog.at_level(logging.DEBUG):
        for mode in ("audit", "optimize"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES, headroom_mode=mode)
            for _chunk in client.chat.completions.create(
                model="gpt-4o", messages=MESSAGES, stream=True, headroom_mode=mode
            ):
                pass
            openai_server.queue(error_reply(401, "Incorrect API key provided"))
            with pytest.raises(openai.AuthenticationError):
                client.chat.completions.create(
                    model="gpt-4o", messages=MESSAGES, headroom_mode=mode
                )
            broken.chat.completions.create(model="gpt-4o", messages=MESSAGES, headroom_mode=mode)
        client.get_summary()
        client.get_metrics()
    client.close()
    base.close()
    # The key did travel: the server received it, so a leak would have had the chance.
    assert openai_server.chat_requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert broken.dropped_records == 2
    assert "could not write" in caplog.text
    assert {"openai", "httpx"} <= {r.name.split(".")[0] for r in caplog.records}  # DEBUG seen
    assert len(HeadroomClient(original_client=base, store_url=url).get_metrics()) == 6
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert stored
    for needle in (API_KEY, API_KEY[8:24]):
        assert needle.encode() not in stored
        assert needle not in caplog.text
        assert all(needle not in str(r.args) for r in caplog.records)
