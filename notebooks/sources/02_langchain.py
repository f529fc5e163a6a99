"""Source of notebooks/02_langchain.ipynb (build it with notebooks/build_notebooks.py)."""

# %% [markdown]
# # Headroom in LangChain
#
# Three ways in, from most to least involved:
#
# 1. `HeadroomChatOpenAI`, a drop-in `ChatOpenAI` that measures (audit) or trims (optimize)
#    every request, in an LCEL chain;
# 2. the same model driving a tool-calling agent, where most of the tokens are tool outputs;
# 3. `HeadroomCallbackHandler`, which records the same metrics from a chain you already have,
#    in audit mode, without changing a single request.
#
# The models reach the API at `OPENAI_BASE_URL` with `OPENAI_API_KEY`.

# %%
import json
import os
import tempfile
from pathlib import Path

from langchain.agents import create_agent
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from headroom.store import open_store
from langchain_headroom import HeadroomCallbackHandler, HeadroomChatOpenAI

BASE_URL = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
API_KEY = os.environ["OPENAI_API_KEY"]  # set it in the shell before starting Jupyter
MODEL = os.environ.get("HEADROOM_NOTEBOOK_MODEL", "gpt-4o-mini")
WORKDIR = Path(tempfile.mkdtemp(prefix="headroom-langchain-"))
STORE_URL = f"sqlite:///{WORKDIR / 'headroom.db'}"
print(f"API: {BASE_URL}  model: {MODEL}\nstore: {STORE_URL}")

# %% [markdown]
# ## 1. An LCEL chain
#
# `HeadroomChatOpenAI` takes every `ChatOpenAI` argument plus Headroom's: the mode, the store,
# and the other `headroom_*` options. It composes like any chat model.

# %%
llm = HeadroomChatOpenAI(
    model=MODEL, base_url=BASE_URL, api_key=API_KEY,
    headroom_mode="optimize", store_url=STORE_URL,
)
prompt = ChatPromptTemplate.from_messages([
    ("system", "You are an on-call assistant. Answer in two sentences."),
    ("human", "{question}"),
])
chain = prompt | llm | StrOutputParser()

print(chain.invoke({"question": "What is an error budget?"}))

# %% [markdown]
# The model keeps the plan of its last request: exact prompt tokens, and what optimize
# changed. A short chat like this one has no waste, and user and assistant text is never
# touched, so it goes out as it is.

# %%
plan = llm.last_plan
print(f"tokens before {plan.tokens_before}, after {plan.tokens_after}; "
      f"transforms applied: {plan.transforms_applied or 'none'}")

# %% [markdown]
# Streaming works the same way; the request is recorded when the stream ends.

# %%
for piece in chain.stream({"question": "What does p99 latency mean?"}):
    print(piece, end="")
print()

# %% [markdown]
# ## 2. A tool-calling agent
#
# Agents are where the waste is: each tool result stays in the conversation and is sent
# again with every later request. Two stand-in tools return what real ones often do, large
# pretty-printed JSON.

# %%
SERVICES = ["checkout", "payments", "inventory", "search", "auth"]


@tool
def search_incidents(query: str) -> str:
    """Search the incident tracker; returns matching incidents as JSON."""
    results = [
        {"id": f"INC-{2000 + i}", "service": SERVICES[i % 5], "severity": f"sev{1 + i % 4}",
         "title": f"{SERVICES[i % 5]} latency alert after deploy", "status": "resolved",
         "score": round(1 - i / 250, 3)}
        for i in range(200)
    ]
    return json.dumps({"query": query, "total": len(results), "results": results}, indent=2)


@tool
def fetch_logs(service: str) -> str:
    """Fetch the latest log events of one service as JSON."""
    events = [
        {"ts": f"2026-11-26T21:{i // 60:02d}:{i % 60:02d}Z",
         "level": "ERROR" if i % 40 == 7 else "INFO", "service": service,
         "message": "upstream gateway timeout" if i % 40 == 7 else f"handled in {20 + i % 90} ms"}
        for i in range(120)
    ]
    return json.dumps({"service": service, "events": events}, indent=2)


agent = create_agent(
    model=llm, tools=[search_incidents, fetch_logs],
    system_prompt="You are an on-call assistant. Use the tools, then answer briefly.",
)
state = agent.invoke({"messages": [("user", "Checkout is slow. Any related incidents?")]})
state = agent.invoke({"messages": [*state["messages"],
                                   ("user", "And what did payments log recently?")]})
print(state["messages"][-1].content)

# %% [markdown]
# Every model call left a record; the two chain calls above come first. From the agent's
# second request on, each request carries the tool results so far, which optimize compressed
# before sending: the JSON is minified, long arrays keep their important items, and each cut
# is marked in place. The agent's own `state["messages"]` still holds the full outputs.

# %%
for record in reversed(llm.get_metrics(limit=10)):
    saved = {name: tokens for name, tokens in record.transforms.items() if tokens}
    print(f"{record.messages_count:2} messages: {record.tokens_before:6} tokens held, "
          f"{record.tokens_after:5} sent, saved {saved or '-'}")

# %% [markdown]
# ## 3. Audit an existing chain with the callback handler
#
# Already have chains built on `ChatOpenAI` (or any chat model) and do not want to change
# them yet? Pass `HeadroomCallbackHandler` in the run config. It sees every chat model call,
# records the Context MRI and the provider's usage, and never alters a request.

# %%
existing_chain = prompt | ChatOpenAI(model=MODEL, base_url=BASE_URL, api_key=API_KEY) | (
    StrOutputParser()
)
handler = HeadroomCallbackHandler(store_url=STORE_URL)
answer = existing_chain.invoke(
    {"question": "Should I page the payments team for a 0.5% error rate?"},
    config={"callbacks": [handler]},
)
print(answer)
(record,) = handler.get_metrics(limit=1)
print(f"recorded: mode={record.mode}, {record.tokens_before} prompt tokens counted, "
      f"{record.prompt_tokens} billed")

# %% [markdown]
# Everything above went into one store, which the CLI (`headroom report`) and
# `headroom.generate_report` turn into an HTML report.

# %%
store = open_store(STORE_URL)
summary = store.summary()
store.close()
print({key: summary[key] for key in ("total_requests", "audit_count", "optimize_count",
                                      "total_tokens_before", "total_tokens_saved")})
