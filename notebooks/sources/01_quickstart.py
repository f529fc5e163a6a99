"""Source of notebooks/01_quickstart.ipynb (build it with notebooks/build_notebooks.py)."""

# %% [markdown]
# # Headroom quick start
#
# Headroom sits between your code and an OpenAI-style chat API. It counts each request's
# tokens exactly, shows where they go (the *Context MRI*) and, when you ask it to, removes
# the waste with safe, deterministic transforms, so requests fit their window and cost less.
#
# In five steps you will:
#
# 1. wrap an OpenAI client,
# 2. **audit** a few requests (sent unchanged, measured and recorded),
# 3. **simulate** one (see what optimize would send, without calling the API),
# 4. switch to **optimize**,
# 5. read the summary and write the HTML report.
#
# The notebook calls whatever `OPENAI_BASE_URL` points at (the real OpenAI API when it is
# unset) with your `OPENAI_API_KEY`. Everything it writes goes to a temporary folder.

# %%
import json
import os
import re
import tempfile
from pathlib import Path

from openai import OpenAI

from headroom import HeadroomClient, generate_report

BASE_URL = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
API_KEY = os.environ["OPENAI_API_KEY"]  # set it in the shell before starting Jupyter
MODEL = os.environ.get("HEADROOM_NOTEBOOK_MODEL", "gpt-4o-mini")
WORKDIR = Path(tempfile.mkdtemp(prefix="headroom-quickstart-"))
STORE_URL = f"sqlite:///{WORKDIR / 'headroom.db'}"


def find_examples() -> Path:
    """The repository's examples/ folder, looked for from here upwards."""
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "examples" / "agent_session.json").is_file():
            return folder / "examples"
    raise FileNotFoundError("examples/agent_session.json not found: run from a Headroom checkout")


print(f"API: {BASE_URL}  model: {MODEL}\nstore: {STORE_URL}")

# %% [markdown]
# ## 1. Wrap the client
#
# `HeadroomClient` wraps the OpenAI client you already have; use it exactly like the original.
# `default_mode="audit"` sends every request untouched and records what Headroom saw in the
# store: counts, hashes and metadata, never the prompt text (unless you pass
# `store_content=True`).

# %%
client = HeadroomClient(
    original_client=OpenAI(base_url=BASE_URL, api_key=API_KEY),
    store_url=STORE_URL,
    default_mode="audit",
)

# %% [markdown]
# ## 2. Audit a few requests
#
# A plain question first:

# %%
reply = client.chat.completions.create(
    model=MODEL,
    messages=[
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": "In one sentence: why do chat APIs bill prompt tokens?"},
    ],
)
print(reply.choices[0].message.content)

# %% [markdown]
# Now a realistic agent request. `examples/agent_session.json` is an on-call assistant that
# has already called three tools; two of them returned large JSON documents (incident search
# results and service logs). Audit mode sends it exactly as it is.

# %%
session = json.loads((find_examples() / "agent_session.json").read_text(encoding="utf-8"))
agent_request = {"model": MODEL, "messages": session["messages"], "tools": session["tools"]}

reply = client.chat.completions.create(**agent_request)
print(reply.choices[0].message.content)
print("prompt tokens billed:", reply.usage.prompt_tokens)

# %% [markdown]
# Each call left one record in the store. `tokens_before` is Headroom's own count of the
# request (it matches the `prompt_tokens` the API billed); `waste` is the Context MRI: the
# tokens, by category, that could go without losing information.

# %%
for record in reversed(client.get_metrics(limit=10)):
    waste = {category: tokens for category, tokens in record.waste.items() if tokens}
    print(f"{record.mode}: counted {record.tokens_before}, billed {record.prompt_tokens}")
    print(f"   waste: {waste}")

# %% [markdown]
# ## 3. Simulate
#
# `simulate` plans a request in optimize mode without calling the API or recording anything:
# what would be sent, and what each transform saved. (`cache_alignment` may cost a few
# tokens: it moves the current date and time from the top of the system prompt into a
# trailing context block, so the prompt's prefix, and the provider's cache of it, stays the
# same from one day to the next.)

# %%
plan = client.chat.completions.simulate(**agent_request)
print(f"tokens before {plan.tokens_before}, after {plan.tokens_after}, saved {plan.tokens_saved}")
print(f"estimated savings: ${plan.estimated_savings:.4f} per call")
for transform in plan.transforms:
    print(f"  {transform.name:24} saved {transform.tokens_saved:6} tokens "
          f"in {transform.messages_changed} message(s)")

# %% [markdown]
# User and assistant text is never changed; what shrank are the tool outputs. Long JSON arrays
# keep the items that matter (errors, the first and last ones, items a question names) and
# mark each cut with `{"__headroom_truncated": n}`; a digest line identifies the original.

# %%
ERROR_EVENT = re.compile(r'"level":\s*"ERROR"')
planned = {m.get("tool_call_id"): m for m in plan.messages if m["role"] == "tool"}
for message in agent_request["messages"]:
    if message["role"] == "tool":
        before, after = message["content"], planned[message["tool_call_id"]]["content"]
        print(f"{message['tool_call_id']:16} {len(before):6} -> {len(after):5} characters, "
              f"ERROR events {len(ERROR_EVENT.findall(before))} -> "
              f"{len(ERROR_EVENT.findall(after))}")
print("\nthe end of the compressed logs:\n...", planned["call_logs_1"]["content"][-420:])

# %% [markdown]
# ## 4. Optimize
#
# Pass `headroom_mode="optimize"` on a call (or build the client with
# `default_mode="optimize"`). The API now receives the planned messages: compare the prompt
# tokens billed with the audited call above.

# %%
reply = client.chat.completions.create(**agent_request, headroom_mode="optimize")
print(reply.choices[0].message.content)
print("prompt tokens billed:", reply.usage.prompt_tokens)

# %% [markdown]
# Streaming passes through untouched; the record is written when the stream ends.

# %%
stream = client.chat.completions.create(
    model=MODEL,
    messages=[{"role": "user", "content": "Name three prime numbers."}],
    stream=True,
    stream_options={"include_usage": True},
    headroom_mode="optimize",
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="")
print()

# %% [markdown]
# ## 5. Summary and report
#
# `get_summary()` adds up the store; `generate_report` turns it into one self-contained HTML
# file (no CDN, opens offline) with the waste by category and tool, the costliest requests
# and recommendations.

# %%
summary = client.get_summary()
for key in ("total_requests", "audit_count", "optimize_count", "total_tokens_before",
            "total_tokens_after", "total_tokens_saved", "estimated_cost_saved_usd"):
    print(f"{key:26} {summary[key]}")

# %%
report = generate_report(store_url=STORE_URL, output_path=WORKDIR / "report.html")
print(f"report: {report} ({report.stat().st_size // 1024} KiB)")
client.close()

# %% [markdown]
# Next: `02_langchain.ipynb` and `03_llamaindex.ipynb` do the same from inside those
# frameworks, and `04_agent_budget.ipynb` follows a long agent session as its context grows.
