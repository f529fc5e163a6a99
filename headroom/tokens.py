"""Exact, offline prompt-token counting, cached by content.

``count_tokens`` returns what the OpenAI API bills as ``prompt_tokens``: the chat formula from
OpenAI's cookbook (3 tokens per message, 1 per ``name``, 3 to prime the reply), tool-call names
and arguments, the cookbook's tool-definition formula, and images by the tile rule. An agent
loop resends its whole history every turn, so text counts are memoised by content: a turn pays
only for what is new.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .encodings import own_token_counter, token_counter
from .images import image_tokens
from .models import CL100K, ModelInfo, resolve_model

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
# A tool call in an assistant message: its id/type framing around name and arguments.
TOKENS_PER_TOOL_CALL = 3


class _TextCountCache:
    """An LRU of text -> token count per encoding, bounded by total characters held, and the
    counts of big texts under way on a background thread (``prefetch``)."""

    def __init__(self, max_chars: int = 64_000_000, max_entries: int = 200_000) -> None:
        self._entries: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._tiny: dict[tuple[str, str], int] = {}
        self._pending: dict[tuple[str, str], Future[int]] = {}
        self._requested_by: dict[Future[int], int] = {}  # the thread that asked for a count
        self._generation = 0
        self._own_encodings: set[str] = set()  # the background thread has its own counter
        self._background_chars: dict[str, int] = {}  # counted there, per encoding
        self._chars = 0
        self._max_chars = max_chars
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def count(self, encoding: str, text: str) -> int:
        key = (encoding, text)
        if len(text) <= _TINY_CHARS:  # roles, names: a plain dict, no lock, no LRU order
            tiny = self._tiny.get(key)
            if tiny is None:
                tiny = _encode_len(encoding, text)
                if len(self._tiny) >= _TINY_ENTRIES:
                    self._tiny.clear()
                self._tiny[key] = tiny
            return tiny
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
            future = self._pending.get(key)
        if future is not None:
            if future.cancel():  # not started: count it here rather than wait in line
                with self._lock:
                    self._forget(key)
            else:
                self._help_until(future)
                try:
                    return future.result()
                except Exception:  # noqa: BLE001 - the background count failed: count here
                    pass
        value = _encode_len(encoding, text)
        self._store(key, value)
        return value

    def _help_until(self, running: Future[int]) -> None:
        """While ``running`` is being counted in the background, count the texts this thread
        queued behind it here, rather than wait idle for a count that is almost done and
        then for the next one, not yet started (another thread's texts are left to it)."""
        me = threading.get_ident()
        while not running.done():
            with self._lock:
                queued = next(
                    (
                        (key, f)
                        for key, f in self._pending.items()
                        if f is not running and self._requested_by.get(f) == me
                    ),
                    None,
                )
                if queued is None or not queued[1].cancel():
                    return
                self._forget(queued[0])
            self._store(queued[0], _encode_len(*queued[0]))

    def _forget(self, key: tuple[str, str]) -> None:
        """Drop a pending count (under the lock)."""
        future = self._pending.pop(key, None)
        if future is not None:
            self._requested_by.pop(future, None)

    def _store(self, key: tuple[str, str], value: int) -> None:
        with self._lock:
            if key not in self._entries:
                self._entries[key] = value
                self._chars += len(key[1])
                while self._chars > self._max_chars or len(self._entries) > self._max_entries:
                    (_, old), _count = self._entries.popitem(last=False)
                    self._chars -= len(old)

    def prefetch(self, encoding: str, text: str) -> bool:
        """Start counting ``text`` on the background thread; ``count`` then waits for it.
        False when nothing was started (already counted or under way, or no thread)."""
        key = (encoding, text)
        with self._lock:
            if key in self._entries or key in self._pending:
                return False
            pool = _background_pool()
            if pool is None:
                return False
            try:
                if (
                    encoding not in self._own_encodings
                    and self._background_chars.get(encoding, 0) >= OWN_ENCODING_AFTER_CHARS
                ):
                    pool.submit(_adopt_own_counter, encoding)
                    self._own_encodings.add(encoding)
                self._background_chars[encoding] = self._background_chars.get(encoding, 0) + len(
                    text
                )
                future = pool.submit(self._background_count, key, self._generation)
            except RuntimeError:  # interpreter shutting down: count in the caller instead
                return False
            self._pending[key] = future
            self._requested_by[future] = threading.get_ident()
            return True

    def _background_count(self, key: tuple[str, str], generation: int) -> int:
        try:
            value = _encode_len(*key)
        except BaseException:
            with self._lock:
                self._forget(key)
            raise
        with self._lock:
            current = generation == self._generation
            self._forget(key)
        if current:
            self._store(key, value)
        return value

    def peek(self, encoding: str, text: str) -> int | None:
        """The memoised count, or None when ``text`` has not been counted (never tokenizes)."""
        with self._lock:
            return self._entries.get((encoding, text))

    def clear(self) -> None:
        with self._lock:
            for future in self._pending.values():  # what has not started need not run
                future.cancel()
            self._tiny.clear()
            self._entries.clear()
            self._pending.clear()
            self._requested_by.clear()
            self._generation += 1
            self._chars = 0

    def after_fork(self) -> None:
        """In a forked child no background thread exists: forget what was under way."""
        self._lock = threading.Lock()
        self._pending.clear()
        self._requested_by.clear()
        self._own_encodings.clear()
        self._background_chars.clear()
        self._generation += 1


# Texts this short (roles, names) are memoised apart, in a plain dict emptied when full.
_TINY_CHARS = 32
_TINY_ENTRIES = 65_536
# Texts this long are counted on a background thread while the engine parses and compresses
# (tiktoken releases the GIL); shorter ones cost less to count than to hand over.
PREFETCH_MIN_CHARS = 16_000
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _background_pool() -> ThreadPoolExecutor | None:
    """The one-thread pool for background counts, created on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            try:
                _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="headroom-count")
            except RuntimeError:
                return None
        return _pool


_cache = _TextCountCache()


def _after_fork_in_child() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()
    _cache.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


# The background thread builds its own encoding (``own_token_counter``: about 0.1 s with the
# GIL held, and 40 MB) once it has been handed this many characters under one, about 0.4 s of
# tokenizing: a process that counts a little never pays for it, one that counts a lot gets
# counts about 1.2x faster from then on.
OWN_ENCODING_AFTER_CHARS = 8_000_000
# Counters a thread built for itself (the background thread: see ``own_token_counter``).
_own_counters = threading.local()


def _adopt_own_counter(encoding: str) -> None:
    """Run on the background thread (see ``OWN_ENCODING_AFTER_CHARS``): build the counter it
    will use from now on under ``encoding``, and make this thread its first (so fast) user."""
    if getattr(_own_counters, encoding, None) is None:
        count = own_token_counter(encoding)
        count(" ")
        setattr(_own_counters, encoding, count)


def _encode_len(encoding: str, text: str) -> int:
    count = getattr(_own_counters, encoding, None) or token_counter(encoding)
    try:
        return count(text)
    except UnicodeEncodeError:  # lone surrogates: count them as the replacement they become
        return count(text.encode("utf-8", "replace").decode("utf-8"))


def count_text(text: str, encoding: str = "o200k_base") -> int:
    """Tokens in ``text`` under ``encoding``, memoised by content."""
    if not text:
        return 0
    return _cache.count(encoding, text)


# An ASCII letter or digit followed by one of these characters: a place where both
# encodings' pre-tokenizers always start a new piece (no letter or number piece takes in a
# quote, comma, colon or closing bracket), and BPE never merges across pieces, so the count
# of a text is the sum of the counts of its parts cut there.
_PIECE_BOUNDARY = re.compile(r"[A-Za-z0-9](?=[\",:\]}])")


def piece_cut(text: str, start: int) -> int | None:
    """The first position at or after ``start`` where ``text`` can be cut so that its token
    count is exactly the sum of the two parts' counts; None when there is none."""
    found = _PIECE_BOUNDARY.search(text, max(start - 1, 0))
    return None if found is None else found.end()


def count_edited(new: str, old: str, encoding: str = "o200k_base") -> int:
    """``count_text(new)`` for a text made from ``old`` by a few local edits (a system prompt
    whose whitespace alignment normalised), tokenizing only the span around the edits when
    ``old`` is already counted: both texts are cut where counts add up exactly (``piece_cut``)
    inside the part they share at each end, and the shared ends count the same in both."""
    known = _cache.peek(encoding, old)
    if known is None or len(new) < _EDIT_MIN_CHARS or new == old:
        return count_text(new, encoding)
    already = _cache.peek(encoding, new)
    if already is not None:
        return already
    head = _shared_head(old, new)
    tail = _shared_tail(old, new, min(len(old), len(new)) - head)
    start = _last_cut_before(new, head)
    end = piece_cut(new, len(new) - tail + 1) or len(new)
    shift = len(old) - len(new)
    if 2 * (end - start) + shift > len(new):  # the edits span most of it: count it whole
        return count_text(new, encoding)
    value = known - _encode_len(encoding, old[start : end + shift])
    value += _encode_len(encoding, new[start:end])
    _cache._store((encoding, new), value)
    return value


# Below this size tokenizing a text costs less than finding what it shares with another.
_EDIT_MIN_CHARS = 1_000
_BLOCK = 4_096


def _shared_head(a: str, b: str) -> int:
    """The length of the longest common prefix: whole blocks first, then halving the rest
    (slices compare in C; a character at a time would cost more than the tokenizing saved)."""
    limit, i = min(len(a), len(b)), 0
    while i + _BLOCK <= limit and a[i : i + _BLOCK] == b[i : i + _BLOCK]:
        i += _BLOCK
    size = min(_BLOCK, limit - i)
    while size:
        half = (size + 1) // 2
        if a[i : i + half] == b[i : i + half]:
            i += half
            size -= half
        else:
            size = half - 1 if half > 1 else 0
    return i


def _shared_tail(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix, at most ``limit``."""
    return _shared_head(a[len(a) - limit :][::-1], b[len(b) - limit :][::-1]) if limit else 0


def _last_cut_before(text: str, limit: int) -> int:
    """The last ``piece_cut`` position whose two sides both lie before ``limit`` (0 if none)."""
    window = 256
    while True:
        lo = max(limit - window, 0)
        cuts = [m.end() for m in _PIECE_BOUNDARY.finditer(text, lo, limit)]
        if cuts or lo == 0:
            return cuts[-1] if cuts else 0
        window *= 4


def count_exceeds(text: str, limit: int, encoding: str = "o200k_base") -> bool:
    """Exactly ``count_text(text) > limit``, counting only a prefix when that prefix alone
    already holds more than ``limit`` tokens (a big text pays ~``limit`` tokens, not all)."""
    known = _cache.peek(encoding, text)
    if known is not None:
        return known > limit
    cut = piece_cut(text, 8 * (limit + 1)) if len(text) > 16 * (limit + 1) else None
    if cut is not None and _encode_len(encoding, text[:cut]) > limit:
        return True
    return count_text(text, encoding) > limit


def estimate_tokens(text: str, encoding: str = "o200k_base", samples: int = 16) -> int:
    """Tokens in ``text``: exact when it is short, otherwise extrapolated by length from
    ``samples`` evenly spread slices (each cut where counts add up exactly), so a figure for
    a report costs a few kilobytes of tokenizing, not the whole text. A pure function of
    ``text``: it never looks at the memo, so the same request always gets the same figure."""
    size = 256
    if len(text) <= 2 * samples * size:
        return count_text(text, encoding)
    tokens = chars = 0
    step = len(text) // samples
    for k in range(samples):
        start = piece_cut(text, k * step) if k else 0
        end = piece_cut(text, (start or 0) + size) if start is not None else None
        if start is None or end is None or end > (k + 1) * step:
            continue
        tokens += _encode_len(encoding, text[start:end])
        chars += end - start
    if chars < size:
        return count_text(text, encoding)
    return round(tokens * len(text) / chars)


def cached_count(text: str, encoding: str = "o200k_base") -> int | None:
    """The count of ``text`` if it is already memoised, else None (counts nothing)."""
    return _cache.peek(encoding, text) if text else 0


def prefetch_count(
    text: str, encoding: str = "o200k_base", min_chars: int = PREFETCH_MIN_CHARS
) -> None:
    """Start counting ``text`` in the background when it is big (``min_chars`` or more) and
    not yet counted; a later ``count_text`` of it waits for that count instead of
    tokenizing again."""
    if _start_count(text, encoding, min_chars):
        _let_background_run()


def _start_count(text: str, encoding: str, min_chars: int = PREFETCH_MIN_CHARS) -> bool:
    return len(text) >= min_chars and _cache.prefetch(encoding, text)


def _let_background_run() -> None:
    """Release the GIL for a moment. The count thread needs it to start a count (and to
    hand one back); otherwise it waits until the interpreter's next thread switch, up to
    5 ms later, while the engine's Python work holds it. ``sleep(0)`` releases it."""
    time.sleep(0)


def prefetch_message_counts(messages: Iterable[object], encoding: str) -> None:
    """``prefetch_count`` for the string contents and text parts of ``messages``."""
    started = False
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, str):
            started = _start_count(content, encoding) or started
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, Mapping) else None
                if isinstance(text, str):
                    started = _start_count(text, encoding) or started
    if started:
        _let_background_run()


