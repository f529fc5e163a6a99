"""Build the notebooks in this folder from their sources in ``sources/``.

    python notebooks/build_notebooks.py

Each source is a Python file in the "percent" format: ``# %%`` starts a code cell and
``# %% [markdown]`` a markdown cell whose lines are comments. Reviewing a diff of plain Python
is easier than one of JSON, and the built notebooks come out with no outputs, no execution
counts, stable cell ids and minimal metadata, so git only ever sees real changes. The test
suite checks that the committed notebooks match what this script builds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
CELL_MARKER = "# %%"
MARKDOWN_MARKER = "# %% [markdown]"
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _markdown(lines: list[str]) -> str:
    """Comment lines without their leading ``# `` (a bare ``#`` is an empty line; blank lines
    end the cell)."""
    text = []
    for line in lines:
        if line.strip() in ("#", ""):
            text.append("")
        elif line.startswith("# "):
            text.append(line[2:])
        else:
            raise ValueError(f"markdown cell line is not a comment: {line!r}")
    return "\n".join(text).strip("\n")


def parse_cells(source: str) -> list[tuple[str, str]]:
    """(kind, text) for every cell of a percent-format source; text before the first marker
    (the module docstring) is not part of the notebook."""
    cells: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        if line.startswith(MARKDOWN_MARKER):
            cells.append(("markdown", []))
        elif line.startswith(CELL_MARKER):
            cells.append(("code", []))
        elif cells:
            cells[-1][1].append(line)
    parsed = []
    for kind, lines in cells:
        text = _markdown(lines) if kind == "markdown" else "\n".join(lines).strip("\n")
        if text:
            parsed.append((kind, text))
    return parsed


def build(source_path: Path) -> nbformat.NotebookNode:
    """The notebook for one source, with ids derived from its name and cell position."""
    stem = source_path.stem
    cells = []
    for number, (kind, text) in enumerate(parse_cells(source_path.read_text("utf-8"))):
        make = new_markdown_cell if kind == "markdown" else new_code_cell
        cell = make(text)
        cell["id"] = f"{stem.replace('_', '-')}-{number:02d}"
        cells.append(cell)
    notebook = new_notebook(cells=cells, metadata=METADATA)
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    return notebook


def render(source_path: Path) -> str:
    """The notebook's JSON text exactly as it is committed."""
    notebook = build(source_path)
    nbformat.validate(notebook)
    return str(nbformat.writes(notebook)) + "\n"


def sources() -> list[Path]:
    return sorted(SOURCES.glob("[0-9][0-9]_*.py"))


def main() -> int:
    for source_path in sources():
        target = HERE / f"{source_path.stem}.ipynb"
        target.write_text(render(source_path), encoding="utf-8")
        print(f"wrote {target.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
