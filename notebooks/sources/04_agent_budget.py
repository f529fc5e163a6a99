"""Source of notebooks/04_agent_budget.ipynb (build it with notebooks/build_notebooks.py)."""

# %% [markdown]
# # An agent session on a budget
#
# Agents are where context grows fastest: every tool call appends its output to the
# conversation, and each new request re-sends all of it. This notebook runs a twelve-turn
# on-call agent whose tools return large JSON documents, with Headroom in optimize mode, and
# plots three things over the session:
#
# 1. prompt tokens per request, as the agent holds the conversation and as Headroom sends it;
# 2. what Headroom removed, and when the rolling window started dropping old tool calls;
# 3. the provider's prompt-cache hits, which Headroom protects by sliding the window in steps.
#
# To see the window at work within a few turns, we tell Headroom the model's window is
# 16,000 tokens. The agent reaches the API at `OPENAI_BASE_URL` with `OPENAI_API_KEY`.

# %%
import json
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw to files; the figures are shown below as images
import matplotlib.pyplot as plt
from IPython.display import Image, display
from openai import OpenAI

from headroom import HeadroomClient

BASE_URL = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
API_KEY = os.environ["OPENAI_API_KEY"]  # set it in the shell before starting Jupyter
MODEL = os.environ.get("HEADROOM_NOTEBOOK_MODEL", "gpt-4o-mini")
CONTEXT_WINDOW = 16_000  # pretend the model's window is this small
MAX_ANSWER_TOKENS = 400  # reserved for the answer: Headroom's budget is the rest
WORKDIR = Path(tempfile.mkdtemp(prefix="headroom-agent-"))
STORE_URL = f"sqlite:///{WORKDIR / 'headroom.db'}"


def find_examples() -> Path:
    """The repository's examples/ folder, looked for from here upwards."""
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "examples" / "agent_session.json").is_file():
            return folder / "examples"
    raise FileNotFoundError("examples/agent_session.json not found: run from a Headroom checkout")


print(f"API: {BASE_URL}  model: {MODEL}\nstore: {STORE_URL}")

# %% [markdown]
# ## The agent's world
#
# The system prompt, the three tools and their outputs come from `examples/agent_session.json`
# (an on-call assistant for a web shop). The stand-in tools replay the example's outputs,
# rotated a little on every call so that no two results are identical: an incident search
# returns 300 results, a log fetch 160 events.

# %%
example = json.loads((find_examples() / "agent_session.json").read_text(encoding="utf-8"))
SYSTEM_PROMPT = example["messages"][0]
TOOLS = example["tools"]
RECORDED_OUTPUTS = {}
for message in example["messages"]:
    for call in message.get("tool_calls") or []:
        result = next(m for m in example["messages"] if m.get("tool_call_id") == call["id"])
        RECORDED_OUTPUTS[call["function"]["name"]] = json.loads(result["content"])


def run_tool(name: str, call_number: int) -> str:
    """A stand-in for the real tool: the recorded output, its list rotated per call."""
    output = RECORDED_OUTPUTS[name]
    items = output if isinstance(output, list) else next(
        v for v in output.values() if isinstance(v, list)
    )
    shift = (7 * call_number) % len(items)
    rotated = items[shift:] + items[:shift]
    if isinstance(output, list):
        return json.dumps(rotated, indent=2)
    return json.dumps({k: rotated if v is items else v for k, v in output.items()}, indent=2)


for name in RECORDED_OUTPUTS:
    print(f"{name:18} {len(run_tool(name, 0)):6} characters of JSON")

# %% [markdown]
# ## The agent loop
#
# A plain tool-calling loop, written as if Headroom were not there: the agent keeps the whole
# conversation in `messages` and sends all of it on every request. The only Headroom parts
# are the wrapped client, `default_mode="optimize"` and the (pretend) context window. The
# first request of each turn asks for the tool the question needs; later ones let the model
# choose, and after three tool rounds it must answer.

