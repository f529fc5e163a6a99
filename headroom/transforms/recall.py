"""Recall: when a later question names something an earlier compressed tool output left out,
bring those parts back, right after the question.

Compression keeps the question's items as seen when the tool answered; a user who later asks
"back to the first list: what about issue #63?" needs items it dropped. Rewriting the old tool
message would bust the provider's prompt cache, so the parts come back instead as a repeated
call of the same tool, inserted right after the user message that asks: a well-formed tool
call unit, in the tool role (tool output is never promoted to system or user authority), that
depends only on messages up to that question, so the prefix stays stable as the chat grows.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, NamedTuple, TypeVar, cast

from ..conversation import role_of, text_of, tool_name_of, tool_names_by_call_id
from ..options import ToolProfile
from ..plan import TransformResult
from ..questions import compound_terms, identifier_terms
from ..relative_days import relative_terms_at
from .asked_groups import asked_group
from .base import TransformContext
from .empty_fields import held_fields, lacked_fields, sometimes_empty_keys
from .flags import boolean_keys, name_words, question_words
from .json_compress import (
    Shrinker,
    dumps_min,
    is_json_document,
    list_index,
    list_parts,
    numeric_columns,
    parse_json,
)
from .json_null_fields import NULL_FIELDS_KEY, expand_null_fields, factor_null_fields
from .json_references import SAME_AS_KEY, expand_references
from .json_url_fields import URL_FIELDS_KEY, expand_url_fields, factor_url_fields
from .named_values import (
    asked_group_most,
    asked_items,
    named_items,
    named_values,
    question_spans,
    spelt_values,
)
from .neighbours import neighbour_reach, neighbours
from .part_index import PartIndex
from .question_hits import item_question_hits, kept_for_terms, question_hits
from .rankings import asked_end, asks_for_the_last, ranked_indices, ranking
from .spellings import AccentedWords, LoweredText, accent_spellings
from .thresholds import comparisons, date_comparisons
from .tool_output import is_text_part, looks_like_json, split_digest

NAME = "recall"
RECALL_ID_PREFIX = "call_headroom_recall_"
# Items or lines recalled from one tool output for what the question names, besides the
# items its terms match (as many as compression keeps for them) and the groups it asks for.
MAX_PARTS = 5
# Items recalled for a group the question asks for ("which of them are in Africa?"): as many
# as compression keeps for it (``asked_group_most``), and at least this many.
MAX_GROUP_PARTS = 64
MAX_UNITS = 3  # recall units after one question
# The recall units after one question take what the request up to it leaves of its budget
# (window - output buffer), and where that is less, at most this share of the budget: they
# sit in the last turns, which the window never drops, so a group of thousands must not
# crowd out the rest of the chat or fail the request.
RECALL_BUDGET_SHARE = 4
_ITEM_PROFILE = ToolProfile(max_array_items=3, max_string_length=2000, shorten_arrays_over=20)
_MIN_ARRAY = 9


def is_recall_message(message: object) -> bool:
    """True for the messages this transform inserts (both halves of the unit)."""
    if not isinstance(message, dict):
        return False
    if role_of(message) == "tool":
        call_id = message.get("tool_call_id")
        return isinstance(call_id, str) and call_id.startswith(RECALL_ID_PREFIX)
    if role_of(message) == "assistant":
        calls = message.get("tool_calls")
        return isinstance(calls, list) and any(
            isinstance(c, dict) and str(c.get("id", "")).startswith(RECALL_ID_PREFIX) for c in calls
        )
    return False


_V = TypeVar("_V")
_MISSING = object()


class _Memo(Generic[_V]):
    def __init__(self, max_entries: int = 4096) -> None:
        self._data: OrderedDict[tuple[str, str, tuple[str, ...]], _V] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get_or_compute(
        self, key: tuple[str, str, tuple[str, ...]], compute: Callable[[], _V]
    ) -> _V:
        with self._lock:  # one lookup and one move: keys hold whole tool outputs to compare
            found = self._data.get(key, _MISSING)
            if found is not _MISSING:
                self._data.move_to_end(key)
                return cast(_V, found)
        value = compute()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._max:
                self._data.popitem(last=False)
        return value


_memo: _Memo[Missing] = _Memo()


@dataclass(frozen=True)
class RecallTerms:
    """What a later question names: its identifier terms (without the parts of a compound
    term found whole, see ``recall_terms``) and its word spans (``question_spans``)."""

    question: str
    terms: tuple[str, ...]
    spans: frozenset[str]


def recall_terms(
    question: str,
    originals: Sequence[str],
    lowered: Callable[[str], str],
    days: tuple[str, ...] = (),
) -> RecallTerms:
    """The terms ``question`` names in ``originals`` (the tool outputs before it), after
    ``days``, the dates of the days it names relative to today. Where a compound term is
    found whole (``2012-07-03T07:50:18Z``), its parts (``07``, ``50``) are not meant: an
    item that merely holds them, in any of the outputs, is not recalled."""
    terms = identifier_terms(question)
    if days:
        terms = tuple(dict.fromkeys((*days, *terms)))
    compounds = compound_terms(question)
    if compounds:
        found = {w for w in compounds if any(w in lowered(o) for o in originals)}
        meant = {p for w in found for p in compounds[w]} - compounds.keys()
        terms = tuple(t for t in terms if t not in meant)
    return RecallTerms(question, terms, question_spans(question))


class Missing(NamedTuple):
    """The parts of an output a question asks for that its compressed form does not show,
    and how many of the first of them it names plainly (a value spelt out, a term of at
    most three items, a ranking, a group, an end): the rest only share its terms."""

    parts: list[str]
    plain: int


_NOTHING = Missing([], 0)


def missing_parts(
    original: str,
    compressed: str,
    asked: RecallTerms,
    spans: frozenset[str],
    latest: bool = False,
) -> Missing:
    """The parts of ``original`` that the question singles out and ``compressed`` does not
    show. ``spans``: those of the question's spans that are values in ``original``
    (``_RequestOutputs.named``). The ``latest`` output before the question is also the one
    a ranking that names no column asks about ("and the 3 newest ones?")."""
    ranks = latest and ranking(asked.question) is not None
    if original == compressed:
        return _NOTHING
    group = _may_ask_group(asked.question, original)  # "from 2023": a term, a common one
    if not (spans or asked.terms or ranks or group):
        return _NOTHING
    return _memo.get_or_compute(
        (original, compressed, (asked.question, "latest" if ranks else "", *asked.terms)),
        lambda: _missing_if_named(original, compressed, asked, spans, ranks, group),
    )


def _may_ask_group(question: str, original: str) -> bool:
    """Whether ``question`` may ask for a group of the output's items that no term or value
    of it names: past a threshold, lacking a field, holding one that some items lack, by a
    yes/no field of the output."""
    if comparisons(question) or date_comparisons(question) or lacked_fields(question):
        return True
    held = held_fields(question)
    if held and not held.isdisjoint(_output(original).sparse_words):
        return True
    words = question_words(question)
    return bool(words) and not words.isdisjoint(_output(original).flag_words)


def _missing_if_named(
    original: str,
    compressed: str,
    asked: RecallTerms,
    spans: frozenset[str],
    ranks: bool,
    group: bool = False,
) -> Missing:
    """``missing_parts``, parsing ``original`` only when the question may name a part of it:
    it spells out a value (or a key) whole, one of its identifier terms is there, or it may
    ask for a group (``_may_ask_group``)."""
    if not (spans or ranks or group) and not _may_mention(_output(original), asked.terms):
        return _NOTHING
    return _missing_parts(original, compressed, asked, spans, ranks)


class _Output:
    """What recall reads of one tool output's original text, each part made when first
    wanted: its lowercased text, its long lists and, per question, the question's spans that
    are values in them (an agent loop asks the same question of it every request)."""

    def __init__(self, original: str) -> None:
        self.original = original
        self._lowered: str | None = None
        self._accented_words: AccentedWords | None = None
        self._arrays: list[list[Any]] | None = None
        self._named: OrderedDict[frozenset[str], frozenset[str]] = OrderedDict()
        self._flag_words: frozenset[str] | None = None
        self._sparse_words: frozenset[str] | None = None
        self._lock = threading.Lock()

    @property
    def lowered(self) -> str:
        if self._lowered is None:
            self._lowered = self.original.lower()
        return self._lowered

    @property
    def accented_words(self) -> AccentedWords:
        if self._accented_words is None:
            self._accented_words = AccentedWords([self.original])
        return self._accented_words

    def spelling_sources(self) -> Sequence[LoweredText]:
        """Where ``accent_spellings`` looks for the words a plain term may stand for: the
        scans of the long lists (built when the output was compressed, accented words
        found once there), or, for text, the whole output."""
        if not looks_like_json(self.original):
            return [self]
        return [scan for items in self.arrays for scan, _ in list_index(items).scans()]

    @property
    def arrays(self) -> list[list[Any]]:
        if self._arrays is None:
            document = parse_json(self.original)
            self._arrays = _long_arrays(document) if is_json_document(document) else []
        return self._arrays

    @property
    def flag_words(self) -> frozenset[str]:
        """The words of the names of the yes/no fields of the long lists (``landlocked``,
        ``un``, ``member``, ``unmember``): a question without one asks none of them."""
        if self._flag_words is None:
            self._flag_words = self._key_words(boolean_keys)
        return self._flag_words

    @property
    def sparse_words(self) -> frozenset[str]:
        """The words of the names of the fields some items of the long lists lack (``Fax``):
        a question asking for the items that have none of them asks no group of holders."""
        if self._sparse_words is None:
            self._sparse_words = self._key_words(sometimes_empty_keys)
        return self._sparse_words

    def _key_words(self, keys: Callable[[Sequence[Any]], Iterable[str]]) -> frozenset[str]:
        """The words of the names ``keys`` picks among the fields of each long list (read
        off its first items), each name also joined as one word."""
        words: set[str] = set()
        for items in self.arrays:
            for key in keys(items[:_SCHEMA_ITEMS]):
                name = name_words(key)
                words.update(name)
                words.add("".join(name))
        return frozenset(words)

    def named(self, spans: frozenset[str]) -> frozenset[str]:
        """The ``spans`` that are values in the long lists."""
        with self._lock:
            found = self._named.get(spans)
        if found is None:
            found = frozenset().union(
                *(named_values(list_index(items), spans) for items in self.arrays)
            )
            with self._lock:
                self._named[spans] = found
                if len(self._named) > _QUESTIONS_PER_OUTPUT:
                    self._named.popitem(last=False)
        return found


_QUESTIONS_PER_OUTPUT = 64
_SCHEMA_ITEMS = 50  # the fields of a list are read off its first items


# Tool outputs by original text: a request looks each up once (``_RequestOutputs``), and a new
# question about a long chat does not walk every output again. As many as the parse memo.
_outputs: _Memo[_Output] = _Memo(max_entries=32)


class _RequestOutputs:
    """The tool outputs of one request as recall reads them (``_Output``): each looked up by
    content once per request, not once per question, and a new question checked against
    their values before anything is parsed."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[str, _Output]] = {}

    def output(self, original: str) -> _Output:
        seen = self._by_id.get(id(original))
        if seen is None or seen[0] is not original:
            found = _output(original)
            seen = self._by_id[id(original)] = (original, found)
        return seen[1]

    def named(self, original: str, spans: frozenset[str]) -> frozenset[str]:
        """The ``spans`` that are values in ``original``."""
        if not spans or not looks_like_json(original):
            return frozenset()
        return self.output(original).named(spans)

    def lowered(self, original: str) -> str:
        """``original`` lowercased."""
        return self.output(original).lowered


