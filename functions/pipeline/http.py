"""One delivery POST: SSRF-checked, pinned to the checked address, bounded in time and size.

- The URL is resolved and checked again now (`resolve_delivery_target`), and the connection
  goes to an address that passed the check, never to a fresh lookup of the name (DNS
  rebinding). TLS still verifies the certificate against the host name (SNI and
  hostname check use the name), and the Host header carries the name.
- The whole exchange (connect, TLS, request, response headers, response body) has one
  deadline, the profile's attempt timeout. Socket timeouts are set to the time left, and a
  watchdog shuts the socket down at the deadline, so a server that trickles bytes forever
  cannot hold the attempt past it.
- Redirects are never followed; a 3xx is just a status.
- At most 64 KiB of the response body is read, then the connection is dropped.
- A 429 or 503's `Retry-After` is read (functions/core/classify.py `retry_after_seconds`),
  capped at the profile's longest delay: the attempt's `retry_after_seconds`.
- urllib3 (already in the Lambda runtime, under botocore) keeps the asset small; no
  environment proxies apply.
"""

# ruff: noqa: PLC0415 - imports are deferred to first use to keep the cold start small

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from functions.core.classify import classify, retry_after_seconds
from functions.core.constants import VERSION
from functions.core.errors import UnsafeUrlError
from functions.core.models import RESPONSE_EXCERPT_BYTES, Webhook, utc_now
from functions.core.urls import DeliveryTarget, Resolver, UrlPolicy, resolve_delivery_target, system_resolver
from functions.pipeline.sender import SendResult, SignedMessage

if TYPE_CHECKING:
    from urllib3.connection import HTTPConnection

USER_AGENT = f"Dovecote/{VERSION}"
MAX_RESPONSE_BYTES = 64 * 1024
_READ_CHUNK_BYTES = 8 * 1024
_MAX_ADDRESSES_TRIED = 3


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    """None when no response status arrived."""
    latency_ms: int
    error: str | None = None
    body_prefix: bytes = b""
    """The first bytes of the response body (at most MAX_RESPONSE_BYTES)."""
    retry_after: str | None = None
    """The response's `Retry-After` header, as sent."""


class _ConnectFailed(Exception):
    pass


class _Watchdog:
    """Shuts a connection's socket down at the deadline, ending any blocked read or write."""

    def __init__(self, connection: HTTPConnection, seconds: float) -> None:
        self.fired = False
        self._connection = connection
        self._socket: socket.socket | None = None
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        """Keep the connected socket: http.client drops `connection.sock` for a closing response."""
        self._socket = sock

    def _fire(self) -> None:
        self.fired = True
        sock = self._socket or self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, even under TLS

    def cancel(self) -> None:
        self._timer.cancel()


