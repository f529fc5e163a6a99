"""Tool output compression: the biggest waste in agent requests, removed safely.

Only tool (and legacy function) messages are touched: their string content, or, where a
profile opts in (``text_parts``), each text part of a content list (MCP tools and LangChain
content blocks send those). JSON is minified
losslessly first; above the profile's size threshold it is shrunk with every cut marked in the
JSON itself, and ``<headroom:tool_digest sha256="...">`` (the digest of the original) is
appended; an object repeated in the document is sent once, later copies referring to it.
Malformed JSON is returned unchanged byte for byte in every mode; plain text (logs,
listings) too, unless the profile opts it into line-aware shortening or the rolling window
compresses harder because the request does not fit. Output whose compressed form would not be
smaller, or that Headroom already compressed, is returned unchanged. Results are memoised by
content, so an agent loop that resends its history pays only for new tool outputs.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..conversation import (
    TOOL_ROLES,
    role_of,
    tool_name_of,
    tool_names_by_call_id,
    user_text_before,
)
from ..options import ToolProfile
from ..plan import TransformResult
from ..questions import argument_only_terms, question_terms, tool_question_terms
from ..tokens import (
    REPLY_PRIMING_TOKENS,
    count_exceeds,
    count_text,
    prefetch_count,
    prefetch_message_counts,
)
from .base import TransformContext
from .flags import question_words
from .json_compress import Shrinker, dumps_min, is_json_document, minified_json, parse_json
from .json_null_fields import NULL_TEXT, factor_null_fields
from .json_references import reference_repeats
from .json_url_fields import URL_KEY_TEXT, factor_url_fields
from .text_compress import shorten_lines

NAME = "tool_output_compression"
DIGEST_TAG = "<headroom:tool_digest"


def split_digest(shown: str) -> tuple[str, bool]:
    """(``shown`` without a trailing digest line, whether it had one): a digest line marks an
    output Headroom cut, as opposed to one it only minified or left alone."""
    cut = shown.rfind("\n")
    if cut >= 0 and shown.startswith(DIGEST_TAG, cut + 1):
        return shown[:cut], True
    return shown, False


def digest_line(original: str) -> str:
    digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()
    return f'<headroom:tool_digest sha256="{digest}">'


def compress_tool_content(
    text: str,
    tool_name: str | None,
    profile: ToolProfile,
    question: str = "",
    encoding: str = "o200k_base",
) -> str:
    """The compressed form of one tool output, or ``text`` itself when it should not change."""
    asked = Settings(profile, question_terms(question), question)
    return _compress_memo(text, asked, encoding)


class Settings(NamedTuple):
    """What one tool output is compressed under: its profile, and the question it answers,
    with its terms (``question_terms``, which include the call's arguments)."""

    profile: ToolProfile
    terms: tuple[str, ...]
    question: str
    # the terms only the call's arguments give: they order what the user's words match
    secondary: frozenset[str] = frozenset()


# content, profile, question terms, question, encoding, terms only the arguments give
_Key = tuple[str, str, tuple[str, ...], str, str, tuple[str, ...]]


class _Memo:
    """LRU of compression results keyed by content, profile, question and encoding."""

    def __init__(self, max_entries: int = 2048, max_chars: int = 128_000_000) -> None:
        self._data: OrderedDict[_Key, str] = OrderedDict()
        self._chars = 0
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._lock = threading.Lock()

    def get(self, key: _Key) -> str | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: _Key, value: str) -> None:
        with self._lock:
            if key in self._data:
                return
            self._data[key] = value
            self._chars += len(key[0]) + len(value)
            while len(self._data) > self._max_entries or self._chars > self._max_chars:
                old_key, old_value = self._data.popitem(last=False)
                self._chars -= len(old_key[0]) + len(old_value)

    def pop(self, key: _Key) -> str | None:
        with self._lock:
            value = self._data.pop(key, None)
            if value is not None:
                self._chars -= len(key[0]) + len(value)
            return value


_memo = _Memo()
# Candidates ``prepare`` computed ahead of counting (the content itself stands for "none"),
# taken by the first ``_compress_memo`` of the same key.
_candidates = _Memo(max_entries=512, max_chars=64_000_000)


def compress_with_terms(text: str, asked: Settings, encoding: str) -> str:
    """``compress_tool_content`` with the question already read (``settings``)."""
    return _compress_memo(text, asked, encoding)


def _key(text: str, asked: Settings, encoding: str) -> _Key:
    secondary = tuple(sorted(asked.secondary))
    return (text, asked.profile.model_dump_json(), asked.terms, asked.question, encoding, secondary)


def _compress_memo(text: str, asked: Settings, encoding: str) -> str:
    if len(text) < 64:
        return text
    key = _key(text, asked, encoding)
    hit = _memo.get(key)
    if hit is not None:
        return hit
    candidate = _candidates.pop(key)
    if candidate is None:
        candidate = _candidate(text, asked, encoding)
    result = _smaller(text, candidate, encoding)
    _memo.put(key, result)
    return result