def _output(original: str) -> _Output:
    return _outputs.get_or_compute((original, "", ()), lambda: _Output(original))


# A term found at most this often in a text may single out some of its lines; one not found
# at all cannot. Either way the text need not be parsed (the warm path of an agent loop).
_MAX_OCCURRENCES = 24


def _may_mention(output: _Output, terms: tuple[str, ...]) -> bool:
    """Whether a term, or else another spelling of one (``accent_spellings``), is there: in
    text, no more often than the lines it could single out; in JSON with long lists, at all
    (how many items hold it, as compression counts them, decides: "LearnerHandler" is in
    31 threads' names and in their messages, "public_gists" many times in a few patches)."""
    lowered = output.lowered
    counts = [_occurrences(lowered, needle) for needle in _needles(terms)]
    if any(0 < c <= _MAX_OCCURRENCES for c in counts):
        return True
    spellings = accent_spellings(terms, output.spelling_sources())
    counts += [_occurrences(lowered, needle) for needle in spellings]
    if any(0 < c <= _MAX_OCCURRENCES for c in counts):
        return True
    return any(counts) and looks_like_json(output.original) and bool(output.arrays)


def _needles(terms: Sequence[str]) -> list[str]:
    return [term[1:] if term.startswith("#") else term for term in terms]


