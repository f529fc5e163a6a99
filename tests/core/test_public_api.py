"""The public names of DESIGN.md, and an import that stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import headroom

PUBLIC = {"Headroom", "count_tokens", "HeadroomClient", "AsyncHeadroomClient", "generate_report"}


def test_public_names_are_exported() -> None:
    assert set(headroom.__all__) >= PUBLIC
    for name in ("Headroom", "count_tokens", "HeadroomBudgetError", "Plan"):
        assert getattr(headroom, name) is not None


def test_import_headroom_imports_no_framework() -> None:
    code = (
        "import sys, json, headroom\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('langchain', 'langchain_core', 'llama_index', 'openai', 'langchain_openai')]\n"
        "print(json.dumps(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
