"""The committed notebooks carry no outputs, no execution counts and no metadata noise, and
each one is exactly what ``notebooks/build_notebooks.py`` builds from its source."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO / "notebooks"
ALLOWED_METADATA = {"kernelspec", "language_info"}


def committed_notebooks() -> list[Path]:
    """Every .ipynb git tracks, anywhere in the repository, plus those in notebooks/."""
    listed = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    paths = {REPO / name for name in listed} | set(NOTEBOOKS_DIR.glob("*.ipynb"))
    return sorted(p for p in paths if p.exists())


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", NOTEBOOKS_DIR / "build_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOTEBOOKS = committed_notebooks()


def test_there_are_notebooks_to_check() -> None:
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_is_stripped(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for number, cell in enumerate(notebook.cells):
        where = f"{path.name} cell {number}"
        assert cell.get("metadata", {}) == {}, f"{where} has metadata"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{where} has outputs"
            assert cell.execution_count is None, f"{where} has an execution count"
        assert "attachments" not in cell, f"{where} has attachments"
    assert set(notebook.metadata) <= ALLOWED_METADATA, f"{path.name} notebook metadata"


def test_notebooks_match_their_sources() -> None:
    builder = load_builder()
    sources = builder.sources()
    built = {f"{source.stem}.ipynb": builder.render(source) for source in sources}
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in
               NOTEBOOKS_DIR.glob("*.ipynb")}
    assert sorted(on_disk) == sorted(built), "a notebook without a source, or the reverse"
    stale = [name for name, text in built.items() if on_disk[name] != text]
    assert stale == [], f"rebuild with `python notebooks/build_notebooks.py`: {stale}"


def test_builder_parses_percent_cells() -> None:
    builder = load_builder()
    cells = builder.parse_cells(
        '"""docstring, not a cell"""\n'
        "# %% [markdown]\n# # Title\n#\n# Text.\n\n"
        "# %%\nx = 1\n\nprint(x)\n\n"
        "# %%\n\n"
    )
    assert cells == [("markdown", "# Title\n\nText."), ("code", "x = 1\n\nprint(x)")]
    with pytest.raises(ValueError, match="not a comment"):
        builder.parse_cells("# %% [markdown]\nnot a comment\n")