def _occurrences(lowered: str, needle: str) -> int:
    """How often ``needle`` occurs in ``lowered``; a number only where it is not part of a
    longer one (``63`` is not in ``11503763``: a list three times as long must not hide
    issue #63 behind the ids that happen to contain it). A number is counted only up to
    ``_MAX_OCCURRENCES + 1``: past that, how far past does not matter."""
    count = lowered.count(needle)
    if count <= _MAX_OCCURRENCES or not needle.isdigit():
        return count
    whole = re.finditer(rf"(?<![0-9]){needle}(?![0-9])", lowered)
    return sum(1 for _ in islice(whole, _MAX_OCCURRENCES + 1))


def _missing_parts(
    original: str, compressed: str, asked: RecallTerms, spans: frozenset[str], ranks: bool
) -> Missing:
    document = parse_json(original)
    if is_json_document(document):
        named = _asked_of.get_or_compute(
            (original, "latest" if ranks else "", (asked.question, *asked.terms, *sorted(spans))),
            lambda: _asked_items(_output(original).arrays, asked, spans, ranks),
        )
        return _json_parts(named, compressed, asked.terms)
    lines = original.split("\n")
    if len(lines) < _MIN_ARRAY:
        return _NOTHING
    rare: set[int] = set()
    hits = question_hits(lines, asked.terms, kept_for_terms(len(lines)), rare_out=rare)
    order = [*sorted(rare), *sorted(hits - rare)]
    shown = [i for i in order if lines[i] not in compressed]
    return Missing([lines[i] for i in shown], sum(1 for i in shown if i in rare))


