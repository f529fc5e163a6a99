"""The real-shaped agent workloads: every needle kept, every request within gpt-4o's window."""

from __future__ import annotations

import json
import random
import statistics
from typing import Any

import pytest

from headroom import Headroom

from .workloads import load, needles_kept, workload_files

FILES = workload_files()
ENGINE = Headroom()
SAVED: dict[str, float] = {}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_workload_keeps_every_needle_and_fits(path) -> None:  # type: ignore[no-untyped-def]
    workload = load(path)
    request = workload["request"]
    plan = ENGINE.simulate(request["messages"], model=request["model"], tools=request.get("tools"))
    assert needles_kept(plan.messages, workload["needles"]) == []
    assert plan.fits, f"{plan.tokens_after} tokens > budget {plan.budget}"
    SAVED[path.stem] = plan.tokens_saved / plan.tokens_before


def test_median_savings_at_least_half() -> None:
    for path in FILES:
        if path.stem not in SAVED:
            request = load(path)["request"]
            plan = ENGINE.simulate(
                request["messages"], model=request["model"], tools=request.get("tools")
            )
            SAVED[path.stem] = plan.tokens_saved / plan.tokens_before
    assert len(SAVED) == len(FILES) == 34
    assert statistics.median(SAVED.values()) >= 0.5


def _shuffled(node: Any, rng: random.Random) -> Any:
    """``node`` with the items of every list of more than 20 shuffled, at every depth."""
    if isinstance(node, list):
        items = [_shuffled(item, rng) for item in node]
        if len(items) > 20:
            rng.shuffle(items)
        return items
    if isinstance(node, dict):
        return {key: _shuffled(value, rng) for key, value in node.items()}
    return node


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_needles_do_not_depend_on_where_the_items_sit(path, seed: int) -> None:  # type: ignore[no-untyped-def]
    """The same outputs with their long arrays shuffled: a needle must be kept because of
    what it says, not because it happened to be among the first items."""
    workload = load(path)
    request = workload["request"]
    rng = random.Random(seed)
    messages = []
    for message in request["messages"]:
        content = message.get("content")
        if message.get("role") == "tool" and isinstance(content, str):
            try:
                document = json.loads(content)
            except ValueError:
                document = None
            if isinstance(document, (dict, list)):
                shuffled = json.dumps(_shuffled(document, rng), indent=2, ensure_ascii=False)
                message = {**message, "content": shuffled}
        messages.append(message)
    plan = Headroom().simulate(messages, model=request["model"], tools=request.get("tools"))
    assert needles_kept(plan.messages, workload["needles"]) == []