def _host_header(target: DeliveryTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default_port = 443 if target.scheme == "https" else 80
    return host if target.port == default_port else f"{host}:{target.port}"


def _root_cause(error: BaseException) -> BaseException:
    """urllib3 wraps socket errors (NewConnectionError, ConnectTimeoutError…); the socket's is clearer."""
    while isinstance(error.__cause__, OSError):
        error = error.__cause__
    return error


def _is_timeout(error: BaseException) -> bool:
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    return isinstance(error, TimeoutError | socket.timeout | Urllib3Timeout)


def _describe(error: BaseException) -> str:
    error = _root_cause(error)
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {error.reason or error}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset by the endpoint"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the endpoint closed the connection without a response"
    if isinstance(error, http.client.HTTPException):
        return f"invalid HTTP response: {type(error).__name__}"
    text = str(error) or type(error).__name__
    return text[:200]


def _network_errors() -> tuple[type[BaseException], ...]:
    from urllib3.exceptions import HTTPError

    return (OSError, http.client.HTTPException, HTTPError)


@dataclass(frozen=True)
class HttpSender:
    """The HTTPS destination: POSTs the signed message to the endpoint's URL."""

    policy: UrlPolicy
    timeout_seconds: float
    resolver: Resolver = system_resolver
    user_agent: str = USER_AGENT
    retry_after_cap_seconds: int | None = None
    """The profile's longest delay: the most a `Retry-After` can ask for."""

    def send(self, endpoint: Webhook, message: SignedMessage) -> SendResult:
        result = self.post(endpoint.url, message.body, {**message.headers, "User-Agent": self.user_agent})
        return SendResult(
            verdict=classify(result.status),
            latency_ms=result.latency_ms,
            status=result.status,
            error=result.error,
            response_excerpt=result.body_prefix[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace"),
            retry_after_seconds=retry_after_seconds(
                result.status, result.retry_after, utc_now(), self.retry_after_cap_seconds
            ),
        )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        started = time.monotonic()
        deadline = started + self.timeout_seconds

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            target = resolve_delivery_target(url, self.policy, self.resolver)
        except UnsafeUrlError as refusal:
            return HttpResult(None, elapsed_ms(), f"refused at send time: {refusal.message}")
        except ConnectionError as unresolved:
            return HttpResult(None, elapsed_ms(), str(unresolved))
        error_text = "no address to connect to"
        for address in target.addresses[:_MAX_ADDRESSES_TRIED]:
            if time.monotonic() >= deadline:
                error_text = f"timed out after {self.timeout_seconds:g} s"
                break
            try:
                status, prefix, problem, retry_after = self._exchange(target, address, body, headers, deadline)
            except _ConnectFailed as failure:
                error_text = str(failure)
                continue
            return HttpResult(status, elapsed_ms(), problem, prefix, retry_after)
        return HttpResult(None, elapsed_ms(), error_text)

    def _connection(self, target: DeliveryTarget, address: str, timeout: float) -> HTTPConnection:
        from urllib3.connection import HTTPConnection, HTTPSConnection

        if target.scheme == "https":
            return HTTPSConnection(
                address,
                target.port,
                timeout=timeout,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
            )
        return HTTPConnection(address, target.port, timeout=timeout)

    def _exchange(
        self, target: DeliveryTarget, address: str, body: bytes, headers: dict[str, str], deadline: float
    ) -> tuple[int | None, bytes, str | None, str | None]:
        """(status, body prefix, problem, Retry-After header) of one exchange with `address`."""
        connection = self._connection(target, address, deadline - time.monotonic())
        watchdog = _Watchdog(connection, deadline - time.monotonic())
        status: int | None = None
        retry_after: str | None = None
        received = bytearray()
        try:
            try:
                connection.connect()
            except (OSError, ValueError) as connect_error:
                raise _ConnectFailed(self._failure_text(connect_error, watchdog)) from None
            watchdog.watch(connection.sock)
            connection.timeout = max(deadline - time.monotonic(), 0.001)
            try:
                connection.request(
                    "POST",
                    target.path,
                    body=body,
                    headers={**headers, "Host": _host_header(target)},
                    preload_content=False,
                    decode_content=False,
                )
            except ValueError as invalid:  # e.g. a header value that HTTP cannot carry
                return None, b"", f"the request could not be sent: {invalid}", None
            response = connection.getresponse()
            status = response.status
            retry_after = response.headers.get("Retry-After")
            while len(received) < MAX_RESPONSE_BYTES:
                if watchdog.fired or time.monotonic() >= deadline:
                    problem = f"response body not read completely: {self._timed_out_text()}"
                    return status, bytes(received), problem, retry_after
                chunk = response.read(min(_READ_CHUNK_BYTES, MAX_RESPONSE_BYTES - len(received)), decode_content=False)
                if not chunk:
                    break
                received += chunk
            if watchdog.fired:  # the shutdown at the deadline can look like the end of the body
                problem = f"response body not read completely: {self._timed_out_text()}"
                return status, bytes(received), problem, retry_after
            return status, bytes(received), None, retry_after
        except _network_errors() as error:
            reason = self._failure_text(error, watchdog)
            if status is not None:
                reason = f"response body not read completely: {reason}"
            return status, bytes(received), reason, retry_after
        finally:
            watchdog.cancel()
            connection.close()

    def _failure_text(self, error: BaseException, watchdog: _Watchdog) -> str:
        if watchdog.fired or _is_timeout(_root_cause(error)):
            return self._timed_out_text()
        return _describe(error)

    def _timed_out_text(self) -> str:
        return f"timed out after {self.timeout_seconds:g} s"