def clear_cache() -> None:
    """Forget every memoised count (for benchmarks that measure cold counting)."""
    _cache.clear()


def content_tokens(content: object, info: ModelInfo) -> int:
    """Tokens of a message's ``content``: a string, a list of parts, or None."""
    if content is None:
        return 0
    if isinstance(content, str):
        return count_text(content, info.encoding)
    if isinstance(content, list):
        return sum(_part_tokens(part, info) for part in content)
    return count_text(_as_text(content), info.encoding)


def _part_tokens(part: object, info: ModelInfo) -> int:
    if isinstance(part, str):
        return count_text(part, info.encoding)
    if not isinstance(part, (dict, Mapping)):
        return count_text(_as_text(part), info.encoding)
    kind = part.get("type")
    if kind in ("text", "input_text", "output_text") and isinstance(part.get("text"), str):
        return count_text(part["text"], info.encoding)
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return count_text(part["refusal"], info.encoding)
    if kind in ("image_url", "input_image"):
        return image_tokens(part, info.image_base_tokens, info.image_tile_tokens)
    if kind in ("input_audio", "file", "input_file"):
        return 0  # billed by the provider outside the text prompt; not estimable from the body
    return count_text(_as_text(part), info.encoding)


def _as_text(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except RecursionError:
        return _deep_text(value)
    except (TypeError, ValueError):
        try:
            return str(value)
        except RecursionError:
            return _deep_text(value)


def _deep_text(value: object) -> str:
    """Brackets and leaves of a structure too deep for json.dumps or repr, walked without
    recursion (each container once, so a cycle ends): an estimate that never crashes."""
    out: list[str] = []
    stack: list[tuple[bool, object]] = [(False, value)]
    seen: set[int] = set()
    while stack:
        closing, item = stack.pop()
        if closing:
            out.append(str(item))
            continue
        if isinstance(item, (list, tuple, Mapping)):
            if id(item) in seen:
                out.append("...")
                continue
            seen.add(id(item))
            is_map = isinstance(item, Mapping)
            out.append("{" if is_map else "[")
            stack.append((True, "}" if is_map else "]"))
            children: list[object] = (
                [x for kv in item.items() for x in kv] if isinstance(item, Mapping) else list(item)
            )
            stack.extend((False, child) for child in reversed(children))
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, (int, float, bool, type(None))):
            out.append(repr(item))
        else:
            out.append(f"<{type(item).__name__}>")
    return " ".join(out)