def _smaller(text: str, candidate: str | None, encoding: str) -> str:
    """``candidate`` when it has fewer tokens than ``text``, else ``text``."""
    if candidate is None or count_text(candidate, encoding) >= count_text(text, encoding):
        return text
    return candidate


def _candidate(text: str, asked: Settings, encoding: str) -> str | None:
    """The compressed form of ``text`` before its tokens are compared, or None."""
    if DIGEST_TAG in text:
        return None  # already compressed by Headroom: idempotent
    document = parse_json(text)
    profile = asked.profile
    if is_json_document(document):
        return _compress_json(text, document, asked, encoding)
    if profile.text_lines and not looks_like_json(text):
        shortened = shorten_lines(
            text,
            profile.max_lines,
            asked.terms,
            profile.keep_signals,
            profile.keep_ties,
            asked.question,
        )
        return None if shortened is None else f"{shortened}\n{digest_line(text)}"
    return None


def prepare(messages: list[Any], ctx: TransformContext) -> None:
    """Compute, before anything is counted, the candidate that ``apply`` (without harder
    profiles) and the waste analysis will want for each tool output, while the request's big
    texts and then each candidate are counted on a background thread: the Python work and the
    tokenizer's overlap. Only warms memos: results are the same without it. A request with no
    such work to overlap is left to be counted inline (handing a text over costs more)."""
    calls = tool_names_by_call_id(messages)
    encoding = ctx.info.encoding
    worked: list[tuple[int, Any, list[str]]] = []
    for i, message in enumerate(messages):
        if role_of(message) not in TOOL_ROLES:
            continue
        profile = _profile(message, calls, ctx, False)
        texts = tool_texts(message.get("content"), profile)
        work = [text for text in texts if len(text) >= 64 and _has_work(text, profile)]
        if work:
            worked.append((i, message, work))
    if worked:  # the counts start before the question terms are read (that parses JSON)
        prefetch_message_counts(messages, encoding)
    jobs: list[tuple[_Key, Settings]] = []
    for i, message, work in worked:
        asked = settings(message, i, messages, calls, ctx, False)
        for content in work:
            key = _key(content, asked, encoding)
            if _memo.get(key) is None and _candidates.get(key) is None:
                jobs.append((key, asked))
    for key, asked in jobs:
        content = key[0]
        candidate = _candidate(content, asked, encoding)
        _candidates.put(key, content if candidate is None else candidate)
        if candidate is not None:
            prefetch_count(candidate, encoding, CANDIDATE_PREFETCH_MIN_CHARS)


