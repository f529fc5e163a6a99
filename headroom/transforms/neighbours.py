"""The items next to the ones a question names, when it asks what came right before or after
them ("what happened right before the crash?"): a list keeps its order, so an item's
neighbours are the ones before and after it. How many on each side is the number the
question writes ("the 3 lines after it"), one by default.
"""

from __future__ import annotations

import functools
import re

from ..questions import MAX_QUESTION_WORDS, asked_count

MAX_REACH = 10
_WORD = re.compile(r"[^\W_]+")
# "around" is left out: "around 13:58" is a time, not a neighbour
_NEXT_TO = frozenset(["before", "after", "previous", "preceding", "prior", "next", "following"])


@functools.lru_cache(maxsize=2048)
def neighbour_reach(question: str) -> int:
    """How many items on each side of the ones ``question`` names it asks about: "what
    happened right before the crash" one, "the 3 lines after it" three (up to
    ``MAX_REACH``); 0 when it asks about no neighbour."""
    words = _WORD.findall(question.lower())
    if len(words) > MAX_QUESTION_WORDS or _NEXT_TO.isdisjoint(words):
        return 0
    return asked_count(question, MAX_REACH)


def neighbours(indices: set[int], reach: int, n: int) -> set[int]:
    """The positions within ``reach`` of ``indices`` among ``n`` items (the indices too)."""
    return {j for i in indices for j in range(max(i - reach, 0), min(i + reach + 1, n))}