@functools.lru_cache(maxsize=16)  # a new question of an agent loop asks of the same outputs
def _visible_json(compressed: str) -> tuple[str, bool]:
    """(what the compressed output shows, with repeated objects, link fields and null fields
    written out again, whether its keys are sorted), so an item that is there but refers to
    an earlier copy of its ``user``, names its links' template or lists its null fields,
    counts as shown. Those fields come back in another order: with them, objects compare
    with their keys sorted."""
    body = split_digest(compressed)[0]
    if SAME_AS_KEY not in body and URL_FIELDS_KEY not in body and NULL_FIELDS_KEY not in body:
        return compressed, False
    document = parse_json(body)
    if not is_json_document(document):
        return compressed, False
    if URL_FIELDS_KEY not in body and NULL_FIELDS_KEY not in body:
        return dumps_min(expand_references(document)) or compressed, False
    written = expand_null_fields(expand_url_fields(expand_references(document)))
    shown = dumps_min(written, True)
    return (compressed, False) if shown is None else (shown, True)


class _AskedItems(NamedTuple):
    """The items of an output's lists a question asks for, those it names plainly first
    (the first ``plain``), and how many of them to bring back at most."""

    items: list[Any]
    plain: int
    most: int


def _asked_items(
    arrays: list[list[Any]], asked: RecallTerms, spans: frozenset[str], any_column: bool
) -> _AskedItems:
    """The items of ``arrays`` the question asks for. It does not depend on how the output
    was compressed: the rolling window's harder passes over a long chat reuse it."""
    terms = asked.terms
    ranks = ranking(asked.question)
    reach = neighbour_reach(asked.question)
    end = asked_end(asked.question)
    most = MAX_PARTS if ranks is None else max(MAX_PARTS, ranks.count)  # "the 10 largest"
    named: list[Any] = []
    rest: list[Any] = []  # the items that only share the question's terms, after the others
    for items in arrays:
        index = list_index(items)
        # a term inside a value the question spells out whole names nothing else: asked
        # about "Black Hole Sun", the track "Black" is not asked about
        covered = "\n".join(spelt_values(index, spans)).lower()
        own = tuple(t for t in terms if t not in covered) if covered else terms
        # the items its terms match, as many as compression keeps for them in place
        keep = kept_for_terms(len(items))
        rare: set[int] = set()
        parts = [p[0] for p in list_parts(items)]
        hits = item_question_hits(parts, own, keep, index=index, rare_out=rare)
        spelt = named_items(index, spans)
        hits |= spelt
        rare |= spelt
        first: set[int] = set()  # what the question asks most plainly, before other hits
        if ranks is not None:  # "the 5 largest by size": of a column the question names
            columns = numeric_columns(items)
            first = ranked_indices(items, columns, ranks, named_only=not any_column)
        if reach and (spelt or hits):  # "what came right after it?": of the item it spells out
            first |= neighbours(spelt or hits, reach, len(items))
        ends: set[int] = set()
        if end is not None and not first:  # "when was the last ...?" (unless a ranking by
            # date answers "the latest 3"): of many alike, the one at that end, on top
            ends = _end_items(index, own, spans, end == "last")
            most += len(ends)
        group = asked_items(index, spans)
        group |= asked_group(items, asked.question, functools.partial(numeric_columns, items))
        if group:  # "which of them are landlocked?": the group, as compression would keep it
            first |= group
            cap = max(MAX_GROUP_PARTS, asked_group_most(len(items)) + MAX_PARTS)
            most = max(most, min(len(first) + MAX_PARTS, cap))
        named.extend(items[i] for i in sorted(ends))
        first -= ends
        named.extend(items[i] for i in sorted(first))
        matched = hits - first - ends
        named.extend(items[i] for i in sorted(matched & rare))
        rest.extend(items[i] for i in sorted(matched - rare))
        most += max(0, len(matched) - MAX_PARTS)
    return _AskedItems([*named, *rest], len(named), most)