def tool_texts(content: object, profile: ToolProfile) -> list[str]:
    """The texts of a tool output that compression works on: the content itself, or, if the
    profile opts in, the text of each text part of a content list."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list) and profile.text_parts:
        return text_parts_of(content)
    return []


def text_parts_of(content: object) -> list[str]:
    """The text parts of a content list (none for anything else)."""
    if not isinstance(content, list):
        return []
    return [part["text"] for part in content if is_text_part(part)]


def is_text_part(part: object) -> bool:
    """A ``{"type": "text", "text": "..."}`` content part."""
    return (
        isinstance(part, Mapping)
        and part.get("type") == "text"
        and isinstance(part.get("text"), str)
    )


def _has_work(content: str, profile: ToolProfile) -> bool:
    """Whether compressing ``content`` does more than look at it: JSON to parse and shrink,
    or text the profile opts into line shortening."""
    return (looks_like_json(content) or profile.text_lines) and DIGEST_TAG not in content


def looks_like_json(text: str) -> bool:
    """Malformed JSON (text that opens like JSON but does not parse) is never shortened as
    text, in any mode: a parse failure is a no-op."""
    return text.lstrip()[:1] in ("{", "[")


def _compress_json(text: str, document: Any, asked: Settings, encoding: str) -> str | None:
    minified = minified_json(text)
    if minified is None:
        return None
    profile = asked.profile
    if not count_exceeds(minified, profile.min_tokens, encoding):
        return minified
    shrinker = Shrinker(profile, asked.terms, asked.question, asked.secondary)
    shrunk = shrinker.shrink(document)
    repeats = factored = 0
    if profile.reference_repeats:
        shrunk, repeats = reference_repeats(shrunk)
    # After references (a repeat must still equal its first), and only where an object has
    # a url to derive links from.
    if profile.factor_url_fields and URL_KEY_TEXT in minified:
        shrunk, factored = factor_url_fields(shrunk, question_words(asked.question))
    if profile.factor_null_fields and NULL_TEXT in minified:
        shrunk, listed = factor_null_fields(shrunk, question_words(asked.question))
        factored += listed
    if not shrinker.stats.changed and not repeats and not factored:
        return minified
    compact = dumps_min(shrunk)
    if compact is None:
        return minified
    return f"{compact}\n{digest_line(text)}"


@dataclass(frozen=True)
class Harder:
    """Which tool outputs get their profile's harder form when a request does not fit.

    Either rule looks only at what came before an output (and the output itself), so as a
    chat grows every output keeps the form it was first sent in, and the provider's prompt
    cache keeps its prefix.
    """

    from_tokens: int | None = None  # outputs arriving once the request holds this many tokens
    over: int | None = None  # outputs that would have taken the request past this many tokens

    def applies(self, running: int, output_tokens: int) -> bool:
        late = self.from_tokens is not None and running >= self.from_tokens
        overflowing = self.over is not None and running + output_tokens > self.over
        return late or overflowing


def apply(
    messages: list[Any], ctx: TransformContext, harder: Harder | None = None
) -> tuple[list[Any], TransformResult]:
    """Compress every tool output; with ``harder``, the outputs it picks get the profile's
    harder form (the rolling window asks for that when a request does not fit)."""
    calls = tool_names_by_call_id(messages)
    out = list(messages)
    saved = changed = 0
    left: Counter[str] = Counter()
    running = ctx.tool_tokens + REPLY_PRIMING_TOKENS
    for i, message in enumerate(messages):
        if role_of(message) in TOOL_ROLES and isinstance(message.get("content"), (str, list)):
            chosen = settings(message, i, messages, calls, ctx, False)
            new_message = _compress_message(message, chosen, ctx)
            if harder is not None and harder.applies(running, ctx.tokens_of(new_message)):
                chosen = settings(message, i, messages, calls, ctx, True)
                new_message = _compress_message(message, chosen, ctx)
            if new_message is not message:
                saved += ctx.tokens_of(message) - ctx.tokens_of(new_message)
                out[i] = new_message
                changed += 1
            else:
                left.update(_why_left(message, chosen.profile))
        running += ctx.tokens_of(out[i])
    details = {"left_as_is": dict(sorted(left.items()))} if left else {}
    return out, TransformResult(NAME, saved, changed, details)


def _why_left(message: dict[str, Any], profile: ToolProfile) -> list[str]:
    """Why each text of an unchanged tool output was left as it is (short ones aside), so
    a plan can say why an output it was expected to shrink went out whole."""
    content = message.get("content")
    if isinstance(content, list) and not profile.text_parts:
        long_parts = any(len(text) >= 64 for text in text_parts_of(content))
        return ["text_parts"] if long_parts else []
    reasons = []
    for text in tool_texts(content, profile):
        if len(text) < 64:
            continue
        if split_digest(text)[1]:
            reasons.append("already_compressed")
        elif looks_like_json(text):
            malformed = not is_json_document(parse_json(text))
            reasons.append("malformed_json" if malformed else "not_smaller")
        elif not profile.text_lines:
            reasons.append("plain_text")
        else:
            reasons.append("not_smaller")
    return reasons


def _compress_message(
    message: dict[str, Any], asked: Settings, ctx: TransformContext
) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, list):
        if not asked.profile.text_parts:
            return message
        return _compress_parts(message, content, asked, ctx.info.encoding)
    new_content = _compress_memo(content, asked, ctx.info.encoding)
    if new_content is content or new_content == content:
        return message
    return {**message, "content": new_content}


def _compress_parts(
    message: dict[str, Any], parts: list[Any], asked: Settings, encoding: str
) -> dict[str, Any]:
    """Each text part compressed on its own, every other part and key kept as it is."""
    out: list[Any] = []
    changed = False
    for part in parts:
        if is_text_part(part):
            text = part["text"]
            new_text = _compress_memo(text, asked, encoding)
            if new_text is not text and new_text != text:
                part = {**part, "text": new_text}
                changed = True
        out.append(part)
    return {**message, "content": out} if changed else message


def settings(
    message: dict[str, Any],
    index: int,
    messages: list[Any],
    calls: dict[str, tuple[str, str]],
    ctx: TransformContext,
    harder: bool,
) -> Settings:
    """The profile and question one tool output is compressed under. Output with nothing
    to compress (plain text the profile leaves alone) needs no question: reading it takes
    the user's words and every call's arguments."""
    profile = _profile(message, calls, ctx, harder)
    texts = tool_texts(message.get("content"), profile)
    if not any(_needs_terms(text, profile) for text in texts):
        return Settings(profile, (), "")
    terms = tool_question_terms(messages, index, calls)
    question = user_text_before(messages, index)
    return Settings(profile, terms, question, argument_only_terms(terms, question))


def _profile(
    message: dict[str, Any], calls: dict[str, tuple[str, str]], ctx: TransformContext, harder: bool
) -> ToolProfile:
    profile = ctx.options.profile_for(tool_name_of(message, calls))
    return profile.harder() if harder else profile


def _needs_terms(text: str, profile: ToolProfile) -> bool:
    """Whether compressing ``text`` can keep anything for the question: JSON that parses
    (text that only opens like JSON is left as it is), or text the profile shortens."""
    if len(text) < 64:
        return False
    if looks_like_json(text):
        # Parsing settles it (Headroom's own output never parses). A long text is taken as
        # JSON unparsed: a wrong guess only costs the terms, which are memoised.
        return len(text) > _PARSE_TO_DECIDE_MAX or is_json_document(parse_json(text))
    return profile.text_lines and DIGEST_TAG not in text


_PARSE_TO_DECIDE_MAX = 16_000
# A compressed output is counted in the background from this size: the engine goes on with
# the next output meanwhile, and would otherwise count it at the end, alone.
CANDIDATE_PREFETCH_MIN_CHARS = 4_000
