"""HeadroomNodePostprocessor: retrieved passages without the waste, inside a token budget.

In order: exact and near-duplicate passages are removed; JSON passages are compressed with the
core's tool-output compressor (every cut marked in the JSON, a digest of the original kept);
and, only when the passages still exceed ``token_budget``, the best-scoring ones that fit are
kept in their original order (a larger passage that replaced a smaller copy of itself gives
way to that copy when only the copy fits), with at most one more shortened at a sentence
boundary behind a marker. A passage that is kept unchanged comes back as the very same
NodeWithScore, and the caller's nodes are never modified. What was removed, and the tokens
saved, are in ``last_report`` and (with ``store_url``) in the metrics store.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, MetadataMode, NodeWithScore, QueryBundle

from headroom.models import ModelInfo, resolve_model
from headroom.options import ToolProfile, make_options
from headroom.recording import Recorder
from headroom.store import RequestRecord
from headroom.tokens import count_text
from headroom.transforms.tool_output import compress_tool_content

from .budget import select, truncate
from .dedupe import Duplicate, find_duplicates

logger = logging.getLogger("headroom")

SOURCE = "llama_index"
DEDUPE = "node_dedupe"
JSON_COMPRESSION = "node_json_compression"
BUDGET = "node_token_budget"


@dataclass(frozen=True)
class RemovedNode:
    node_id: str
    reason: str  # "duplicate" | "near_duplicate" | "token_budget"
    tokens: int
    duplicate_of: str | None = None


@dataclass
class PostprocessReport:
    """What one postprocess call did."""

    nodes_in: int = 0
    nodes_out: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    removed: list[RemovedNode] = field(default_factory=list)
    compressed: list[str] = field(default_factory=list)  # node ids of compressed JSON
    truncated: list[str] = field(default_factory=list)  # node ids shortened to fit
    savings: dict[str, int] = field(default_factory=dict)  # step -> tokens saved

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tokens_saved"] = self.tokens_saved
        return data


class HeadroomNodePostprocessor(BaseNodePostprocessor):
    """Remove duplicate passages, compress JSON passages, and fit a token budget.

    ``index.as_query_engine(node_postprocessors=[HeadroomNodePostprocessor(token_budget=3000)])``
    """

    token_budget: int | None = Field(
        default=None, ge=1, description="Tokens the passages may take; None: no budget."
    )
    model: str = Field(default="gpt-4o", description="Model whose tokenizer counts tokens.")
    dedupe: bool = Field(default=True, description="Remove exact and near-duplicate passages.")
    similarity_threshold: float = Field(
        default=0.85,
        gt=0.0,
        le=1.0,
        description="Share of a passage's word shingles found in another that makes it a "
        "near-duplicate.",
    )
    shingle_size: int = Field(default=3, ge=1, description="Words per shingle.")
    compress_json: bool = Field(default=True, description="Compress JSON passages.")
    json_profile: dict[str, Any] | None = Field(
        default=None, description="ToolProfile options for JSON passages."
    )
    min_fragment_tokens: int = Field(
        default=48,
        ge=1,
        description="Smallest leftover budget worth filling with a shortened passage.",
    )
    metadata_mode: MetadataMode = Field(
        default=MetadataMode.LLM, description="How passages are rendered for the LLM."
    )
    store_url: str | None = Field(default=None, description="Metrics store URL.")

    _profile: ToolProfile = PrivateAttr()
    _info: ModelInfo = PrivateAttr()
    _recorder: Recorder | None = PrivateAttr(default=None)
    _last_report: PostprocessReport | None = PrivateAttr(default=None)
    _failures: Counter[str] = PrivateAttr(default_factory=Counter)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        profiles = {"*": self.json_profile} if self.json_profile is not None else None
        self._profile = make_options(tool_profiles=profiles).profile_for(None)
        self._info = resolve_model(self.model)
        self._recorder = Recorder(self.store_url) if self.store_url else None

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomNodePostprocessor"

    @property
    def last_report(self) -> PostprocessReport | None:
        return self._last_report

    @property
    def recorder(self) -> Recorder | None:
        return self._recorder

    @property
    def failures(self) -> Counter[str]:
        return Counter(self._failures)

    def count(self, text: str) -> int:
        return count_text(text, self._info.encoding)

    def node_tokens(self, node: BaseNode) -> int:
        """Tokens the passage takes in the prompt, rendered as the response synthesizer does."""
        return self.count(node.get_content(metadata_mode=self.metadata_mode))

    # -- the pipeline ----------------------------------------------------------------------
    def _postprocess_nodes(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None = None,
    ) -> list[NodeWithScore]:
        nodes = list(nodes)
        report = PostprocessReport(nodes_in=len(nodes))
        try:
            result = self._process(nodes, query_bundle, report)
        except Exception as exc:  # noqa: BLE001 - fail open: the passages go on unchanged
            self._fail("postprocess", exc)
            return nodes
        self._last_report = report
        self._record(report)
        return result

    def _process(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None,
        report: PostprocessReport,
    ) -> list[NodeWithScore]:
        current: dict[int, NodeWithScore] = dict(enumerate(nodes))
        tokens = {i: self.node_tokens(n.node) for i, n in current.items()}
        report.tokens_before = sum(tokens.values())
        rank: dict[int, float | None] = {i: n.score for i, n in current.items()}
        saved: Counter[str] = Counter()

        duplicates: dict[int, Duplicate] = {}
        if self.dedupe and len(nodes) > 1:
            texts = [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in nodes]
            duplicates, rank = find_duplicates(
                texts, [n.score for n in nodes], self.similarity_threshold, self.shingle_size
            )
            for i in duplicates:
                del current[i]

        if self.compress_json:
            question = query_bundle.query_str if query_bundle is not None else ""
            for i, item in list(current.items()):
                shrunk = self._compress(item, question)
                if shrunk is not None:
                    new_tokens = self.node_tokens(shrunk.node)
                    saved[JSON_COMPRESSION] += tokens[i] - new_tokens
                    tokens[i] = new_tokens
                    current[i] = shrunk
                    report.compressed.append(item.node.node_id)

        total = sum(tokens[i] for i in current)
        if self.token_budget is not None and total > self.token_budget:
            fallbacks = _smaller_copies(duplicates, tokens, nodes)
            current = self._fit(current, tokens, rank, fallbacks, nodes, report, saved)

        for i, dup in sorted(duplicates.items()):
            if i in current:
                continue  # brought back in place of the larger copy that did not fit
            saved[DEDUPE] += tokens[i]
            reason = "duplicate" if dup.kind == "exact" else "near_duplicate"
            report.removed.append(
                RemovedNode(nodes[i].node.node_id, reason, tokens[i], nodes[dup.kept].node_id)
            )
        result = [current[i] for i in sorted(current)]
        report.nodes_out = len(result)
        report.tokens_after = sum(self.node_tokens(n.node) for n in result)
        report.savings = dict(saved)
        return result

    def _compress(self, item: NodeWithScore, question: str) -> NodeWithScore | None:
        """The node with its JSON text compressed, or None when it is not JSON or would not
        shrink."""
        text = item.node.get_content(metadata_mode=MetadataMode.NONE)
        if not text.lstrip().startswith(("{", "[")):
            return None
        try:
            new_text = compress_tool_content(
                text, None, self._profile, question, self._info.encoding
            )
        except Exception as exc:  # noqa: BLE001 - a failed compression leaves the text as is
            self._fail(JSON_COMPRESSION, exc)
            return None
        if new_text == text:
            return None
        return _with_text(item, new_text)

    def _fit(
        self,
        current: dict[int, NodeWithScore],
        tokens: dict[int, int],
        rank: dict[int, float | None],
        fallbacks: dict[int, list[int]],
        nodes: list[NodeWithScore],
        report: PostprocessReport,
        saved: Counter[str],
    ) -> dict[int, NodeWithScore]:
        """Keep the best-ranked passages that fit. A dropped passage that stood in for a
        smaller copy of itself gives way to that copy when the copy fits; then the best
        dropped passage is shortened into the space left when that space is worth it."""
        assert self.token_budget is not None
        order = sorted(current)
        selection = select(
            [tokens[i] for i in order], [rank.get(i) for i in order], self.token_budget
        )
        kept = {order[j]: current[order[j]] for j in selection.kept}
        dropped = [order[j] for j in selection.dropped]
        leftover = selection.leftover
        for i in list(dropped):
            copy = next((j for j in fallbacks.get(i, []) if tokens[j] <= leftover), None)
            if copy is not None:
                kept[copy] = nodes[copy]
                leftover -= tokens[copy]
                dropped.remove(i)
                self._drop(current[i], tokens[i], report, saved)
        if dropped and leftover >= self.min_fragment_tokens:
            best = dropped[0]
            fragment = self._shorten(current[best], leftover)
            if fragment is not None:
                kept[best] = fragment
                saved[BUDGET] += tokens[best] - self.node_tokens(fragment.node)
                report.truncated.append(current[best].node.node_id)
                dropped = dropped[1:]
        for i in sorted(dropped):
            self._drop(current[i], tokens[i], report, saved)
        return kept

    @staticmethod
    def _drop(
        item: NodeWithScore, tokens: int, report: PostprocessReport, saved: Counter[str]
    ) -> None:
        saved[BUDGET] += tokens
        report.removed.append(RemovedNode(item.node.node_id, "token_budget", tokens))

    def _shorten(self, item: NodeWithScore, limit: int) -> NodeWithScore | None:
        """``item`` cut after a whole sentence, with a marker, to at most ``limit`` tokens."""
        text = item.node.get_content(metadata_mode=MetadataMode.NONE)
        overhead = self.node_tokens(item.node) - self.count(text)
        room = limit - max(overhead, 0)
        while room > 0:
            short = truncate(text, room, self.count)
            if short is None:
                return None
            candidate = _with_text(item, short)
            if candidate is None:
                return None
            if self.node_tokens(candidate.node) <= limit:
                return candidate
            room -= 1 + self.node_tokens(candidate.node) - limit  # rendering added tokens
        return None

    # -- recording -------------------------------------------------------------------------
    def _record(self, report: PostprocessReport) -> None:
        if self._recorder is None or report.nodes_in == 0:
            return
        try:
            saved = report.tokens_saved
            record = RequestRecord(
                model=self._info.name,
                mode="optimize",
                source=SOURCE,
                tokens_before=report.tokens_before,
                tokens_after=report.tokens_after,
                tokens_saved=saved,
                transforms=dict(report.savings),
                waste={
                    "repeated_content": report.savings.get(DEDUPE, 0),
                    "oversized_tool_output": report.savings.get(JSON_COMPRESSION, 0),
                    "beyond_window": report.savings.get(BUDGET, 0),
                },
                context_window=self._info.context_window,
                messages_count=report.nodes_out,
                dropped_messages=len(report.removed),
                estimated_savings_usd=round(saved * self._info.input_price / 1e6, 8),
            )
        except Exception as exc:  # noqa: BLE001
            self._fail("record", exc)
            return
        self._recorder.write(record)

    def _fail(self, step: str, exc: BaseException) -> None:
        with self._lock:
            first = self._failures[step] == 0
            self._failures[step] += 1
        if first:
            logger.warning(
                "headroom: node postprocessor %s failed (%s: %s); nodes passed through",
                step,
                type(exc).__name__,
                exc,
            )


def _smaller_copies(
    duplicates: dict[int, Duplicate], tokens: dict[int, int], nodes: list[NodeWithScore]
) -> dict[int, list[int]]:
    """For each kept passage, the removed duplicates it contains that are smaller than it,
    best-scoring first: what can stand in for it when it does not fit."""
    copies: dict[int, list[int]] = {}
    for i, dup in duplicates.items():
        if tokens[i] < tokens[dup.kept]:
            copies.setdefault(dup.kept, []).append(i)
    for group in copies.values():
        group.sort(key=lambda j: (nodes[j].score is None, -(nodes[j].score or 0.0), j))
    return copies


def _with_text(item: NodeWithScore, text: str) -> NodeWithScore | None:
    """A copy of ``item`` whose node has ``text``; the original node is left as it was."""
    setter: Callable[[str], None] | None = None
    node = item.node.model_copy()
    setter = getattr(node, "set_content", None)
    if setter is None:
        return None
    try:
        setter(text)
    except (NotImplementedError, TypeError, ValueError):
        return None
    return NodeWithScore(node=node, score=item.score)