# The items a question asks for, by (original, "latest" or "", (question, terms, spans)).
_asked_of: _Memo[_AskedItems] = _Memo(max_entries=256)


def _json_parts(asked: _AskedItems, compressed: str, terms: Sequence[str]) -> Missing:
    """The items asked for (at most ``most``) that ``compressed`` does not show, each as
    minified JSON (an item too long to send whole, shortened)."""
    named, most = asked.items, asked.most
    if not named:
        return _NOTHING
    shown, sort_keys = _visible_json(compressed)  # only now: writing out costs a pass
    parts: list[str] = []
    plain = 0
    for at, item in enumerate(named):
        text = dumps_min(item)
        seen = dumps_min(item, True) if sort_keys else text
        if text is None or seen is None or seen in shown:
            continue
        if len(text) > 8000:
            text = dumps_min(Shrinker(_ITEM_PROFILE, terms).shrink(item, 0, True))
        if text and text not in parts:
            parts.append(text)
            plain += at < asked.plain
        if len(parts) >= most:
            break
    return Missing(parts, plain)


def _end_items(
    index: PartIndex, terms: Sequence[str], spans: frozenset[str], last: bool
) -> set[int]:
    """The last (or first) of the items the question's terms match best, and of the items
    holding each value it spells out: asked for "the last 'Send worker leaving thread'", one
    of 141 alike."""
    found = item_question_hits(
        index.items, terms, max_keep=1, keep_ties=False, index=index, from_end=last
    )
    for value in spelt_values(index, spans):
        holders = index.items_holding_texts({value})
        if 0 < len(holders) <= len(index.items) // 2:  # not a key every item has
            found.add(max(holders) if last else min(holders))
    return found


