"""A loopback OpenAI-compatible server for the test suite: the real ``openai`` SDK talks real
HTTP to it, and tests assert on the exact bytes it received.

Standard library only (``http.server`` in a daemon thread) plus Headroom's own token counting.
``POST /v1/chat/completions`` answers plain JSON or SSE streams with text, tool calls (arguments
generated from the tool's JSON schema), structured output, usage with cached tokens from a
simulated prefix cache, and scripted errors. Replies can be queued in order with
``server.queue(text_reply(...), error_reply(429), ...)``; with nothing queued the default
behaviour applies.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from headroom.encodings import get_encoding
from headroom.models import resolve_model
from headroom.tokens import count_text, count_tokens

from .prefix_cache import PrefixCache
from .schema_example import example_from_schema

DEFAULT_TEXT = "Hello! This is a deterministic reply from the loopback test server."
CREATED = 1_700_000_000
FINGERPRINT = "fp_loopback"


# -- what the server received ---------------------------------------------------------------


class Headers(dict[str, str]):
    """Request headers with case-insensitive lookup (keys stored lower-case)."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


@dataclass
class ReceivedRequest:
    """One request exactly as it arrived."""

    method: str
    path: str
    headers: Headers
    body: bytes
    # "complete", "client_closed" (the client hung up mid-stream) or "cut" (a cut_stream_reply)
    stream_state: str | None = None
    chunks_sent: int = 0

    @property
    def json(self) -> Any:
        """The parsed body, or None if it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


# -- scripted replies -----------------------------------------------------------------------


@dataclass
class Reply:
    """A scripted answer to the next chat completion request.

    ``delay`` waits before answering (for client timeouts); ``chunk_delay`` waits between SSE
    chunks (to let a client hang up mid-stream)."""

    text: str | None = None
    tool_calls: list[tuple[str, Any]] | None = None
    usage: Mapping[str, Any] | None = None
    finish_reason: str | None = None
    status: int = 200
    error: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunk_delay: float = 0.0
    cut_after: int | None = None  # stop the stream (or body) after this many chunks
    raw_body: bytes | None = None


def text_reply(
    text: str = DEFAULT_TEXT,
    *,
    usage: Mapping[str, Any] | None = None,
    finish_reason: str = "stop",
    delay: float = 0.0,
    chunk_delay: float = 0.0,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An assistant message with ``text``; ``usage`` overrides the computed usage fields."""
    return Reply(
        text=text,
        usage=usage,
        finish_reason=finish_reason,
        delay=delay,
        chunk_delay=chunk_delay,
        headers=dict(headers or {}),
    )


def tool_call_reply(
    calls: list[tuple[str, Any]],
    *,
    content: str | None = None,
    usage: Mapping[str, Any] | None = None,
    delay: float = 0.0,
    chunk_delay: float = 0.0,
) -> Reply:
    """An assistant message calling tools: ``[(name, arguments dict or JSON string), ...]``."""
    return Reply(
        text=content,
        tool_calls=list(calls),
        usage=usage,
        finish_reason="tool_calls",
        delay=delay,
        chunk_delay=chunk_delay,
    )


def error_reply(
    status: int,
    message: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    error_type: str | None = None,
    code: str | None = None,
    delay: float = 0.0,
) -> Reply:
    """An OpenAI-style error body with HTTP ``status`` (429, 500, 400, ...)."""
    default_type = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_exceeded",
    }.get(status, "server_error")
    error = {
        "message": message or f"loopback error {status}",
        "type": error_type or default_type,
        "param": None,
        "code": code or default_type,
    }
    return Reply(status=status, error=error, headers=dict(headers or {}), delay=delay)


def cut_stream_reply(text: str = DEFAULT_TEXT, *, after: int = 3) -> Reply:
    """A reply whose connection drops after ``after`` chunks: a stream that stops mid-way
    (no ``[DONE]``, no final chunk), or a truncated JSON body for a non-stream request."""
    return Reply(text=text, finish_reason="stop", cut_after=after)


def raw_reply(body: bytes, *, status: int = 200, content_type: str = "application/json") -> Reply:
    """Exactly ``body`` as the response (for malformed-response tests)."""
    return Reply(status=status, raw_body=body, headers={"content-type": content_type})


# -- the server -----------------------------------------------------------------------------


