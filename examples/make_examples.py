"""Generate the example requests in this folder (synthetic data, deterministic).

    python examples/make_examples.py

Writes ``agent_session.json`` (one multi-turn agent request with large JSON tool results) and
``requests.jsonl`` (logged request bodies over a week, of several models and tools, with the
provider's usage where the log kept it, plus two lines that are not valid requests).
Everything is made up here from a seeded random generator; no real data is used.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVICES = ["checkout", "payments", "inventory", "search", "auth", "shipping", "notifications"]
REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-2"]
WORDS = [
    "latency", "timeout", "retry", "queue", "cache", "replica", "shard", "deploy", "rollback",
    "config", "quota", "pool", "connection", "upstream", "gateway", "certificate", "memory",
    "threshold", "spike", "regression", "alert",
]

SYSTEM_PROMPT = """You are Atlas, the on-call assistant of the Acme Shop platform team.
Current date: {date}. Current time: {time} UTC.

You help engineers investigate incidents across the services that make up the shop: checkout,
payments, inventory, search, auth, shipping and notifications. You can search the incident
tracker, fetch structured service logs, list recent deployments and query the metrics store.

How to work:
1. Before answering, gather evidence with the tools. Prefer narrow queries (one service, a short
   time range) over broad ones, and say which tool results your answer relies on.
2. Quote log lines and incident identifiers exactly as the tools return them. Never invent an
   identifier, a timestamp, a host name or a number that no tool returned.
3. When logs contain ERROR or FATAL events, report each distinct error message once with its
   first and last occurrence and how many times it happened.
4. Correlate errors with deployments: a deployment to the same service within thirty minutes
   before the first error is a suspect and must be named with its version and author.
5. If the evidence is inconclusive, say what is missing and which query would settle it.
6. Keep answers short: a one-line summary, then bullet points, then the next steps. Use UTC.

Escalation policy: page the owning team only for customer-facing impact (checkout or payments
errors above one percent of requests for five minutes, or any data-loss risk). For everything
else open a ticket with the evidence attached. Never restart production services yourself and
never change feature flags; propose the change and let a human apply it.

Service owners: checkout and payments belong to the Commerce team, inventory and shipping to
Fulfilment, search to Discovery, auth to Identity and notifications to Messaging. The on-call
rota, runbooks and dashboards are linked from each incident in the tracker.

Data handling: logs may contain customer e-mail addresses or order numbers. Do not repeat
personal data in answers; refer to orders by their last four digits only.

Glossary: "p99" is the 99th percentile latency over one minute; "error budget" is the share of
failed requests the service level objective allows over thirty days (0.1% for checkout and
payments, 0.5% elsewhere); "brownout" is a partial outage where some requests fail; "canary"
is the first one percent of hosts that receive a new deployment.

