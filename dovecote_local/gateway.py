"""The HTTP API (API Gateway v2) on 127.0.0.1, emulated in front of the in-process handlers.

Each request becomes a payload format 2.0 proxy event for the function its route targets.
Authorized routes first run the Lambda authorizer (REQUEST type, simple responses) with
the Authorization header as identity source, whose result is cached per header value for
the authorizer's TTL. The edge answers exactly as API Gateway does where API Gateway
answers itself: 401 `Unauthorized` without an identity, 403 `Forbidden` when the
authorizer says no, 404 `Not Found` for an unknown route, 500 when a function fails.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from dovecote_local.lambdas import FunctionError, LambdaRuntime

log = logging.getLogger("dovecote-local")

API_ID = "local"
STAGE = "$default"
ACCOUNT_ID = "123456789012"
MAX_BODY_BYTES = 10 * 1024 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


@dataclass(frozen=True)
class GatewayRoute:
    method: str
    path: str
    function_name: str
    authorized: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when `method` and `path` match this route, else None."""
        if method != self.method:
            return None
        pattern, actual = self.path.strip("/").split("/"), path.strip("/").split("/")
        if len(pattern) != len(actual):
            return None
        parameters = {}
        for expected, segment in zip(pattern, actual, strict=True):
            if expected.startswith("{") and expected.endswith("}"):
                if not segment:
                    return None
                parameters[expected[1:-1]] = unquote(segment)
            elif expected != segment:
                return None
        return parameters


@dataclass(frozen=True)
class Authorizer:
    function_name: str
    identity_header: str = "authorization"
    cache_ttl_seconds: int = 60


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _gateway_message(status: int, message: str) -> GatewayResponse:
    body = json.dumps({"message": message}).encode()
    return GatewayResponse(status, [("content-type", "application/json")], body)


class AuthorizerCache:
    def __init__(self, ttl_seconds: int) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, identity: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(identity)
            if entry is None or entry[0] < time.monotonic():
                self._entries.pop(identity, None)
                return None
            return entry[1]

    def put(self, identity: str, result: dict[str, Any]) -> None:
        if self._ttl > 0:
            with self._lock:
                self._entries[identity] = (time.monotonic() + self._ttl, result)


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    target: str
    """Path and query string, as on the request line."""
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    host: str


def is_text(content_type: str) -> bool:
    content_type = content_type.lower()
    return not content_type or any(marker in content_type for marker in _TEXT_TYPES)


