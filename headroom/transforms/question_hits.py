"""Which texts or array items a user's question singles out: the terms it names (``#49``,
``Moldova``, ``fields.py``) matched at word starts, ranked by how rare they are in the list."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import chain, repeat
from operator import add

from ..questions import KANA_HAN_CHAR
from .part_index import PartIndex
from .signals import first_letter_gate
from .spellings import accent_spellings
from .text_scan import TextScan


def _term_regex(term: str) -> str:
    # Numbers match whole (49 is not 1492, but 2012-05-28 matches 2012-05-28T13:58);
    # words match at a word start (replay matches ReplayData and replays), short hex ids
    # too (5b0224e8 matches 5b0224e868cc...).
    if term.startswith("#") and term[1:].isdigit():
        # "#49": the number as a whole value, a path segment or a "#49" reference ("(#49)",
        # "#49, #50"), not the start of 49.5, 49-b or 49th.
        return rf"(?:(?<=[\s#/])|^){term[1:]}(?![\w-]|\.\d)"
    body = re.escape(term)
    if " " in term:  # a phrase (``phrases``): a whole value, a whole line, nothing less
        return rf"(?<![^\n]){body}(?![^\n])"
    if KANA_HAN_CHAR.match(term):
        left = ""  # Japanese and Chinese words start anywhere (北|マケドニア: no space between)
    elif term[:1].isdigit():
        left = "(?<![0-9])"
    elif term[:1] == "-" and term[1:2].isdigit():
        left = "(?<=[0-9])"  # a day of any year (``data_form_terms``): -03-09 in 2021-03-09
    else:
        left = "(?<![^\\W_])"  # no letter or digit before
    right = "(?![0-9])" if term[-1:].isdigit() and not _short_hex_id(term) else ""
    return f"{left}{body}{right}"


_HEX_ID = re.compile(r"(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,39}")


def _short_hex_id(term: str) -> bool:
    """A commit's short SHA (``5b0224e8``) or a hex id's first characters: it names the
    whole id it begins, whatever digit follows."""
    return _HEX_ID.fullmatch(term) is not None


def term_pattern(terms: Sequence[str], ignore_case: bool = True) -> re.Pattern[str] | None:
    """One regex matching any of ``terms``, case-insensitively (or, for lowercased text and
    lowercase terms, as they are: compiling that costs a quarter as much)."""
    return _term_pattern(terms, ignore_case) if terms else None


def _term_pattern(terms: Sequence[str], ignore_case: bool) -> re.Pattern[str]:
    ordered = sorted(set(terms), key=lambda t: (-len(t), t))
    body = "|".join(_term_regex(t) for t in ordered)
    starts = [_match_start(t) for t in ordered]
    if all(starts):
        body = first_letter_gate(starts) + "(?:" + body + ")"
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


def _canonical(match: str, terms: Sequence[str], spelling_of: Mapping[str, str]) -> str:
    """The term a match counts as: its lowercase form, ``#49`` for a bare 49 the question
    wrote as ``#49``, the term a spelling stands for (``accent_spellings``)."""
    lowered = match.lower()
    if lowered.isdigit() and "#" + lowered in terms and lowered not in terms:
        return "#" + lowered
    return spelling_of.get(lowered, lowered)


