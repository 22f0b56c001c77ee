"""A real HTTP server on 127.0.0.1 that plays canned Dovecote API answers and records requests.

Shared by the SDK and CLI tests (`from tests.unit.test_client_fake_api import FakeApi`);
the tests at the bottom pin down the fake itself.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import requests

TIMESTAMP = "2026-01-02T03:04:05.678Z"
SDK_API_KEY = "dvk_test_123"
"""The key of the `client` fixture (tests/unit/conftest.py)."""


def webhook_json(webhook_id: str = "wh_1", **fields: Any) -> dict[str, Any]:
    document = {
        "id": webhook_id,
        "object": "webhook",
        "url": f"https://example.com/{webhook_id}",
        "events": ["order.created", "order.paid"],
        "description": "",
        "enabled": True,
        "status": "enabled",
        "disabled_reason": None,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    return document | fields


def delivery_json(delivery_id: str = "del_1", **fields: Any) -> dict[str, Any]:
    document = {
        "id": delivery_id,
        "object": "delivery",
        "webhook_id": "wh_1",
        "event_id": "evt_1",
        "event": "order.created",
        "status": "failed",
        "status_reason": None,
        "attempt_count": 2,
        "response_status": 503,
        "latency_ms": 120,
        "error": "HTTP 503",
        "next_retry_at": None,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    return document | fields


def attempt_json(number: int, **fields: Any) -> dict[str, Any]:
    document = {
        "number": number,
        "attempted_at": TIMESTAMP,
        "response_status": 503,
        "latency_ms": 100 + number,
        "error": "HTTP 503",
        "response_excerpt": "unavailable",
        "next_retry_at": None,
    }
    return document | fields


def list_json(data: list[dict[str, Any]], next_cursor: str | None = None) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": next_cursor is not None, "next_cursor": next_cursor}


def error_json(error_type: str, message: str) -> dict[str, Any]:
    return {"error": {"type": error_type, "message": message}}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Lower-cased names."""
    body: Any


@dataclass(frozen=True)
class CannedResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: bytes | None = None
    delay: float = 0.0


class FakeApi:
    """Each route answers its queued responses in order; the last one repeats.

    `add(..., query={"cursor": "c2"})` answers only requests carrying those parameters,
    so pages can be told apart. Unknown routes answer 404 like the real API.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: list[tuple[str, str, dict[str, str], deque[CannedResponse]]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(
        self,
        method: str,
        path: str,
        status: int = 200,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw_body: bytes | None = None,
        delay: float = 0.0,
        query: dict[str, str] | None = None,
    ) -> Self:
        response = CannedResponse(status, body, headers or {}, raw_body, delay)
        with self._lock:
            for route_method, route_path, route_query, queue in self._routes:
                if (route_method, route_path, route_query) == (method, path, query or {}):
                    queue.append(response)
                    return self
            self._routes.append((method, path, query or {}, deque([response])))
        return self

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def answer(self, request: RecordedRequest) -> CannedResponse:
        with self._lock:
            self.requests.append(request)
            candidates = [
                (route_query, queue)
                for route_method, route_path, route_query, queue in self._routes
                if route_method == request.method
                and route_path == request.path
                and all(request.query.get(name) == [value] for name, value in route_query.items())
            ]
            if not candidates:
                return CannedResponse(404, error_json("not_found", "no such route"))
            _, queue = max(candidates, key=lambda candidate: len(candidate[0]))
            return queue.popleft() if len(queue) > 1 else queue[0]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            target = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = RecordedRequest(
                method=self.command,
                path=target.path,
                query=parse_qs(target.query),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            response = api.answer(request)
            if response.delay:
                time.sleep(response.delay)
            payload = response.raw_body
            if payload is None:
                payload = b"" if response.body is None else json.dumps(response.body).encode()
            self.send_response(response.status)
            if response.raw_body is None and response.body is not None:
                self.send_header("Content-Type", "application/json")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def unused_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_fake_api_replays_queued_answers_and_repeats_the_last() -> None:
    with FakeApi() as api:
        api.add("GET", "/v1/things", 503).add("GET", "/v1/things", 200, {"ok": True})
        statuses = [requests.get(f"{api.url}/v1/things?x=1", timeout=5).status_code for _ in range(3)]
        assert statuses == [503, 200, 200]
        assert api.requests[0].query == {"x": ["1"]}
        assert requests.get(f"{api.url}/v1/other", timeout=5).status_code == 404


def test_fake_api_tells_pages_apart_by_query() -> None:
    with FakeApi() as api:
        api.add("GET", "/v1/things", body={"page": 1})
        api.add("GET", "/v1/things", body={"page": 2}, query={"cursor": "c2"})
        assert requests.get(f"{api.url}/v1/things", timeout=5).json() == {"page": 1}
        assert requests.get(f"{api.url}/v1/things?cursor=c2", timeout=5).json() == {"page": 2}
