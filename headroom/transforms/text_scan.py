"""Many short texts searched as one: joined and lowercased once, scanned with ``str.find``.

Per-text loops (``anchor in text.lower()`` for every text and every anchor, a regex per text)
cost microseconds of Python per text; a C-level ``find`` over the joined text, with each hit
mapped back to its text by bisection, costs a few nanoseconds per character. Every answer is
exactly what the per-text form gives; ``exact`` is False for the rare texts whose lowercase
form has another length (``"İ".lower()`` is two characters), and callers then take the
per-text form.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate, compress, count, islice, repeat
from operator import add, contains

from .spellings import AccentedWords

# Characters that IGNORECASE regexes match to an ASCII letter although they are not one (and
# whose lowercase form is not that letter): with them present, a regex match need not show up
# as its literal in the lowercased text.
CASEFOLD_SPECIALS = ("\u0130", "\u0131", "\u017f", "\u212a")
_MANY_HITS = 64  # more hits than this: test each text instead of finding each hit
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class TextScan:
    """Texts joined by ``"\\n"`` and lowercased once, for needles that hold no newline."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts
        self.joined = "\n".join(texts)
        self.lowered = self.joined.lower()
        self.exact = len(self.lowered) == len(self.joined)
        self.starts = list(accumulate(map(add, map(len, texts), repeat(1)), initial=0))
        self._casefold_specials: bool | None = None
        self._lowered_texts: list[str] | None = None
        self._accented_words: AccentedWords | None = None

    @property
    def casefold_specials(self) -> bool:
        """Whether any text holds a character in ``CASEFOLD_SPECIALS``."""
        if self._casefold_specials is None:
            self._casefold_specials = any(c in self.joined for c in CASEFOLD_SPECIALS)
        return self._casefold_specials

    @property
    def accented_words(self) -> AccentedWords:
        """The accented words of the texts, for ``spellings.accent_spellings``."""
        if self._accented_words is None:
            self._accented_words = AccentedWords(self.texts)
        return self._accented_words

    @property
    def lowered_texts(self) -> list[str]:
        """Each text's lowercase form (slices of ``lowered``; requires ``exact``)."""
        if self._lowered_texts is None:
            low, starts = self.lowered, self.starts
            self._lowered_texts = [
                low[starts[i] : starts[i + 1] - 1] for i in range(len(self.texts))
            ]
        return self._lowered_texts

    def count_holders(self, needle: str) -> int:
        """How many texts' lowercase form contains ``needle`` (no newline; requires
        ``exact``): one ``in`` test per text, cheaper than a find per hit when most hold it."""
        return len([1 for low in self.lowered_texts if needle in low])

    def holding_any(self, characters: Iterable[str]) -> set[int]:
        """Indices of the texts that hold any of ``characters`` (each one character)."""
        found: set[int] = set()
        joined, text_at = self.joined, self.text_at
        for character in characters:
            at = joined.find(character)
            while at >= 0:
                found.add(text_at(at))
                at = joined.find(character, at + 1)
        return found

    def text_at(self, position: int) -> int:
        return bisect_right(self.starts, position) - 1

    def holders(self, needle: str) -> list[int]:
        """Indices of the texts whose lowercase form contains ``needle``, ascending. Once a
        needle has been found in many texts (``github`` in every URL), the texts after are
        tested one by one at C level instead of found and bisected hit by hit."""
        found: list[int] = []
        low, starts, text_at = self.lowered, self.starts, self.text_at
        at = low.find(needle)
        while at >= 0:
            index = text_at(at)
            found.append(index)
            if len(found) > _MANY_HITS and self.exact:
                found.extend(self._holding_after(index, needle))
                return found
            at = low.find(needle, starts[index + 1])
        return found

    def _holding_after(self, index: int, needle: str) -> Iterable[int]:
        """Indices after ``index`` of the texts whose lowercase form contains ``needle``."""
        after = islice(self.lowered_texts, index + 1, None)
        return compress(count(index + 1), map(contains, after, repeat(needle)))

    def pattern_holders(self, words: Iterable[str], pattern: re.Pattern[str]) -> set[int]:
        """Indices of the texts ``pattern`` matches in, for a pattern whose every match
        starts, after a ``(?<![A-Za-z])`` lookbehind, with one of ``words`` (lowercase).

        Only the places where a word occurs after a non-letter are tried, each with
        ``pattern.match``; a text with many such places is searched whole from there on, so
        no text costs more than one regex search over it; a word found in many texts has
        each text that holds it searched whole at once. Requires ``exact`` and no
        ``casefold_specials`` (then every match starts with a word in the lowercased text).
        """
        found: set[int] = set()
        low, joined, starts, text_at = self.lowered, self.joined, self.starts, self.text_at
        letters = _ASCII_LETTERS
        for word in words:
            at = low.find(word)
            current = tries = -1
            hits = 0
            while at >= 0:
                hits += 1
                if hits > _MANY_HITS:  # this text and those after: each searched once, whole
                    for later in self._holding_after(text_at(at) - 1, word):
                        end = starts[later + 1] - 1
                        if later not in found and pattern.search(joined, starts[later], end):
                            found.add(later)
                    break
                if at and joined[at - 1] in letters:  # the lookbehind fails here
                    at = low.find(word, at + 1)
                    continue
                index = text_at(at)
                end = starts[index + 1] - 1
                if index in found:
                    at = low.find(word, end + 1)
                    continue
                tries = tries + 1 if index == current else 0
                current = index
                if tries < _MAX_TRIES:
                    hit = pattern.match(joined, at, end) is not None
                else:
                    hit = pattern.search(joined, at, end) is not None
                if hit:
                    found.add(index)
                at = low.find(word, end + 1 if hit or tries >= _MAX_TRIES else at + 1)
        return found

    def findall(
        self, needles: Iterable[str], pattern: re.Pattern[str], lowered: bool = False
    ) -> dict[int, list[str]]:
        """``pattern.findall(text)`` for every text holding a needle, keyed by index, for a
        pattern whose every match starts where one of ``needles`` (lowercase) occurs in the
        lowercased text. Only those places are tried, left to right, skipping the ones
        inside an earlier match: what findall does, minus the places no match can start at.
        With ``lowered`` the pattern runs on each text's lowercase form (matches come back
        lowercase). Requires ``exact`` and no ``casefold_specials``."""
        places: dict[int, list[int]] = {}
        low, starts, text_at = self.lowered, self.starts, self.text_at
        for needle in needles:
            at = low.find(needle)
            while at >= 0:
                index = text_at(at)
                places.setdefault(index, []).append(at - starts[index])
                at = low.find(needle, at + 1)
        found: dict[int, list[str]] = {}
        for index, offsets in places.items():
            # the text itself, or its lowercase form as a window of the joined one (pos and
            # endpos bound it; what precedes it is the newline joining it, a non-word char)
            text, base = (low, starts[index]) if lowered else (self.texts[index], 0)
            end = starts[index + 1] - 1 if lowered else len(text)
            matches: list[str] = []
            done = 0
            for offset in sorted(set(offsets)):
                if offset < done:
                    continue
                match = pattern.match(text, base + offset, end)
                if match is not None:
                    matches.append(match.group(0))
                    done = match.end() - base
            found[index] = matches
        return found


_MAX_TRIES = 8