Runbook index (open the runbook before proposing a fix):
{runbooks}
"""

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "search_incidents",
            "description": "Full-text search over the incident tracker.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "service": {"type": "string", "enum": SERVICES},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
                },
                "required": ["query"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "fetch_logs",
            "description": "Structured log events of one service in a time range.",
            "parameters": {
                "type": "object",
                "properties": {
                    "service": {"type": "string", "enum": SERVICES},
                    "since": {"type": "string", "format": "date-time"},
                    "until": {"type": "string", "format": "date-time"},
                    "level": {"type": "string", "enum": ["DEBUG", "INFO", "WARN", "ERROR"]},
                },
                "required": ["service", "since"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "list_deployments",
            "description": "Deployments of one service, newest first.",
            "parameters": {
                "type": "object",
                "properties": {
                    "service": {"type": "string", "enum": SERVICES},
                    "limit": {"type": "integer"},
                },
                "required": ["service"],
            },
        },
    },
]

EXTRA_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "run_sql",
            "description": "Run a read-only SQL query on the analytics replica.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
]


class Maker:
    """Seeded builders for the synthetic tool results."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def words(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def incidents(self, count: int, day: datetime) -> list[dict[str, Any]]:
        rng = self.rng
        items = []
        for i in range(count):
            opened = day - timedelta(hours=rng.randint(1, 24 * 60))
            items.append(
                {
                    "id": f"INC-{2000 + i}",
                    "title": f"{rng.choice(SERVICES)}: {self.words(5)}",
                    "service": rng.choice(SERVICES),
                    "severity": rng.choice(["sev3", "sev3", "sev2", "sev4"]),
                    "status": rng.choice(["resolved", "resolved", "resolved", "monitoring"]),
                    "opened_at": opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "score": round(rng.uniform(0.2, 0.99), 3),
                }
            )
        hot = items[187 % count]
        hot.update(
            title="checkout: p99 latency spike after payments gateway timeout", severity="sev1"
        )
        return items

    def logs(self, count: int, service: str, start: datetime) -> dict[str, Any]:
        rng = self.rng
        events = []
        for i in range(count):
            at = start + timedelta(seconds=7 * i)
            events.append(
                {
                    "ts": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 999):03d}Z",
                    "level": rng.choice(["INFO"] * 8 + ["DEBUG", "WARN"]),
                    "service": service,
                    "host": f"{service}-{rng.randint(1, 12):02d}.{rng.choice(REGIONS)}",
                    "message": f"request handled in {rng.randint(8, 240)} ms ({self.words(3)})",
                    "trace_id": f"{rng.getrandbits(64):016x}",
                }
            )
        for index, message in (
            (count // 3, "upstream gateway timeout after 30000 ms (provider=stripe)"),
            (count // 3 + 4, "upstream gateway timeout after 30000 ms (provider=stripe)"),
            (count // 2, "connection pool exhausted: 64/64 connections in use"),
            (count - 20, "circuit breaker OPEN for payments-gateway"),
        ):
            events[index].update(level="ERROR", message=message)
        return {"service": service, "count": count, "events": events}

    def deployments(self, service: str, day: datetime) -> list[dict[str, Any]]:
        return [
            {
                "service": service,
                "version": f"v2.{40 - i}.{self.rng.randint(0, 9)}",
                "author": self.rng.choice(["mira", "jonas", "priya", "tomas", "li"]),
                "deployed_at": (day - timedelta(hours=6 * i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "status": "succeeded" if i else "rolled_back",
            }
            for i in range(12)
        ]

    def sql_rows(self, count: int) -> dict[str, Any]:
        return {
            "columns": ["order_id", "service", "amount_eur", "status"],
            "rows": [
                [f"ORD-{self.rng.randint(10000, 99999)}", self.rng.choice(SERVICES),
                 round(self.rng.uniform(5, 400), 2), self.rng.choice(["paid", "failed", "paid"])]
                for _ in range(count)
            ],
        }


def call(call_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}
        ],
    }


def result(call_id: str, value: Any, pretty: bool = True) -> dict[str, Any]:
    text = json.dumps(value, indent=2) if pretty else json.dumps(value)
    return {"role": "tool", "tool_call_id": call_id, "content": text}


RUNBOOK_TOPICS = [
    "elevated 5xx rate", "p99 latency above objective", "connection pool exhaustion",
    "circuit breaker open", "stuck consumer lag", "certificate expiry", "disk pressure",
    "memory leak after deploy", "cache stampede", "replica lag", "rate limited by provider",
    "failed canary",
]


def runbooks() -> str:
    return "\n".join(
        f"- {service}: {topic} -> runbooks/{service}/{topic.replace(' ', '-')}.md"
        for service in SERVICES[:4]
        for topic in RUNBOOK_TOPICS[:8]
    )


def system(moment: datetime) -> dict[str, Any]:
    return {
        "role": "system",
        "content": SYSTEM_PROMPT.format(
            date=moment.strftime("%Y-%m-%d"), time=moment.strftime("%H:%M"), runbooks=runbooks()
        ),
    }


def agent_session(maker: Maker, moment: datetime) -> dict[str, Any]:
    """The example request: an investigation two turns deep, with large tool results."""
    messages = [
        system(moment),
        {"role": "user", "content": "Checkout latency spiked last night. Find the related "
         "incidents and tell me which errors the payments service logged."},
        call("call_search_1", "search_incidents", {"query": "checkout latency", "limit": 300}),
        result("call_search_1", {"total": 300, "results": maker.incidents(300, moment)}),
        call("call_logs_1", "fetch_logs",
             {"service": "payments", "since": (moment - timedelta(hours=10)).isoformat()}),
        result("call_logs_1", maker.logs(160, "payments", moment - timedelta(hours=10))),
        {"role": "assistant", "content": "INC-2187 (sev1) matches: a p99 latency spike in "
         "checkout after payments gateway timeouts. The payments log shows three distinct "
         "errors: two upstream gateway timeouts (provider=stripe), one exhausted connection pool "
         "and the circuit breaker opening for payments-gateway."},
        {"role": "user", "content": "Was there a payments deployment shortly before the first "
         "timeout? Who made it?"},
        call("call_deploys_1", "list_deployments", {"service": "payments", "limit": 12}),
        result("call_deploys_1", maker.deployments("payments", moment)),
    ]
    return {"model": "gpt-4o", "messages": messages, "tools": TOOLS, "temperature": 0.2}


def cached_tokens(previous: int | None) -> int:
    """What OpenAI's cache serves when a request extends the previous one of its session."""
    if previous is None or previous < 1024:
        return 0
    return previous - previous % 128


def logged_requests(maker: Maker, start: datetime) -> list[str]:
    """A week of logged request bodies: agent sessions that grow turn by turn, one a day,
    plus short one-off requests of other models and tools."""
    from headroom import count_tokens

    rng = maker.rng
    lines: list[str] = []
    models = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4o"]
    for day in range(7):
        hours, minutes = 9 + rng.randint(0, 8), rng.randint(0, 59)
        moment = start + timedelta(days=day, hours=hours, minutes=minutes)
        model = models[day]
        service = SERVICES[day % len(SERVICES)]
        messages: list[dict[str, Any]] = [
            system(moment),
            {"role": "user", "content": f"Anything unusual in {service} this morning?"},
        ]
        steps: list[tuple[str, Any, bool]] = [
            ("search_incidents", {"total": 24, "results": maker.incidents(24, moment)}, True),
            (
                "fetch_logs",
                maker.logs(24 + 3 * day, service, moment - timedelta(hours=3)),
                day % 2 == 0,
            ),
            ("list_deployments", maker.deployments(service, moment), True),
        ]
        previous: int | None = None
        for turn, (name, value, pretty) in enumerate(steps[: 3 if day in (0, 5) else 1]):
            call_id = f"call_{day}_{turn}"
            messages.append(call(call_id, name, {"service": service}))
            messages.append(result(call_id, value, pretty))
            at = moment + timedelta(minutes=2 * turn)
            prompt = count_tokens(messages, model=model, tools=TOOLS)
            usage = {"prompt_tokens": prompt, "completion_tokens": rng.randint(20, 60),
                     "prompt_tokens_details": {"cached_tokens": cached_tokens(previous)}}
            previous = prompt
            lines.append(json.dumps({
                "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "request": {"model": model, "messages": messages, "tools": TOOLS},
                "usage": usage,
            }))
        # One-off requests without a logged response: bare request bodies.
        for k in range(2):
            at = moment + timedelta(hours=1 + k)
            if k == 0:
                body = {
                    "model": "gpt-4o-mini",
                    "messages": [
                        {"role": "system", "content": "You answer questions about the weather."},
                        {"role": "user", "content": f"Weather in city {day}?"},
                        call(f"w{day}", "get_weather", {"city": f"city {day}"}),
                        result(f"w{day}", {"temp_c": rng.randint(-5, 30), "sky": "clear"}, False),
                    ],
                    "tools": EXTRA_TOOLS[1:],
                }
            else:
                rows = maker.sql_rows(24 + 4 * day)
                question = "Which failed orders should we refund?"
                body = {
                    "model": "gpt-4.1",
                    "messages": [
                        {"role": "system", "content": "You write and explain SQL for analysts."},
                        {"role": "user", "content": question},
                        call(f"q{day}", "run_sql", {"query": "SELECT * FROM orders LIMIT 500"}),
                        result(f"q{day}", rows),
                        # The same result pasted again by a retry loop: repeated content.
                        call(f"r{day}", "run_sql", {"query": "SELECT * FROM orders LIMIT 500"}),
                        result(f"r{day}", rows),
                    ],
                    "tools": EXTRA_TOOLS[:1],
                }
            lines.append(json.dumps({"timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     "request": body}))
        if day == 2:
            lines.append('{"model": "gpt-4o", "messages": [{"role": "user", "content": "cut')
        if day == 4:
            lines.append(json.dumps({"model": "gpt-4o", "prompt": "a completions-API body"}))
    return lines


def main() -> None:
    maker = Maker(seed=20261128)
    session = agent_session(maker, datetime(2026, 11, 27, 7, 42, tzinfo=UTC))
    (HERE / "agent_session.json").write_text(json.dumps(session, indent=1) + "\n", "utf-8")
    lines = logged_requests(Maker(seed=7), datetime(2026, 11, 20, tzinfo=UTC))
    (HERE / "requests.jsonl").write_text("\n".join(lines) + "\n", "utf-8")


if __name__ == "__main__":
    main()