def _long_arrays(value: Any, depth: int = 0) -> list[list[Any]]:
    found: list[list[Any]] = []
    if depth > 8:
        return found
    if isinstance(value, list):
        if len(value) >= _MIN_ARRAY:  # its items are recalled whole: not the lists inside them
            found.append(value)
            return found
        for item in value:
            if isinstance(item, (dict, list)):
                found.extend(_long_arrays(item, depth + 1))
    elif isinstance(value, dict):
        for inner in value.values():
            if isinstance(inner, (dict, list)):
                found.extend(_long_arrays(inner, depth + 1))
    return found


def apply(
    aligned: list[Any], compressed: list[Any], ctx: TransformContext
) -> tuple[list[Any], TransformResult]:
    """Insert a recall unit after each user message whose question names parts that earlier
    compressed tool outputs left out. ``compressed`` has the same positions as ``aligned``."""
    calls = tool_names_by_call_id(aligned)
    outputs = _RequestOutputs()
    out: list[Any] = []
    added = units = 0
    cut_before = False  # whether a tool output before this message was compressed
    for index, message in enumerate(compressed):
        out.append(message)
        if not cut_before:
            cut_before = role_of(message) == "tool" and message is not aligned[index]
            continue
        if role_of(message) != "user":
            continue
        question = text_of(message.get("content"))
        if not question:
            continue
        earlier = [
            (at, aligned[at], texts)
            for at in range(index)
            if role_of(aligned[at]) == "tool" and aligned[at] is not compressed[at]
            for texts in [_compressed_texts(aligned[at], compressed[at])]
            if texts
        ]
        originals = [o for _, _, texts in earlier for o, _ in texts]
        days = relative_terms_at(aligned, index, question)
        asked = recall_terms(question, originals, outputs.lowered, days)
        # "the latest ...": of the outputs that hold some, the last ones are asked about
        recent_first = asks_for_the_last(question)
        candidates: list[tuple[int, dict[str, Any], list[str], bool]] = []
        for at, before, texts in reversed(earlier) if recent_first else earlier:
            latest = at == earlier[-1][0]
            found = [
                missing_parts(original, shown, asked, outputs.named(original, asked.spans), latest)
                for original, shown in texts
            ]
            parts = [p for missing in found for p in missing.parts]
            if parts:
                candidates.append((at, before, parts, any(m.plain for m in found)))
        # the outputs holding what the question names plainly first: an output whose items
        # only share its terms ("2012" in every date) must not take another's place
        candidates.sort(key=lambda c: not c[3])
        chosen: list[tuple[int, list[dict[str, Any]]]] = []
        room = _recall_room(out, ctx) if candidates else 0
        for at, before, parts, _ in candidates:
            profile = ctx.options.profile_for(tool_name_of(before, calls))
            factors = (profile.factor_url_fields, profile.factor_null_fields)
            unit = _fitted_unit(
                _UnitSource(before, calls, index, at, question, factors), parts, room, ctx
            )
            if unit is None:
                continue
            room -= sum(map(ctx.tokens_of, unit))
            chosen.append((at, unit))
            if len(chosen) >= MAX_UNITS:
                break
        for _, unit in sorted(chosen, key=lambda c: c[0]):  # in the order of the chat
            out.extend(unit)
            added += sum(map(ctx.tokens_of, unit))
            units += 1
    return out, TransformResult(NAME, -added, 2 * units, {"recalled_units": units})


