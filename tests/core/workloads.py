"""Access to the shared agent workloads (read in place, never copied into the project)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WORKLOADS = Path(__file__).resolve().parents[3] / "shared" / "workloads" / "dev"


def workload_files() -> list[Path]:
    files = sorted(WORKLOADS.glob("*.json"))
    if not files:
        raise FileNotFoundError(
            f"no workloads in {WORKLOADS}: the shared/ folder must sit beside the checkout"
        )
    return files


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def needles_kept(messages: list[Any], needles: list[str]) -> list[str]:
    """The needles missing from ``messages`` (verbatim or in their JSON-escaped spelling)."""
    texts = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
    blob = "\n".join(texts)
    return [n for n in needles if n not in blob and json.dumps(n)[1:-1] not in blob]