def tool_call_tokens(tool_calls: object, info: ModelInfo) -> int:
    """Tokens for the ``tool_calls`` of an assistant message (name and arguments of each)."""
    if not isinstance(tool_calls, list):
        return count_text(_as_text(tool_calls), info.encoding) if tool_calls else 0
    total = 0
    for call in tool_calls:
        total += TOKENS_PER_TOOL_CALL
        fn = call.get("function") if isinstance(call, (dict, Mapping)) else None
        if isinstance(fn, (dict, Mapping)):
            name, args = fn.get("name"), fn.get("arguments")
            total += count_text(name if isinstance(name, str) else _as_text(name), info.encoding)
            total += count_text(args if isinstance(args, str) else _as_text(args), info.encoding)
        else:
            total += count_text(_as_text(call), info.encoding)
    return total


def message_tokens(message: object, info: ModelInfo) -> int:
    """Tokens one message adds to the prompt, framing included."""
    if not isinstance(message, (dict, Mapping)):  # dict first: no ABC check
        return TOKENS_PER_MESSAGE + count_text(_as_text(message), info.encoding)
    total = TOKENS_PER_MESSAGE
    role = message.get("role")
    total += count_text(role if isinstance(role, str) else _as_text(role), info.encoding)
    total += content_tokens(message.get("content"), info)
    name = message.get("name")
    if name is not None:
        total += TOKENS_PER_NAME + count_text(
            name if isinstance(name, str) else _as_text(name), info.encoding
        )
    if message.get("tool_calls"):
        total += tool_call_tokens(message.get("tool_calls"), info)
    function_call = message.get("function_call")
    if isinstance(function_call, Mapping):
        total += tool_call_tokens([{"function": function_call}], info)
    return total