class HttpApi:
    """Turns HTTP requests into handler invocations, independent of any server."""

    def __init__(
        self, runtime: LambdaRuntime, routes: list[GatewayRoute], authorizer: Authorizer | None, region: str
    ) -> None:
        self._runtime = runtime
        self._routes = routes
        self._authorizer = authorizer
        self._region = region
        self._cache = AuthorizerCache(authorizer.cache_ttl_seconds if authorizer else 0)

    def handle(self, request: IncomingRequest) -> GatewayResponse:
        split = urlsplit(request.target)
        path = split.path or "/"
        for route in self._routes:
            parameters = route.match(request.method, path)
            if parameters is not None:
                break
        else:
            return _gateway_message(404, "Not Found")
        event = self._proxy_event(request, route, path, split.query, parameters)
        if route.authorized and self._authorizer is not None:
            outcome = self._authorize(self._authorizer, event, path)
            if isinstance(outcome, GatewayResponse):
                return outcome
            event["requestContext"]["authorizer"] = {"lambda": outcome}
        try:
            result = self._runtime.invoke(route.function_name, event)
        except FunctionError as error:
            log.warning("%s failed: %s", route.route_key, error)
            return _gateway_message(500, "Internal Server Error")
        return self._response(result, event["requestContext"]["requestId"])

    def _authorize(self, authorizer: Authorizer, event: dict[str, Any], path: str) -> dict[str, Any] | GatewayResponse:
        """The authorizer's context, or API Gateway's own answer when the request goes no further."""
        identity = event["headers"].get(authorizer.identity_header)
        if not identity:
            return _gateway_message(401, "Unauthorized")
        result = self._cache.get(identity)
        if result is None:
            authorizer_event = {
                **{k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")},
                "type": "REQUEST",
                "routeArn": f"arn:aws:execute-api:{self._region}:{ACCOUNT_ID}:{API_ID}/{STAGE}/"
                f"{event['requestContext']['http']['method']}{path}",
                "identitySource": [identity],
            }
            try:
                result = self._runtime.invoke(authorizer.function_name, authorizer_event)
            except FunctionError as error:
                log.warning("authorizer failed: %s", error)
                return _gateway_message(500, "Internal Server Error")
            if not isinstance(result, dict) or not isinstance(result.get("isAuthorized"), bool):
                log.warning("authorizer returned no isAuthorized boolean: %r", result)
                return _gateway_message(500, "Internal Server Error")
            self._cache.put(identity, result)
        if not result["isAuthorized"]:
            return _gateway_message(403, "Forbidden")
        context = result.get("context") or {}
        return dict(context)

    def _proxy_event(
        self, request: IncomingRequest, route: GatewayRoute, path: str, query: str, parameters: dict[str, str]
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in request.headers:
            lower = name.lower()
            if lower == "cookie":
                cookies.extend(part.strip() for part in value.split(";") if part.strip())
                continue
            headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
        headers["x-forwarded-proto"] = "http"  # API Gateway sets it ("https" there)
        query_parameters: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            query_parameters[name] = f"{query_parameters[name]},{value}" if name in query_parameters else value
        now = datetime.now(UTC)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "domainName": request.host,
                "domainPrefix": request.host.split(".")[0],
                "http": {
                    "method": request.method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.source_ip,
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": secrets.token_urlsafe(12),
                "routeKey": route.route_key,
                "stage": STAGE,
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": False,
        }
        if cookies:
            event["cookies"] = cookies
        if query_parameters:
            event["queryStringParameters"] = query_parameters
        if parameters:
            event["pathParameters"] = parameters
        if request.body:
            if is_text(headers.get("content-type", "")):
                try:
                    event["body"] = request.body.decode("utf-8")
                except UnicodeDecodeError:
                    event["body"] = base64.b64encode(request.body).decode()
                    event["isBase64Encoded"] = True
            else:
                event["body"] = base64.b64encode(request.body).decode()
                event["isBase64Encoded"] = True
        return event

    @staticmethod
    def _response(result: Any, request_id: str) -> GatewayResponse:
        extra = [("apigw-requestid", request_id)]
        if not (isinstance(result, dict) and "statusCode" in result):
            # Payload format 2.0 without a statusCode: the result is the JSON body of a 200.
            text = result if isinstance(result, str) else json.dumps(result)
            return GatewayResponse(200, [("content-type", "application/json"), *extra], text.encode())
        headers: list[tuple[str, str]] = []
        for name, value in (result.get("headers") or {}).items():
            headers.append((name, str(value)))
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((name, str(v)) for v in values)
        headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        return GatewayResponse(int(result["statusCode"]), headers + extra, body)


class _RequestHandler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(_gateway_message(413, "Request Entity Too Large"))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        request = IncomingRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            host=self.headers.get("host", ""),
        )
        try:
            response = self.server.api.handle(request)
        except Exception:
            log.exception("gateway error")
            response = _gateway_message(500, "Internal Server Error")
        self._send(response)

    def _send(self, response: GatewayResponse) -> None:
        self.send_response_only(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "date"):
                self.send_header(name, value)
        if "content-type" not in names and response.body:
            self.send_header("content-type", "application/json")
        self.send_header("date", formatdate(usegmt=True))
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, api: HttpApi) -> None:
        self.api = api
        super().__init__(("127.0.0.1", port), _RequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for `--port`, receivers, moto)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