class _QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print clients hanging up (tests do that)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class OpenAIServer:
    """The loopback server: start once, ``reset()`` between tests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = _QuietServer((host, port), _Handler)
        self._httpd.openai_server = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._requests: list[ReceivedRequest] = []
        self._counter = 0
        self.prefix_cache = PrefixCache()
        # Consulted when nothing is queued, before the default behaviour: body -> Reply or
        # None (None falls through to the default). Cleared by reset().
        self.responder: Any = None

    # lifecycle
    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> OpenAIServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="loopback-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # scripting and inspection
    def queue(self, *replies: Reply) -> None:
        """Answer the next chat completion requests with ``replies``, in order."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._counter = 0
            self.responder = None
        self.prefix_cache.reset()

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> bool:
        """Poll ``predicate()`` until true or ``timeout`` seconds pass (server-side effects
        such as noticing a client hang-up happen on the server's own thread)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.01)
        return bool(predicate())

    # used by the handler
    def _receive(self, request: ReceivedRequest) -> int:
        with self._lock:
            self._requests.append(request)
            self._counter += 1
            return self._counter

    def _next_reply(self) -> Reply | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "loopback-openai/1.0"
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass

    @property
    def app(self) -> OpenAIServer:
        return self.server.openai_server  # type: ignore[attr-defined,no-any-return]

    def do_GET(self) -> None:  # noqa: N802
        request = self._read()
        path = request.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [_model(m) for m in _MODELS]})
        elif path.startswith("/v1/models/"):
            self._send_json(200, _model(path.rsplit("/", 1)[1]))
        else:
            self._not_found(path)

    def do_POST(self) -> None:  # noqa: N802
        request = self._read()
        path = request.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/chat/completions":
            self._chat(request)
        elif path == "/v1/embeddings":
            self._embeddings(request)
        else:
            self._not_found(path)

    def do_DELETE(self) -> None:  # noqa: N802
        request = self._read()
        self._not_found(request.path)

    # -- plumbing
    def _read(self) -> ReceivedRequest:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = Headers({k.lower(): v for k, v in self.headers.items()})
        request = ReceivedRequest(self.command, self.path, headers, body)
        self.request_number = self.app._receive(request)
        return request

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] = {}) -> None:
        self._send_bytes(status, json.dumps(payload).encode("utf-8"), headers)

    def _send_bytes(
        self,
        status: int,
        body: bytes,
        headers: Mapping[str, str] = {},
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        lowered = {k.lower(): v for k, v in headers.items()}
        self.send_header("content-type", lowered.pop("content-type", content_type))
        self.send_header("content-length", str(len(body)))
        self.send_header("x-request-id", f"req_loopback_{self.request_number}")
        for key, value in lowered.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _not_found(self, path: str) -> None:
        self._send_json(
            404,
            {
                "error": {
                    "message": f"unknown path {path}",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "unknown_url",
                }
            },
        )

    # -- endpoints
    def _chat(self, request: ReceivedRequest) -> None:
        body = request.json
        reply = self.app._next_reply()
        if reply is not None and reply.delay:
            time.sleep(reply.delay)
        if reply is not None and reply.raw_body is not None:
            self._send_bytes(reply.status, reply.raw_body, reply.headers)
            return
        if reply is not None and reply.error is not None:
            self._send_json(reply.status, {"error": dict(reply.error)}, reply.headers)
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_json(400, _error_body("'messages' is a required property"))
            return
        responder = self.app.responder
        reply = reply or (responder(body) if responder is not None else None)
        reply = reply or _default_reply(body)
        completion = _Completion(self.app, body, reply, self.request_number)
        if body.get("stream"):
            self._stream(request, completion, reply)
        elif reply.cut_after is not None:
            self._truncated(completion.as_json())
        else:
            self._send_json(200, completion.as_json(), reply.headers)

    def _stream(self, request: ReceivedRequest, completion: _Completion, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-request-id", f"req_loopback_{self.request_number}")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            for index, event in enumerate(completion.sse_events()):
                if reply.cut_after is not None and index >= reply.cut_after:
                    request.stream_state = "cut"
                    self._drop_connection()
                    return
                data = event.encode("utf-8")
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                request.chunks_sent += 1
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            request.stream_state = "complete"
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            request.stream_state = "client_closed"
            self.close_connection = True

    def _truncated(self, payload: Any) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self._drop_connection()

    def _drop_connection(self) -> None:
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _embeddings(self, request: ReceivedRequest) -> None:
        body = request.json if isinstance(request.json, dict) else {}
        inputs = body.get("input", "")
        items = inputs if isinstance(inputs, list) else [inputs]
        data = [
            {"object": "embedding", "index": i, "embedding": _hash_vector(str(item))}
            for i, item in enumerate(items)
        ]
        model = str(body.get("model", "text-embedding-3-small"))
        tokens = sum(count_text(str(item)) for item in items)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


# -- building completions -------------------------------------------------------------------


class _Completion:
    """One chat completion (message, usage, ids) rendered as JSON or as SSE chunks."""

    def __init__(self, server: OpenAIServer, body: dict[str, Any], reply: Reply, number: int):
        self.body = body
        self.reply = reply
        self.model = str(body.get("model", "gpt-4o"))
        self.id = f"chatcmpl-loopback{number:08d}"
        self.choices = max(1, int(body["n"])) if isinstance(body.get("n"), int) else 1
        self.tool_calls: list[dict[str, Any]] = [
            {
                "id": f"call_loopback{number:04d}{i:02d}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for i, (name, args) in enumerate(reply.tool_calls or [])
        ]
        self.usage = self._usage(server)

    def _usage(self, server: OpenAIServer) -> dict[str, Any]:
        try:
            prompt = count_tokens(self.body["messages"], self.model, self.body.get("tools"))
            cached = server.prefix_cache.cached_tokens(self.body, prompt)
        except Exception:  # noqa: BLE001 - odd requests still get an answer
            prompt, cached = 0, 0
        encoding = resolve_model(self.model).encoding
        completion = count_text(self.reply.text or "", encoding)
        for call in self.tool_calls:
            completion += count_text(call["function"]["name"], encoding)
            completion += count_text(call["function"]["arguments"], encoding)
        completion *= self.choices
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        override = dict(self.reply.usage or {})
        if isinstance(override.get("prompt_tokens_details"), Mapping):
            usage["prompt_tokens_details"].update(override.pop("prompt_tokens_details"))
        usage.update(override)
        if "total_tokens" not in override:
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return usage

    def _message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": self.reply.text,
            "refusal": None,
            "annotations": [],
        }
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return message

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "service_tier": "default",
            "choices": [
                {
                    "index": i,
                    "message": self._message(),
                    "logprobs": None,
                    "finish_reason": self.reply.finish_reason or "stop",
                }
                for i in range(self.choices)
            ],
            "usage": self.usage,
        }

    def _chunk(self, choices: list[dict[str, Any]], with_usage_field: bool) -> str:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "service_tier": "default",
            "choices": choices,
        }
        if with_usage_field:
            chunk["usage"] = None
        return "data: " + json.dumps(chunk) + "\n\n"

    def sse_events(self) -> Iterator[str]:
        """role, content piece by piece (or tool-call deltas), finish_reason, usage, [DONE]."""
        options = self.body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        encoding = resolve_model(self.model).encoding

        def delta(index: int, payload: dict[str, Any], finish: str | None = None) -> str:
            choice = {"index": index, "delta": payload, "logprobs": None, "finish_reason": finish}
            return self._chunk([choice], include_usage)

        for i in range(self.choices):
            yield delta(i, {"role": "assistant", "content": "", "refusal": None})
            for piece in token_pieces(self.reply.text or "", encoding):
                yield delta(i, {"content": piece})
            for n, call in enumerate(self.tool_calls):
                head = {
                    "index": n,
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": ""},
                }
                yield delta(i, {"tool_calls": [head]})
                for piece in token_pieces(call["function"]["arguments"], encoding):
                    yield delta(i, {"tool_calls": [{"index": n, "function": {"arguments": piece}}]})
            yield delta(i, {}, self.reply.finish_reason or "stop")
        if include_usage:
            final = {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": self.model,
                "system_fingerprint": FINGERPRINT,
                "service_tier": "default",
                "choices": [],
                "usage": self.usage,
            }
            yield "data: " + json.dumps(final) + "\n\n"
        yield "data: [DONE]\n\n"


def token_pieces(text: str, encoding: str = "o200k_base") -> list[str]:
    """``text`` split at token boundaries (joined back, the pieces give ``text`` exactly)."""
    if not text:
        return []
    enc = get_encoding(encoding)
    pieces: list[str] = []
    pending = b""
    for token in enc.encode_ordinary(text):
        pending += enc.decode_single_token_bytes(token)
        try:
            pieces.append(pending.decode("utf-8"))
            pending = b""
        except UnicodeDecodeError:
            continue
    if pending:
        pieces.append(pending.decode("utf-8", "replace"))
    return pieces


def _default_reply(body: dict[str, Any]) -> Reply:
    """Tool call, structured output or a short text, as the contract describes."""
    tool = _tool_to_call(body)
    if tool is not None:
        fn = tool["function"]
        return tool_call_reply([(fn["name"], example_from_schema(fn.get("parameters") or {}))])
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        if response_format.get("type") == "json_schema":
            spec = response_format.get("json_schema") or {}
            schema = spec.get("schema") if isinstance(spec, dict) else None
            return text_reply(json.dumps(example_from_schema(schema or {})))
        if response_format.get("type") == "json_object":
            return text_reply(json.dumps({"answer": DEFAULT_TEXT}))
    return text_reply(DEFAULT_TEXT)


def _tool_to_call(body: dict[str, Any]) -> dict[str, Any] | None:
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    choice = body.get("tool_choice")
    if choice == "none":
        return None
    messages = body["messages"]
    if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool":
        return None
    functions = [t for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        for tool in functions:
            if tool["function"].get("name") == wanted:
                return tool
    return functions[0] if functions else None


def _error_body(message: str) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-3.5-turbo", "text-embedding-3-small")


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": "loopback"}


def _hash_vector(text: str, dim: int = 16) -> list[float]:
    digest = hashlib.sha256(text.encode("utf-8", "replace")).digest()
    return [round((b - 128) / 128, 6) for b in digest[:dim]]
