"""A loopback HTTP server that speaks the Messages API, SSE events included.

Each request takes the next scripted reply (the last one repeats) and is recorded
with its headers, exact body bytes and arrival time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OVERLOADED = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "Overloaded"},
}
RATE_LIMITED = {
    "type": "error",
    "error": {"type": "rate_limit_error", "message": "Rate limited"},
}
UNAUTHORIZED = {
    "type": "error",
    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
}


@dataclass(frozen=True)
class Reply:
    """One scripted reply.

    kind: "answer" (full stream), "status" (an HTTP error with a JSON body),
    "stream_error" (text, then an in-stream `event: error`), "cut" (text, then
    the connection closes before message_stop), "hang" (never answers).
    """

    kind: str = "answer"
    text: str = "The answer."
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    usage: tuple[int, int] = (120, 8)  # input, output tokens


def answer(text: str = "The answer.", usage: tuple[int, int] = (120, 8)) -> Reply:
    return Reply("answer", text, usage=usage)


def status(
    code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Reply:
    return Reply("status", status=code, body=body, headers=headers or {})


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class MockAnthropic:
    """Start with `with MockAnthropic(replies) as api:`; point hc at api.url."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [answer()]
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self, key: str = "test-key") -> dict[str, str]:
        return {"ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": key}

    def __enter__(self) -> MockAnthropic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            index = min(len(self.requests), len(self.replies)) - 1
            return self.replies[index]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                received = Received(
                    "POST",
                    self.path,
                    dict(self.headers.items()),
                    body,
                    time.monotonic(),
                )
                mock._serve(self, mock._next(received), body)

        return Handler

    def _serve(
        self, handler: BaseHTTPRequestHandler, reply: Reply, body: bytes
    ) -> None:
        if reply.kind == "hang":
            self._stop.wait(120)
            return
        if reply.kind == "status":
            data = json.dumps(reply.body).encode()
            handler.send_response(reply.status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
            return
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.send_header("connection", "close")
        handler.end_headers()
        request = json.loads(body or b"{}")
        model = request.get("model", "claude-test")
        for event, payload in _events(reply, model):
            handler.wfile.write(
                f"event: {event}\ndata: {json.dumps(payload)}\n\n".encode()
            )
            handler.wfile.flush()
        handler.close_connection = True


def _events(reply: Reply, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    input_tokens, output_tokens = reply.usage
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_test",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": input_tokens,
                    "output_tokens": 1,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            },
        },
    )
    yield (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        },
    )
    yield "ping", {"type": "ping"}
    pieces = _split(reply.text)
    for piece in pieces:
        yield (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            },
        )
    if reply.kind == "stream_error":
        yield "error", reply.body or OVERLOADED
        return
    if reply.kind == "cut":
        return
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _split(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
