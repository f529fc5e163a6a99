"""Source of notebooks/03_llamaindex.ipynb (build it with notebooks/build_notebooks.py)."""

# %% [markdown]
# # Headroom in LlamaIndex
#
# Two pieces, usable together or apart:
#
# * `HeadroomNodePostprocessor` cleans the retrieved passages before they reach the prompt:
#   it removes exact and near-duplicates, compresses JSON passages, and keeps the best
#   passages that fit a token budget.
# * `HeadroomLLM` wraps any LlamaIndex LLM: every call is measured (audit) or kept inside the
#   model's budget (optimize), and recorded in the metrics store.
#
# We build a small query engine over an on-call knowledge base and look at what each piece
# did. The LLM is OpenAI's, reached through `OPENAI_BASE_URL` with `OPENAI_API_KEY`.

# %%
import json
import math
import os
import re
import tempfile
import zlib
from pathlib import Path

from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.llms.headroom import HeadroomLLM
from llama_index.llms.openai import OpenAI
from llama_index.postprocessor.headroom import HeadroomNodePostprocessor

from headroom.store import open_store

BASE_URL = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
API_KEY = os.environ["OPENAI_API_KEY"]  # set it in the shell before starting Jupyter
MODEL = os.environ.get("HEADROOM_NOTEBOOK_MODEL", "gpt-4o-mini")
WORKDIR = Path(tempfile.mkdtemp(prefix="headroom-llamaindex-"))
STORE_URL = f"sqlite:///{WORKDIR / 'headroom.db'}"
print(f"API: {BASE_URL}  model: {MODEL}\nstore: {STORE_URL}")

# %% [markdown]
# ## An offline embedding
#
# Retrieval needs an embedding model. So that this notebook costs nothing beyond the chat
# calls, we use a tiny deterministic one: words hashed into a fixed-size vector, so texts that
# share words are close. In your application use any LlamaIndex embedding instead (for
# example `OpenAIEmbedding`); Headroom does not depend on it.

# %%
class HashingEmbedding(BaseEmbedding):
    """Bag of words hashed into 512 dimensions, L2-normalised."""

    dim: int = 512

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for word in re.findall(r"\w+", text.casefold()):
            vector[zlib.crc32(word.encode()) % self.dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


Settings.embed_model = HashingEmbedding()

# %% [markdown]
# ## A knowledge base with the usual repetition
#
# One runbook per service, plus what real corpora accumulate: the checkout runbook ingested
# twice, a lightly edited copy of it, and a pretty-printed JSON export of recent incidents.

# %%
SERVICES = ["checkout", "payments", "inventory", "search", "auth", "shipping"]
TEAMS = ["Commerce", "Commerce", "Fulfilment", "Discovery", "Identity", "Fulfilment"]


def runbook(service: str, team: str, number: int) -> str:
    return (
        f"Runbook for the {service} service, owned by the {team} team. "
        f"When {service} latency rises above {200 + 50 * number} ms at p99, first check the "
        f"connection pool of {service}-db and the upstream gateway dashboards. "
        f"Roll back the latest {service} deployment if it went out less than thirty minutes "
        f"before the first alert. Page the {team} on-call only for customer-facing impact; "
        f"otherwise open a ticket with the evidence attached."
    )


documents = [
    Document(text=runbook(s, t, i), doc_id=f"runbook-{s}") for i, (s, t) in
    enumerate(zip(SERVICES, TEAMS, strict=True))
]
documents.append(Document(text=documents[0].text, doc_id="runbook-checkout-reingested"))
documents.append(Document(
    text=documents[0].text.replace("first check", "start by checking"),
    doc_id="runbook-checkout-edited",
))
incidents = [
    {"id": f"INC-{4100 + i}", "service": SERVICES[i % 6], "severity": f"sev{1 + i % 4}",
     "title": f"{SERVICES[i % 6]} error budget burn", "status": "resolved"}
    for i in range(30)
]
documents.append(Document(
    text=json.dumps({"incidents": incidents}, indent=2), doc_id="incident-export",
))

splitter = SentenceSplitter(chunk_size=4096, id_func=lambda i, doc: f"{doc.doc_id}#{i}")
index = VectorStoreIndex.from_documents(documents, transformations=[splitter])
print(len(documents), "documents indexed")

# %% [markdown]
# ## The query engine
#
# The postprocessor gets a budget of 500 tokens for the passages; the LLM wrapper runs in
# optimize mode. Both record into the same store. `similarity_top_k=8` retrieves generously,
# as RAG pipelines often do; Headroom trims the result.

# %%
llm = HeadroomLLM(
    llm=OpenAI(model=MODEL, api_base=BASE_URL, api_key=API_KEY),
    mode="optimize",
    store_url=STORE_URL,
)
postprocessor = HeadroomNodePostprocessor(token_budget=500, model=MODEL, store_url=STORE_URL)
query_engine = index.as_query_engine(
    llm=llm, node_postprocessors=[postprocessor], similarity_top_k=8
)

response = query_engine.query(
    "Checkout is slow: what should I check first, and which team owns checkout?"
)
print(response)

# %% [markdown]
# ## What the postprocessor removed
#
# The duplicate and the near-duplicate of the checkout runbook are gone, the JSON export was
# compacted, and the lowest-ranked passages that did not fit the budget were left out. The
# other passages go to the prompt unchanged, in the retriever's order.

# %%
report = postprocessor.last_report
print(f"passages {report.nodes_in} -> {report.nodes_out}, "
      f"tokens {report.tokens_before} -> {report.tokens_after} (saved {report.tokens_saved})")
for removed in report.removed:
    extra = f" (copy of {removed.duplicate_of})" if removed.duplicate_of else ""
    print(f"  removed {removed.node_id:28} {removed.reason:15} {removed.tokens:4} tokens{extra}")
print("  JSON compressed:", report.compressed or "none")
print("\nsent to the LLM:", [n.node.node_id for n in response.source_nodes])

# %% [markdown]
# ## What the LLM call cost
#
# `last_plan` is Headroom's plan for the most recent call: exact prompt tokens before and
# after, and whether the request fits the model's window with room left for the answer. Here
# the postprocessor has already done the work, so optimize finds nothing more to cut; in long
# chats and agent loops the LLM wrapper is what keeps the conversation inside the window
# (see `04_agent_budget.ipynb`).

# %%
plan = llm.last_plan
print(f"prompt tokens {plan.tokens_before} -> {plan.tokens_after}, fits: {plan.fits} "
      f"(budget {plan.budget} of a {plan.context_window}-token window)")

# %% [markdown]
# A few more questions, then the store's totals: one record per LLM call and one per
# postprocessing step, counts only (no prompt text).

# %%
for question in ["Who owns the payments service?", "When should I roll back a deployment?",
                 "Which incidents were sev1?"]:
    print(f"Q: {question}\nA: {query_engine.query(question)}\n")

store = open_store(STORE_URL)
summary = store.summary()
store.close()
print({key: summary[key] for key in ("total_requests", "total_tokens_before",
                                      "total_tokens_after", "total_tokens_saved")})
