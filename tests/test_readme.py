"""The README stays true: its commands are the ones CI runs, its Python compiles, and the
offline examples run."""

from __future__ import annotations

import re
from pathlib import Path

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