def kept_for_terms(n: int) -> int:
    """How many of ``n`` items a question's terms keep, best first, before ties
    (``_with_ties``): compression keeps these in place, and recall brings back as many
    when the question comes later."""
    return min(25, max(5, n // 20))


def question_hits(
    texts: Sequence[str],
    terms: Sequence[str],
    max_keep: int = 25,
    keep_ties: bool = True,
    from_end: bool = False,
    rare_out: set[int] | None = None,
) -> set[int]:
    """Indices of ``texts`` that the question's terms single out (``rare_out``, when given,
    gets those that hold a term at most three texts hold: what the question names most
    surely).

    Terms found in more than half of the texts single nothing out (``capital`` in a list of
    countries) and are ignored. Every text holding a term that at most three texts hold is
    kept; the rest are ranked by the summed rarity (idf) of the terms they hold and the best
    ``max_keep`` are kept (with ``keep_ties``, every text tied with the last one kept when
    that is at most twice as many, or one text in ten), ties otherwise broken by position
    (the last first when ``from_end``: "when was the last ..."): deterministic. A tie cut
    short keeps its other end in place of its last one kept, so the first and the last
    occurrence of what the question names are both there.
    """
    if not terms or not texts:
        return set()
    n = len(texts)
    scan = TextScan(texts)
    spelling_of = accent_spellings(terms, [scan])
    present = [term for term in terms if _singles_out(scan, term, n)]
    present += _spellings_present(spelling_of, present, [scan], lambda t: _singles_out(scan, t, n))
    terms = (*terms, *spelling_of)
    matches = _term_matches(scan, present)
    return _ranked_hits(
        matches, terms, n, max_keep, keep_ties, spelling_of, from_end, rare_out=rare_out
    )


def item_question_hits(
    items: Sequence[Sequence[str]],
    terms: Sequence[str],
    max_keep: int = 25,
    keep_ties: bool = True,
    index: PartIndex | None = None,
    from_end: bool = False,
    secondary: frozenset[str] = frozenset(),
    rare_out: set[int] | None = None,
) -> set[int]:
    """``question_hits`` for items made of text parts (a JSON array item's keys and values),
    each distinct part scanned once; a match lies inside one part. ``index``, when given, is
    ``PartIndex(items)`` built already. ``secondary``: terms that only the tool call's
    arguments give, not the user's words; they order items within what the user's terms
    match, and never split it (``_ranked_hits``)."""
    if not terms or not items:
        return set()
    n = len(items)
    index = PartIndex(items) if index is None else index
    scans = index.scans()
    spelling_of = accent_spellings(terms, [scan for scan, _ in scans])
    present = [term for term in terms if _singles_out_of_items(scans, index, term, n)]
    present += _spellings_present(
        spelling_of,
        present,
        [scan for scan, _ in scans],
        lambda t: _singles_out_of_items(scans, index, t, n),
    )
    terms = (*terms, *spelling_of)
    matches: dict[int, list[str]] = {}
    for scan, first in scans:
        matches.update((first + i, found) for i, found in _term_matches(scan, present).items())
    matches = _without_common(matches, index, terms, n, spelling_of)
    hits = index.gather(matches)
    return _ranked_hits(
        hits, terms, n, max_keep, keep_ties, spelling_of, from_end, secondary, rare_out
    )


def _spellings_present(
    spelling_of: Mapping[str, str],
    present: Sequence[str],
    scans: Sequence[TextScan],
    singles_out: Callable[[str], bool],
) -> list[str]:
    """The other spellings (``accent_spellings``) that single something out, of terms that
    do too or that the texts never hold as a word of their own: ``álbum`` is not looked
    for when ``album`` is a key of every item, ``läti`` is though every item holds
    ``latitude``."""
    if not spelling_of:
        return []
    found = []
    for spelling, term in spelling_of.items():
        usable = term in present or not any(
            _whole_word(term).search(scan.lowered) for scan in scans
        )
        if usable and singles_out(spelling):
            found.append(spelling)
    return found


@functools.lru_cache(maxsize=1024)
def _whole_word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![^\W_]){re.escape(term)}(?![^\W_])")


def _without_common(
    by_part: dict[int, list[str]],
    index: PartIndex,
    terms: Sequence[str],
    n: int,
    spelling_of: Mapping[str, str],
) -> dict[int, list[str]]:
    """``by_part`` without the matches of terms that more than half of the ``n`` items hold
    (``www1`` in every line of www1's log): ``_ranked_hits`` would find them of no use, after
    gathering and scoring them item by item. Counted by distinct part first, exactly only
    when that bound is over half."""
    half = max(n // 2, 1)
    canonical: dict[str, str] = {}
    parts_of: dict[str, list[int]] = {}
    for part, found in by_part.items():
        for match in set(found):
            term = canonical.get(match)
            if term is None:
                term = canonical[match] = _canonical(match, terms, spelling_of)
            parts_of.setdefault(term, []).append(part)
    common = {
        term
        for term, parts in parts_of.items()
        if index.holders_at_most(parts) > half and len(index.items_holding(parts)) > half
    }
    if not common:
        return by_part
    kept = {
        part: [m for m in found if canonical[m] not in common] for part, found in by_part.items()
    }
    return {part: found for part, found in kept.items() if found}


def _term_matches(scan: TextScan, present: Sequence[str]) -> dict[int, list[str]]:
    """For the texts holding one of the ``present`` terms, their matches (possibly none;
    lowercase where the texts could be searched lowercased)."""
    if not present:
        return {}
    starts = [_match_start(t) for t in present]
    if scan.exact and not scan.casefold_specials and all(map(_plain_needle, starts)):
        # lowercase ASCII terms in texts whose lowercase form keeps every position: a
        # case-insensitive match is exactly a plain match in the lowercased text
        return scan.findall(starts, _term_pattern(present, ignore_case=False), True)
    pattern = _term_pattern(present, ignore_case=True)
    holders = _term_holders(scan, present)
    holding = sorted({i for term in present for i in holders[term]})
    return {i: pattern.findall(scan.texts[i]) for i in holding}


def _ranked_hits(
    matches: dict[int, list[str]],
    terms: Sequence[str],
    n: int,
    max_keep: int,
    keep_ties: bool,
    spelling_of: Mapping[str, str],
    from_end: bool = False,
    secondary: frozenset[str] = frozenset(),
    rare_out: set[int] | None = None,
) -> set[int]:
    """The texts to keep out of ``n``, from each text's matches (``question_hits``). Where
    some texts hold the user's own terms (not only ``secondary`` ones), those rank first,
    and ties are counted on the user's terms alone: asked for the "Factory" threads of a
    search for "zookeeper", the 85 Factory events are one answer, those that also say
    ZooKeeper only come first in it."""
    candidates = sorted(matches)
    # Thousands of items share a few match spellings and term sets (every log line's
    # "error"): each spelling is made canonical, and each set scored, once.
    spellings = set(chain.from_iterable(matches.values()))
    canonical = {m: _canonical(m, terms, _NO_SPELLINGS) for m in spellings}
    found = [frozenset(map(canonical.__getitem__, matches[i])) for i in candidates]
    df = Counter(chain.from_iterable(found))
    half = max(n // 2, 1)
    # another spelling weighs as rare as it is, unless its term, counted with all of its
    # spellings, is in more than half of the texts ("álbum" where "album" is a key)
    common = _common_with_spellings(found, spelling_of, half) if spelling_of else set()
    useful = {
        t: math.log(n / c)
        for t, c in df.items()
        if c <= half and spelling_of.get(t, t) not in common
    }
    if not useful:
        return set()
    pairs = list(zip(candidates, found, strict=True))
    kinds = set(found)
    rare = {h for h in kinds if any(df[t] <= 3 and t in useful for t in h)}
    keep = {i for i, hits in pairs if hits in rare}
    if rare_out is not None:
        rare_out.update(keep)
    # fsum: the same score whatever order a set of terms is iterated in (hash seeds differ)
    score = {h: math.fsum(useful.get(t, 0.0) for t in h) for h in kinds}
    own = _own_scores(kinds, useful, spelling_of, secondary) if secondary else None
    order = -1 if from_end else 1
    if own is None:
        scored = [(score[hits], i) for i, hits in pairs]
        ranked = sorted((p for p in scored if p[0] > 0), key=lambda p: (-p[0], order * p[1]))
    else:  # ranked by the user's terms, then by all; ties are on the user's terms (on
        # all of them among the texts holding none of the user's: a negative score)
        held = [(own[hits], score[hits], i) for i, hits in pairs if score[hits] > 0]
        held.sort(key=lambda p: (-p[0], -p[1], order * p[2]))
        ranked = [(o if o > 0 else -s, i) for o, s, i in held]
    cut = _with_ties(ranked, max_keep, n) if keep_ties else max_keep
    kept = ranked[:cut]
    if 1 < cut < len(ranked) and ranked[cut][0] == ranked[cut - 1][0]:
        # a tie cut short keeps its other end in place of its last one kept: the last
        # occurrence of what the question names (or the first, ``from_end``) is there too
        kept[-1] = next(p for p in reversed(ranked) if p[0] == ranked[cut - 1][0])
    keep.update(i for _, i in kept)
    keep.update(_other_ways(ranked[cut:], kept, dict(pairs), useful, max_keep // 2))
    return keep


_NO_SPELLINGS: Mapping[str, str] = {}


def _own_scores(
    kinds: set[frozenset[str]],
    useful: Mapping[str, float],
    spelling_of: Mapping[str, str],
    secondary: frozenset[str],
) -> dict[frozenset[str], float] | None:
    """The score of each set of terms held counting only the user's own terms (not the
    ``secondary`` ones), or None where no text holds one of those."""
    own = {
        h: math.fsum(useful.get(t, 0.0) for t in h if spelling_of.get(t, t) not in secondary)
        for h in kinds
    }
    return own if any(v > 0 for v in own.values()) else None


def _common_with_spellings(
    found: Sequence[frozenset[str]], spelling_of: Mapping[str, str], half: int
) -> set[str]:
    """The terms held, under any of their spellings, by more than ``half`` of the texts."""
    held = Counter(chain.from_iterable({spelling_of.get(t, t) for t in hits} for hits in found))
    return {term for term, count in held.items() if count > half}


def _other_ways(
    rest: list[tuple[float, int]],
    kept: list[tuple[float, int]],
    hits: dict[int, frozenset[str]],
    useful: dict[str, float],
    most: int,
) -> list[int]:
    """Beyond the best-ranked, the best item of each other combination of question terms
    (up to ``most``): many copies of a well-matching line must not crowd out the one line
    that names the question differently ("how much memory did the MemoryStore start with"
    among dozens of "successfully started service" lines)."""
    seen = {frozenset(t for t in hits[i] if t in useful) for _, i in kept}
    extra: list[int] = []
    for _, i in rest:
        if len(extra) >= most:
            break
        way = frozenset(t for t in hits[i] if t in useful)
        if way not in seen:
            seen.add(way)
            extra.append(i)
    return extra


def _with_ties(ranked: list[tuple[float, int]], max_keep: int, n: int) -> int:
    """How many of ``ranked`` (out of ``n`` texts) to keep: ``max_keep``, or every item tied
    with the last one kept when that is at most twice as many or one in ten of the ``n``.
    Items holding the same question terms are one answer ("which clients hit this error":
    all 32 of them), not a cut to make by position."""
    if max_keep <= 0 or len(ranked) <= max_keep:
        return max_keep
    last = ranked[max_keep - 1][0]
    end = max_keep
    while end < len(ranked) and ranked[end][0] == last:
        end += 1
    return end if end <= max(2 * max_keep, n // 10) else max_keep


def _singles_out(scan: TextScan, term: str, n: int) -> bool:
    """Whether some text holds ``term`` (lowercase, a ``#49`` reference as ``49``) and it is
    not in nearly every text: a word in 90% of the texts even as a substring cannot single
    anything out; numbers and #refs match more strictly than as substrings, so they always
    stay. Counting occurrences (one C call) settles it unless they exceed 90% of the texts."""
    anchor = term[1:] if term.startswith("#") else term
    dense_ok = n < 4 or any(c.isdigit() for c in anchor)
    if scan.exact and anchor and "\n" not in anchor:
        occurrences = scan.lowered.count(anchor)
        if occurrences == 0:
            return False
        if dense_ok or occurrences <= 0.9 * n:
            return True  # holders <= occurrences
        return scan.count_holders(anchor) <= 0.9 * n
    held = len(_term_holders(scan, [term])[term])
    return held > 0 and (held <= 0.9 * n or dense_ok)


def _singles_out_of_items(
    scans: list[tuple[TextScan, int]], index: PartIndex, term: str, n: int
) -> bool:
    """``_singles_out`` for ``n`` items whose distinct parts ``scans`` hold."""
    anchor = term[1:] if term.startswith("#") else term
    dense_ok = n < 4 or any(c.isdigit() for c in anchor)
    part_holders: list[int] = []
    for scan, first in scans:
        if scan.exact and anchor and "\n" not in anchor:
            if anchor not in scan.lowered:
                continue
            if dense_ok:
                return True
            found = scan.holders(anchor)
        else:
            found = _term_holders(scan, [term])[term]
        part_holders.extend(map(add, found, repeat(first)) if first else found)
    if not part_holders:
        return False
    if dense_ok or index.holders_at_most(part_holders) <= 0.9 * n:
        return True  # holders <= occurrences: mapping parts to items can be skipped
    return len(index.items_holding(part_holders)) <= 0.9 * n


def _match_start(term: str) -> str:
    """What a match of ``term``'s regex starts with (``#49`` matches as ``49``)."""
    return term[1:] if term.startswith("#") and term[1:].isdigit() else term


def _plain_needle(needle: str) -> bool:
    """Lowercase ASCII without a newline: then (with no ``CASEFOLD_SPECIALS`` in the texts)
    a case-insensitive match of it shows as the needle itself in the lowercased text."""
    return bool(needle) and needle.isascii() and needle == needle.lower() and "\n" not in needle


def _term_holders(scan: TextScan, terms: Sequence[str]) -> dict[str, list[int]]:
    """For each term, the indices of the texts whose lowercase form contains it (a ``#49``
    reference as ``49``)."""
    needles = {term: term[1:] if term.startswith("#") else term for term in terms}
    texts = scan.texts
    if scan.exact and not any("\n" in needle for needle in needles.values()):
        return {term: scan.holders(needle) for term, needle in needles.items()}
    lowered = [text.lower() for text in texts]
    return {
        term: [i for i, low in enumerate(lowered) if needle in low]
        for term, needle in needles.items()
    }