# %%
QUESTIONS = [
    ("Checkout latency spiked last night. Which incidents look related?", "search_incidents"),
    ("Which errors did the payments service log around the spike?", "fetch_logs"),
    ("Was there a payments deployment shortly before the first error?", "list_deployments"),
    ("Have we seen payments gateway timeouts before? Search the tracker.", "search_incidents"),
    ("Show me the checkout logs for the same hour.", "fetch_logs"),
    ("Any checkout deployments in the last day?", "list_deployments"),
    ("Search for incidents mentioning the connection pool.", "search_incidents"),
    ("Fetch the inventory logs: did inventory see errors too?", "fetch_logs"),
    ("List the inventory deployments as well.", "list_deployments"),
    ("Look for earlier incidents about the circuit breaker opening.", "search_incidents"),
    ("Fetch the payments logs again for the last hour: is it still failing?", "fetch_logs"),
    ("Summarise the evidence: what caused the spike and who should be paged?", None),
]

client = HeadroomClient(
    original_client=OpenAI(base_url=BASE_URL, api_key=API_KEY),
    store_url=STORE_URL,
    default_mode="optimize",
    model_context_limits={MODEL: CONTEXT_WINDOW},
)

messages = [SYSTEM_PROMPT]
turn_of_request = []  # which turn each request belonged to
tool_calls = 0
for turn, (question, tool) in enumerate(QUESTIONS, start=1):
    messages.append({"role": "user", "content": question})
    for step in range(4):
        if step == 0 and tool:
            choice = {"type": "function", "function": {"name": tool}}
        else:
            choice = "auto" if step < 3 else "none"
        reply = client.chat.completions.create(
            model=MODEL, messages=messages, tools=TOOLS, tool_choice=choice,
            max_tokens=MAX_ANSWER_TOKENS,
        )
        turn_of_request.append(turn)
        answer = reply.choices[0].message
        if not answer.tool_calls:
            messages.append({"role": "assistant", "content": answer.content})
            break
        messages.append({
            "role": "assistant",
            "content": answer.content,
            "tool_calls": [call.model_dump() for call in answer.tool_calls],
        })
        for call in answer.tool_calls:
            tool_calls += 1
            messages.append({"role": "tool", "tool_call_id": call.id,
                             "content": run_tool(call.function.name, tool_calls)})

print(f"{len(QUESTIONS)} turns, {len(turn_of_request)} requests, {tool_calls} tool calls, "
      f"{len(messages)} messages in the agent's history")
print("last answer:", messages[-1]["content"])

# %% [markdown]
# Every request left a record in the store. Below, per request: the turn it belongs to, the
# prompt tokens of the conversation the agent *held*, the tokens Headroom *sent*, the
# messages the rolling window *dropped*, and the prompt tokens the provider reported as
# *cached*.

# %%
records = list(reversed(client.get_metrics(limit=None)))
requests = range(1, len(records) + 1)
budget = CONTEXT_WINDOW - MAX_ANSWER_TOKENS
print(" req turn   held   sent  dropped  cached")
for number, (turn, r) in enumerate(zip(turn_of_request, records, strict=True), start=1):
    print(f"{number:4} {turn:4} {r.tokens_before:6} {r.tokens_after:6} {r.dropped_messages:8} "
          f"{r.cached_tokens or 0:7}")

# %% [markdown]
# ## 1. Tokens per request
#
# Without Headroom the prompt grows with every tool result: by the end the agent's
# conversation is far beyond the window. Compression alone keeps it small for the first turns;
# once the compressed conversation would no longer fit, the rolling window drops the oldest
# tool calls, so what is sent stays under the budget.

# %%
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(requests, [r.tokens_before for r in records], "o-", label="held by the agent")
ax.plot(requests, [r.tokens_after for r in records], "o-", label="sent by Headroom")
ax.axhline(budget, color="grey", linestyle="--", label=f"budget ({budget} tokens)")
ax.set_xlabel("request")
ax.set_ylabel("prompt tokens")
ax.set_yscale("log")
ax.set_title("Prompt tokens per request")
ax.legend()
fig.tight_layout()
fig.savefig(WORKDIR / "tokens_per_request.png", dpi=100)
plt.close(fig)
display(Image(filename=WORKDIR / "tokens_per_request.png"))

