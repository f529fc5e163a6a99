"""Names written without their accents, or with them: a user types "Brasilia", "Schroder",
"Ceska Republika" for data that says ``Brasília``, ``Schröder``, ``Češka Republika``, or
"Zürich" for data that says ``Zurich``.

Term search is literal (``str.find`` over lowercased text), so rather than fold every text,
the few accented words of a list are folded once, and those that a question's plain term
begins are added to the question's terms as they are written in the data.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Protocol

# Words (``észak-macedón`` and its parts) holding a Latin letter with a diacritic (Latin-1
# Supplement to Latin Extended-B), each tried from its start only.
_ACCENTED_WORD = re.compile(r"(?<![\w-])[\w-]*?[\u00c0-\u024f][\w-]*")
# Letters that decomposition leaves alone but readers write as plain letters.
_PLAIN_LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe"}
)


@functools.lru_cache(maxsize=8192)
def unaccented(word: str) -> str:
    """``word`` with its diacritics taken off (``schröder`` -> ``schroder``, ``łódź`` ->
    ``lodz``); a word of another script comes back as it is."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_PLAIN_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class AccentedWords:
    """The distinct accented words of some texts, lowercased, by their unaccented form,
    sorted so that the words a term begins are found by bisection. Only the texts that are
    not plain ASCII are searched (in most lists, none or a few)."""

    def __init__(self, texts: Iterable[str]) -> None:
        searched = "\n".join([text for text in texts if not text.isascii()]).lower()
        by_plain: dict[str, set[str]] = {}
        for found in set(_ACCENTED_WORD.findall(searched)):
            for word in {found, *found.split("-")} if "-" in found else (found,):
                plain = unaccented(word)
                if plain != word:
                    by_plain.setdefault(plain, set()).add(word)
        self._plain = sorted(by_plain)
        self._words = [sorted(by_plain[p]) for p in self._plain]

    def beginning_with(self, term: str) -> list[str]:
        """The accented words whose unaccented form begins with ``term``."""
        found: list[str] = []
        at = bisect_left(self._plain, term)
        while at < len(self._plain) and self._plain[at].startswith(term):
            found.extend(self._words[at])
            at += 1
        return found


class LoweredText(Protocol):
    """A text searched lowercased (``TextScan``, recall's tool outputs), with its accented
    words memoised beside it."""

    @property
    def lowered(self) -> str: ...

    @property
    def accented_words(self) -> AccentedWords: ...


def accent_spellings(terms: Sequence[str], scans: Iterable[LoweredText]) -> dict[str, str]:
    """The other spellings of ``terms`` in the ``scans``' texts, each with the term it
    spells (a match of it counts as that term: ``álbum`` does not single out what ``album``,
    in every item, does not): each accented term unaccented, and the accented words that a
    plain term (three letters or more) begins, as the texts write them ("lati" is also
    ``läti``, though ``latin`` is there as it is)."""
    known = set(terms)
    extra: dict[str, str] = {}
    for term in terms:
        if not term.isascii():
            plain = unaccented(term)
            if plain != term and plain.isascii() and plain not in known:
                extra.setdefault(plain, term)
    plain_terms = [t for t in terms if t.isascii() and len(t) >= 3 and t[:1].isalpha()]
    if plain_terms:
        for scan in scans:
            if scan.lowered.isascii():
                continue
            words = scan.accented_words
            for term in plain_terms:
                for word in words.beginning_with(term):
                    if word not in known:
                        extra.setdefault(word, term)
    return extra