def tools_tokens(tools: object, info: ModelInfo) -> int:
    """Tokens for the ``tools`` list by the cookbook's tool-definition formula."""
    if not tools or not isinstance(tools, list):
        return 0
    if info.encoding == CL100K:
        func_init, prop_init, prop_key, enum_init, enum_item, func_end = 10, 3, 3, -3, 3, 12
    else:
        func_init, prop_init, prop_key, enum_init, enum_item, func_end = 7, 3, 3, -3, 3, 12
    enc = info.encoding
    total = 0
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(fn, Mapping):
            total += count_text(_as_text(tool), enc)
            continue
        total += func_init
        desc = _str(fn.get("description")).removesuffix(".")
        total += count_text(f"{_str(fn.get('name'))}:{desc}", enc)
        params = fn.get("parameters")
        props = params.get("properties") if isinstance(params, Mapping) else None
        if isinstance(props, Mapping) and props:
            total += prop_init
            for key, spec in props.items():
                total += prop_key
                spec = spec if isinstance(spec, Mapping) else {}
                enum = spec.get("enum")
                if isinstance(enum, list):
                    total += enum_init
                    for item in enum:
                        total += enum_item + count_text(_str(item), enc)
                p_type = spec.get("type")
                p_type_text = p_type if isinstance(p_type, str) else _as_text(p_type)
                p_desc = _str(spec.get("description")).removesuffix(".")
                total += count_text(f"{key}:{p_type_text}:{p_desc}", enc)
                nested = {k: v for k, v in spec.items() if k in ("properties", "items")}
                if nested:  # beyond the cookbook: nested schemas are billed as their JSON
                    total += count_text(_as_text(nested), enc)
    return total + func_end


def _str(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def messages_tokens(messages: Iterable[object], info: ModelInfo) -> int:
    """Tokens of a message list, reply priming included (no tools)."""
    return REPLY_PRIMING_TOKENS + sum(message_tokens(m, info) for m in messages)


def count_tokens(
    messages: Sequence[Any],
    model: str = "gpt-4o",
    tools: Sequence[Any] | None = None,
    model_context_limits: Mapping[str, int] | None = None,
) -> int:
    """What the OpenAI API bills as ``prompt_tokens`` for ``messages`` (and ``tools``)."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
        raise ValueError(f"messages must be a list of message dicts, got {type(messages).__name__}")
    info = resolve_model(model, model_context_limits)
    return messages_tokens(messages, info) + tools_tokens(list(tools) if tools else None, info)
