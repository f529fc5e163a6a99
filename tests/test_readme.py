"""The README stays true: its commands are the ones CI runs, its Python compiles, and the
offline examples run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)


def command_after(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```bash\n(.*?)```", TEXT, re.S)
    assert match, f"README lacks the <!-- {marker} --> command block"
    return match.group(1).strip()


def test_setup_and_test_commands_are_marked() -> None:
    assert command_after("setup") == 'pip install -e ".[dev]"'
    assert command_after("test") == "pytest"


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_blocks_compile(index: int) -> None:
    compile(PYTHON_BLOCKS[index], f"README.md block {index}", "exec")


def test_engine_example_runs_offline() -> None:
    block = next(b for b in PYTHON_BLOCKS if "engine = Headroom(" in b)
    namespace: dict[str, object] = {}
    exec(compile(block, "README engine example", "exec"), namespace)
    plan = namespace["plan"]
    assert plan.tokens_saved > 0  # type: ignore[attr-defined]


RUNNABLE = re.findall(r"<!-- runnable -->\n```python\n(.*?)```", TEXT, re.S)


def test_there_are_runnable_quick_starts() -> None:
    assert len(RUNNABLE) >= 2


@pytest.mark.parametrize("index", range(len(RUNNABLE)))
def test_quick_starts_run_against_the_loopback_server(
    index: int, openai_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-readme-test")
    monkeypatch.chdir(tmp_path)
    exec(compile(RUNNABLE[index], f"README runnable block {index}", "exec"), {})
    assert openai_server.requests, "the quick start sent nothing"
    for request in openai_server.requests:
        assert not any(key.startswith("headroom_") for key in request.json)
