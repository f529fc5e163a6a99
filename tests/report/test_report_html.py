"""generate_report on real stores: self-contained, escaped, filtered, and valid when empty."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from headroom import generate_report
from headroom.store import open_store

from .conftest import ATTR_TOOL, IMG_MODEL, SCRIPT_TOOL, seed_records


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of every <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def test_generate_report_writes_one_file_and_returns_its_path(
    seeded_store: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    assert generate_report(store_url=seeded_store, output_path=out) == out
    html = out.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for section in (
        "headline",
        "recommendations",
        "waste",
        "timeline",
        "top-requests",
        "cache",
        "models",
        "tools",
    ):
        assert f'id="{section}"' in html
    assert "23,000" in html  # tokens before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".headroom-report")]
    assert leftovers == []  # written through a temporary file, renamed into place


def test_nothing_is_fetched_from_anywhere(seeded_store: str, tmp_path: Path) -> None:
    html = generate_report(seeded_store, tmp_path / "r.html").read_text("utf-8")
    page = parse(html)
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "poster", "data"):
            assert attrs.get(name) is None, f"<{tag} {name}=...> would load a resource"
        assert tag not in ("link", "iframe", "object", "embed", "img", "image", "use")
    assert "@import" not in html and "url(" not in html
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)


def test_the_only_script_is_the_one_the_policy_pins(seeded_store: str, tmp_path: Path) -> None:
    html = generate_report(seeded_store, tmp_path / "r.html").read_text("utf-8")
    page = parse(html)
    assert len(page.scripts) == 1
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    policy = next(
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert policy is not None
    assert "default-src 'none'" in policy
    assert f"script-src 'sha256-{digest}'" in policy


def test_store_values_are_escaped(seeded_store: str, tmp_path: Path) -> None:
    html = generate_report(seeded_store, tmp_path / "r.html").read_text("utf-8")
    for payload in (SCRIPT_TOOL, IMG_MODEL, ATTR_TOOL):
        assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;document.title=&#39;pwned&#39;&#34;&gt;" in html
    page = parse(html)
    assert [t for t, _ in page.tags].count("script") == 1
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)


def test_chart_bars_match_the_data(seeded_store: str, tmp_path: Path) -> None:
    html = generate_report(seeded_store, tmp_path / "r.html").read_text("utf-8")
    charts = dict(re.findall(r'<svg class="chart" data-chart="([\w-]+)"(.*?)</svg>', html, re.S))
    assert set(charts) == {"waste", "tokens-over-time", "tools"}
    bars = {name: body.count('<rect class="bar"') for name, body in charts.items()}
    assert bars == {"waste": 3, "tokens-over-time": 4, "tools": 4}


def test_since_and_until_select_records(seeded_store: str, tmp_path: Path) -> None:
    only_last = generate_report(seeded_store, tmp_path / "a.html", since="2026-11-04").read_text(
        "utf-8"
    )
    assert "1 requests (0 audited, 1 optimized)" in only_last
    first_two = generate_report(
        seeded_store, tmp_path / "b.html", since="2026-11-02", until="2026-11-03"
    ).read_text("utf-8")
    assert "2 requests (2 audited, 0 optimized)" in first_two
    assert "from 2026-11-02 00:00 UTC to before 2026-11-04 00:00 UTC" in first_two


def test_empty_store_gives_a_valid_report_saying_there_is_no_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).close()
    html = generate_report(url, tmp_path / "r.html").read_text("utf-8")
    assert 'id="no-data"' in html and "No data yet" in html
    assert 'id="headline"' not in html
    assert html.rstrip().endswith("</html>")


def test_a_period_without_records_says_so(seeded_store: str, tmp_path: Path) -> None:
    html = generate_report(seeded_store, tmp_path / "r.html", since="2030-01-01").read_text()
    assert "No data yet" in html and "in this period" in html


def test_jsonl_and_memory_stores_work_too(tmp_path: Path) -> None:
    url = f"jsonl://{tmp_path / 'm.jsonl'}"
    store = open_store(url)
    for record in seed_records():
        store.write(record)
    store.close()
    html = generate_report(url, tmp_path / "r.html").read_text("utf-8")
    assert "3 requests" in html
    assert "No data yet" in generate_report("memory://", tmp_path / "m.html").read_text()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"store_url": "ftp://x"}, "unsupported store_url"),
        ({"store_url": "memory://", "since": "last week"}, "invalid date"),
        ({"store_url": "memory://", "since": "2026-11-05", "until": "2026-11-01"}, "earlier"),
        ({"store_url": "memory://", "output_path": "/no/such/folder/r.html"}, "does not exist"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_report(**kwargs)  # type: ignore[arg-type]


def test_report_keeps_no_prompt_text_it_was_not_given(tmp_path: Path) -> None:
    store = open_store("memory://")
    record = seed_records()[0]
    record.content = {"messages": [{"role": "user", "content": "SECRET-PROMPT-TEXT"}]}
    from headroom.report import render_report

    assert "SECRET-PROMPT-TEXT" not in render_report([record])
    store.close()


def test_headline_cards_for_an_audit_only_store_show_what_optimize_would_do() -> None:
    from headroom.report import render_report

    audited = render_report(seed_records()[:2])
    assert "Optimize would save" in audited and "6,000" in audited
    assert "TPM headroom optimize would gain" in audited
    mixed = render_report(seed_records())
    assert "Tokens saved" in mixed and "6,000 more with optimize" in mixed
    assert "TPM headroom gained" in mixed
