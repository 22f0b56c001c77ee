"""Webhook receivers on 127.0.0.1 for the tests: one HTTP server that answers each POST as told."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One POST as a receiver saw it, and what it answered."""

    path: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes
    status: int
    received_at: float = field(default_factory=time.monotonic)
    """time.monotonic() on arrival."""

    @property
    def accepted(self) -> bool:
        return self.status < 300

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Answer = Callable[[str, dict[str, str], bytes], tuple[int, bytes] | tuple[int, bytes, dict[str, str]]]
"""(path, headers with lower-cased names, body) → the status and the text/plain body to answer,
and optionally headers to answer with (e.g. `Retry-After`)."""


class QuietHandler(BaseHTTPRequestHandler):
    """A test server's request handler: whole answers with `reply`, and no access log on stderr."""

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def reply(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _PostHandler(QuietHandler):
    server: _PostServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, payload, *extra = self.server.answer(self.path, headers, body)
        self.reply(status, "text/plain", payload, extra[0] if extra else None)


class _PostServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        super().__init__(("127.0.0.1", 0), _PostHandler)


class PostServer:
    """Serves POSTs on a free port of 127.0.0.1 from a daemon thread until `close`."""

    def __init__(self, answer: Answer, *, name: str = "receiver") -> None:
        self._server = _PostServer(answer)
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