def _recall_room(before: list[Any], ctx: TransformContext) -> int:
    """The tokens a question's recall units may take: what the messages ``before`` them
    (the question included) leave of the budget, and at least ``RECALL_BUDGET_SHARE`` of
    it. It depends only on what came before: the chat's prefix stays stable."""
    left = ctx.budget - ctx.tool_tokens - ctx.messages_tokens(before)
    return max(left, ctx.budget // RECALL_BUDGET_SHARE)


@functools.lru_cache(maxsize=256)
def _recall_body(
    parts: tuple[str, ...], asked_words: frozenset[str], factors: tuple[bool, bool]
) -> str:
    """The parts as one JSON list when each is JSON, with their link fields and null fields
    factored (as ``factors`` say) for a question of ``asked_words``; as lines otherwise.
    Memoized: an agent loop sends the same recall units with every request."""
    if all(p[:1] in "{[" for p in parts):
        with contextlib.suppress(ValueError):  # lines that merely look like JSON stay lines
            items: Any = [json.loads(p) for p in parts]
            links, nulls = factors
            if links:
                items, _ = factor_url_fields(items, asked_words)
            if nulls:
                items, _ = factor_null_fields(items, asked_words)
            return json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return "\n".join(parts)


def _compressed_texts(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str]]:
    """(original, as sent) for each text of a tool output that compression changed: the
    content, or each text part of a content list."""
    original, shown = before.get("content"), after.get("content")
    if isinstance(original, str) and isinstance(shown, str):
        return [(original, shown)]
    if not isinstance(original, list) or not isinstance(shown, list):
        return []
    if len(original) != len(shown):
        return []
    return [
        (a["text"], b["text"])
        for a, b in zip(original, shown, strict=True)
        if a is not b and is_text_part(a) and is_text_part(b)
    ]


@dataclass(frozen=True)
class _UnitSource:
    """Where a recall unit's parts come from: the tool message, the chat's calls by id, the
    question's position and the output's, the question, and whether the tool's profile
    factors link fields and null fields."""

    tool_message: dict[str, Any]
    calls: dict[str, tuple[str, str]]
    question_index: int
    source_index: int
    question: str
    factors: tuple[bool, bool]


def _fitted_unit(
    source: _UnitSource, parts: Sequence[str], room: int, ctx: TransformContext
) -> list[dict[str, Any]] | None:
    """``_recall_unit`` of ``parts``, or of as many of the first of them as fit in ``room``
    tokens (the header says how many more there were); None when not even one fits."""
    unit = _recall_unit(source, parts)
    cost = sum(map(ctx.tokens_of, unit))
    kept = len(parts)
    while cost > room:
        if kept <= 1 or room <= 0:
            return None
        kept = max(1, min(kept - 1, kept * room // cost))  # in proportion, then closer
        unit = _recall_unit(source, parts[:kept], len(parts) - kept)
        cost = sum(map(ctx.tokens_of, unit))
    return unit


def _recall_unit(
    source: _UnitSource, parts: Sequence[str], left_out: int = 0
) -> list[dict[str, Any]]:
    """The assistant call and tool result that bring ``parts`` back; JSON items with their
    link fields factored as compression does, for the source's question (None: not at
    all). ``left_out``: how many more matched than fit in the request's budget."""
    tool_message, calls = source.tool_message, source.calls
    question_index, source_index = source.question_index, source.source_index
    call_id = tool_message.get("tool_call_id")
    name, arguments = calls.get(call_id, ("", "{}")) if isinstance(call_id, str) else ("", "{}")
    name = (
        name
        or (tool_message.get("name") if isinstance(tool_message.get("name"), str) else "")
        or "recall"
    )
    seed = f"{question_index}:{source_index}:{call_id}:{len(parts)}"
    new_id = RECALL_ID_PREFIX + hashlib.sha256(seed.encode()).hexdigest()[:12]
    more = f"; {left_out} more match, left out to keep the request in budget" if left_out else ""
    header = (
        f"[headroom: parts of an earlier {name} result (call {call_id}) that match the "
        f"question above and were left out of it{more}]"
    )
    body = _recall_body(tuple(parts), question_words(source.question), source.factors)
    return [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": new_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments or "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": new_id, "content": f"{header}\n{body}"},
    ]
