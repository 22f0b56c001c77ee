"""Webhook receivers on 127.0.0.1 for the tests: one HTTP server that answers each POST as told."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, dict[str, str], bytes], tuple[int, bytes]]
"""(path, headers with lower-cased names, body) → the status and the text/plain body to answer."""


class _PostHandler(BaseHTTPRequestHandler):
    server: _PostServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, payload = self.server.answer(self.path, headers, body)
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


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
