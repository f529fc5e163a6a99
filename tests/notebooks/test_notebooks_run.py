"""Every notebook runs top to bottom in a fresh kernel of this interpreter, against the
loopback OpenAI-compatible server, with no network: a cell that raises fails the test.

The kernel gets ``OPENAI_BASE_URL`` (the loopback server) and a dummy ``OPENAI_API_KEY``
through its environment, exactly as a user's shell would give them, and a private ``TMPDIR``,
so we can check that everything a notebook writes lands in a temporary folder.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
KERNEL_NAME = "headroom-notebook-test"
CELL_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernel spec for the running interpreter only, whatever kernels the machine has."""
    folder = tmp_path_factory.mktemp("kernels") / KERNEL_NAME
    folder.mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Headroom test kernel",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(folder.parent)])


def repo_files() -> set[Path]:
    """Files under the folders a notebook could be tempted to write into."""
    return {p for folder in (NOTEBOOKS_DIR, REPO / "examples") for p in folder.rglob("*")}


def run_notebook(
    path: Path, env: dict[str, str], kernel_specs: KernelSpecManager, connection_file: Path
) -> Any:
    notebook = nbformat.read(path, as_version=4)
    kernel = AsyncKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=kernel_specs,
        connection_file=str(connection_file),
    )
    client = NotebookClient(
        notebook,
        km=kernel,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute(env=env)  # raises CellExecutionError naming the failing cell
    return notebook


def test_the_notebooks_are_the_documented_set() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_langchain.ipynb",
        "03_llamaindex.ipynb",
        "04_agent_budget.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_against_the_loopback_server(
    path: Path, openai_server: Any, kernel_specs: KernelSpecManager, tmp_path: Path
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "HEADROOM_", "JPY_", "MPL"))
    }
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env.update(
        OPENAI_BASE_URL=openai_server.base_url,
        OPENAI_API_KEY="sk-notebook-test",
        TMPDIR=str(scratch),
        PYTHONHASHSEED="0",
    )
    before = repo_files()

    notebook = run_notebook(path, env, kernel_specs, tmp_path / "kernel-connection.json")

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells)
    errors = [o for cell in code_cells for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    assert openai_server.chat_requests, "the notebook never called the chat API"
    assert all(r.headers["Authorization"] == "Bearer sk-notebook-test" for r in
               openai_server.chat_requests)
    assert repo_files() == before, "the notebook wrote into the repository"
    assert any(scratch.iterdir()), "the notebook wrote nothing into its temporary folder"
