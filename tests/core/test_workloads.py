"""The real-shaped agent workloads: every needle kept, every request within gpt-4o's window."""

from __future__ import annotations

import statistics

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
