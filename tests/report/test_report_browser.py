"""The report opened in a real headless Chromium (Debian's ``chromium``; .ci/run installs it).

These tests fail, never skip, when Chromium is missing: the report's promise is what a browser
shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from headroom import generate_report
from headroom.store import RequestRecord, open_store

from .chromium import Chromium, chromium_path
from .conftest import ATTR_TOOL, IMG_MODEL, SCRIPT_TOOL


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    executable = chromium_path()
    if executable is None:
        pytest.fail(
            "Chromium is not installed: the report tests need a real browser. "
            "Install it with `apt-get install -y chromium` (.ci/run does this)."
        )
    chromium = Chromium(executable, tmp_path / "chromium-profile")
    try:
        yield chromium
    finally:
        chromium.close()


BAR_COUNTS = """JSON.stringify(Object.fromEntries(
  Array.from(document.querySelectorAll('svg[data-chart]')).map(
    s => [s.dataset.chart, s.querySelectorAll('rect.bar').length])))"""


def test_the_harness_sees_script_errors_and_dialogs(browser: Chromium, tmp_path: Path) -> None:
    """The checks below can fail: a page that alerts and throws is caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><title>bad</title><script>alert('ran');</script>"
        "<script>console.error('logged'); undefinedFunction();</script>"
    )
    run = browser.open(page)
    assert run.dialogs == ["ran"]
    assert any("undefinedFunction" in e for e in run.exceptions)
    assert run.console_errors == ["logged"]


def test_report_renders_without_errors_with_the_expected_bars(
    browser: Chromium, seeded_store: str, tmp_path: Path
) -> None:
    report = generate_report(seeded_store, tmp_path / "report.html")
    run = browser.open(report)
    assert run.errors == []
    assert run.dialogs == []
    assert run.requested_urls == [report.resolve().as_uri()]  # nothing else was fetched
    assert json.loads(browser.evaluate(BAR_COUNTS)) == {
        "waste": 3,
        "tokens-over-time": 4,
        "tools": 4,
    }
    # The inline script ran (the policy let it) and made the four tables sortable.
    assert browser.evaluate("document.documentElement.dataset.reportReady") == "4"
    widths = browser.evaluate(
        "Array.from(document.querySelectorAll('svg[data-chart=tools] rect.bar'))"
        ".map(r => r.getBoundingClientRect().width)"
    )
    assert widths[0] > widths[-1] > 0  # drawn, largest first
    shot = browser.screenshot(tmp_path / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000


def test_hostile_names_show_as_text_and_never_run(
    browser: Chromium, seeded_store: str, tmp_path: Path
) -> None:
    report = generate_report(seeded_store, tmp_path / "report.html")
    run = browser.open(report)
    assert run.dialogs == []  # alert(1) / alert(2) never ran
    assert run.errors == []
    assert browser.evaluate("document.title") == "Headroom report"  # onerror never ran
    assert browser.evaluate("document.querySelectorAll('img, script').length") == 1
    assert browser.evaluate("document.querySelectorAll('[onload], [onerror]').length") == 0
    text = browser.evaluate("document.body.innerText")
    for payload in (SCRIPT_TOOL, IMG_MODEL, ATTR_TOOL):
        assert payload in text
    browser.screenshot(tmp_path / "hostile.png")


def test_empty_store_report_renders(browser: Chromium, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).close()
    report = generate_report(url, tmp_path / "empty.html")
    run = browser.open(report)
    assert run.errors == [] and run.dialogs == []
    assert "No data yet" in browser.evaluate("document.body.innerText")
    assert browser.evaluate("document.querySelectorAll('svg[data-chart]').length") == 0
    browser.screenshot(tmp_path / "empty.png")


JS_URL = "javascript:alert(3)"


def test_javascript_urls_in_any_stored_string_never_become_links(
    browser: Chromium, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'js.db'}"
    store = open_store(url)
    store.write(
        RequestRecord(
            model=JS_URL,
            mode="optimize",
            source=JS_URL,
            error_type=JS_URL,
            tokens_before=4000,
            tokens_after=1000,
            tokens_saved=3000,
            transforms={JS_URL: 3000},
            tool_tokens={JS_URL: 2500, "a'onmouseover='alert(4)": 10},
            waste={"oversized_tool_output": 2500},
            prefix_hash=JS_URL,
            stable_prefix_hash=JS_URL,
            context_window=128000,
        )
    )
    store.close()
    report = generate_report(url, tmp_path / "js.html")
    run = browser.open(report)
    assert run.dialogs == [] and run.errors == []
    links = browser.evaluate(
        "Array.from(document.querySelectorAll('[href],[src],[action],[formaction]'))"
        ".map(e => e.getAttribute('href') || e.getAttribute('src') || '')"
    )
    assert not any(str(link).strip().lower().startswith("javascript:") for link in links)
    assert browser.evaluate("document.querySelectorAll('[onmouseover]').length") == 0
    assert JS_URL in browser.evaluate("document.body.innerText")
