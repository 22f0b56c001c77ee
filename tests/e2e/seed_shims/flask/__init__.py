"""A stand-in for the part of Flask the seed 004 snippet uses (Flask, request, jsonify, @app.route,
app.run), so that the snippet copied from the document runs as written. `request.get_data()` is
the raw body; `request.json` the parsed one. app.run() takes its port from $PORT (0: any free
port) and prints `listening <port>` once it is ready. It serves with the tests' handler
(tests/loopback_http.py: the repository root is on the snippet's path)."""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from tests.loopback_http import QuietHandler

_local = threading.local()


class _Request:
    @property
    def headers(self) -> Any:
        return _local.headers

    def get_data(self) -> bytes:
        return _local.body

    @property
    def json(self) -> Any:
        return json.loads(_local.body)


request = _Request()


def jsonify(value: Any) -> bytes:
    return json.dumps(value).encode()


class Flask:
    def __init__(self, name: str) -> None:
        self._routes: dict[tuple[str, str], Any] = {}

    def route(self, path: str, methods: list[str]) -> Any:
        def register(function: Any) -> Any:
            for method in methods:
                self._routes[(method, path)] = function
            return function

        return register

    def run(self, port: int) -> None:
        routes = self._routes

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                _local.body = self.read_body()
                _local.headers = self.headers
                view = routes.get(("POST", self.path.split("?")[0]))
                body, status = view() if view else (b"no route", 404)
                self.reply(status, "application/json", body)

        server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
        sys.stdout.write(f"listening {server.server_address[1]}\n")
        sys.stdout.flush()
        server.serve_forever()