# %% [markdown]
# ## 2. What was removed
#
# The bars split each request's savings by transform: tool output compression (the JSON
# documents shortened, errors and named items kept) and the rolling window (old tool calls
# dropped whole, call and result together). The line counts the messages the window dropped.
# The window drops in steps of an eighth of the budget, so consecutive requests often drop
# exactly the same messages (the flat stretches) and keep the provider's cache warm; when a
# turn adds more than a step, as the big tool outputs here do late in the session, it drops
# again on the next request.

# %%
compression = [r.transforms.get("tool_output_compression", 0) for r in records]
window = [r.transforms.get("rolling_window", 0) for r in records]
fig, ax = plt.subplots(figsize=(9, 4))
ax.bar(requests, compression, label="tool output compression")
ax.bar(requests, window, bottom=compression, label="rolling window")
ax.set_xlabel("request")
ax.set_ylabel("tokens saved")
ax.set_title("Tokens saved per request, by transform")
dropped_axis = ax.twinx()
dropped_axis.step(requests, [r.dropped_messages for r in records], where="mid", color="black",
                  label="messages dropped")
dropped_axis.set_ylabel("messages dropped")
ax.legend(loc="upper left")
dropped_axis.legend(loc="upper center")
fig.tight_layout()
fig.savefig(WORKDIR / "removed_per_request.png", dpi=100)
plt.close(fig)
display(Image(filename=WORKDIR / "removed_per_request.png"))

# %% [markdown]
# Which messages did the window drop from the final request? `simulate` plans the current
# conversation without sending it. The window drops whole tool calls (the call and its
# result) oldest first, and only then whole turns; the questions and answers stay. One marker
# message tells the model what was left out. The system prompt and the latest turns are
# always kept.

# %%
plan = client.chat.completions.simulate(
    model=MODEL, messages=messages, tools=TOOLS, max_tokens=MAX_ANSWER_TOKENS
)
sent_tool_results = {m.get("tool_call_id") for m in plan.messages if m["role"] == "tool"}
for m in plan.messages:
    if str(m.get("content", "")).startswith("[headroom:"):
        print("marker:", m["content"])
turn = 0
for m in messages[1:]:
    if m["role"] == "user":
        turn += 1
    if m["role"] == "tool":
        kept = "kept (compressed)" if m["tool_call_id"] in sent_tool_results else "dropped"
        print(f"turn {turn:2}: tool result {m['tool_call_id'][:24]:24} {kept}")

# %% [markdown]
# ## 3. Prompt-cache hits
#
# Providers bill cached prompt tokens at a discount (OpenAI: half price or less) when a
# request starts with the same tokens as a recent one. Headroom keeps that prefix stable: a
# message's compressed form never depends on what comes after it, and the window drops in
# steps, so most requests reuse the previous one's prefix. Each new drop step starts a new
# prefix: the cached part falls back to the system prompt and the tool definitions.

# %%
prompt = [r.prompt_tokens or 0 for r in records]
cached = [r.cached_tokens or 0 for r in records]
fig, ax = plt.subplots(figsize=(9, 4))
ax.bar(requests, prompt, color="#c9d6ea", label="prompt tokens")
ax.bar(requests, cached, color="#2f6fdf", label="of which cached")
ax.set_xlabel("request")
ax.set_ylabel("tokens")
ax.set_title(f"Prompt-cache hits: {sum(cached) / max(sum(prompt), 1):.0%} of prompt tokens")
ax.legend()
fig.tight_layout()
fig.savefig(WORKDIR / "cache_hits.png", dpi=100)
plt.close(fig)
display(Image(filename=WORKDIR / "cache_hits.png"))

# %% [markdown]
# ## The session in numbers

# %%
summary = client.get_summary()
held, sent = summary["total_tokens_before"], summary["total_tokens_after"]
print(f"prompt tokens held by the agent: {held:8}")
print(f"prompt tokens sent:              {sent:8} ({1 - sent / held:.0%} fewer)")
print(f"of which cached by the provider: {summary['total_cached_tokens']:8}")
print(f"estimated saving: ${summary['estimated_cost_saved_usd']:.3f} at {MODEL} prices")
client.close()
