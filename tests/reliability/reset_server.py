"""A loopback HTTP server that answers each request with scripted bytes and then resets the
connection (SO_LINGER 0: the peer gets a TCP RST, not a clean close), for the upstream-fault
tests. The shared loopback server only closes cleanly; a reset is a different failure."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections import deque
from typing import Any

CHUNK_ID = "chatcmpl-reset"


def sse_chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    """One SSE event holding one chat.completion.chunk, framed as an HTTP/1.1 chunk."""
    payload = {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    data = ("data: " + json.dumps(payload) + "\n\n").encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def stream_then_reset(pieces: list[str]) -> bytes:
    """Stream headers, a role chunk and ``pieces`` of content; the reset follows."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    body = sse_chunk({"role": "assistant", "content": ""})
    return head + body + b"".join(sse_chunk({"content": piece}) for piece in pieces)


def half_json_then_reset() -> bytes:
    """A JSON reply promising more bytes than it sends before the reset."""
    body = json.dumps({"id": CHUNK_ID, "object": "chat.completion", "choices": []}).encode()
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body[: len(body) // 2]
    )


class ResetServer:
    """``queue(bytes)`` then point an SDK client at ``base_url``; ``requests`` holds bodies."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._replies: deque[bytes] = deque()
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def queue(self, *replies: bytes) -> None:
        self._replies.extend(replies)

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                self.requests.append(_read_request(conn))
                conn.sendall(self._replies.popleft() if self._replies else b"")
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return data
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        more = conn.recv(65536)
        if not more:
            break
        body += more
    return body
