"""The items a question asks for as a group by what they are, not by a word they hold: a
yes/no field it names ("which are landlocked?"), a threshold it sets ("a total over $18",
"after March 2021"), a field they lack or hold ("which have no capital?", "a fax number").
Compression keeps them, and recall brings them back when a later question asks; both ask
here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .empty_fields import lacking_or_holding_items
from .flags import asked_flag_items
from .named_values import asked_group_most
from .thresholds import comparisons, date_comparisons, date_threshold_indices, threshold_indices

Columns = Mapping[str, Sequence[float | None]]


def asked_group(items: list[Any], question: str, columns: Callable[[], Columns]) -> set[int]:
    """Indices of the items ``question`` asks for as a group, each kind up to
    ``asked_group_most`` of them; ``columns`` gives the list's numeric columns, called only
    when the question sets a threshold."""
    if not question:
        return set()
    most = asked_group_most(len(items))
    group = asked_flag_items(items, question, most)
    group |= lacking_or_holding_items(items, question, most)
    if comparisons(question):
        group |= threshold_indices(columns(), question, most)
    if date_comparisons(question):
        group |= date_threshold_indices(items, question, most)
    return group
