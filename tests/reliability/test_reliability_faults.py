"""The fault matrix: how every way a receiver can fail is classified, retried and ended.

Each case is a real server on 127.0.0.1 (a raw socket server where HTTP itself misbehaves).
A delivery goes through the real handlers and the synthesized retry state machine, executed
by moto with its Wait states recorded (tests/integration/pipeline_support.py), under the
miteos profile (5 attempts: 0, 30 s, 2 min, 15 min, 1 h) with a 1 s attempt timeout. For each
case the test asserts the attempts' statuses and errors, the Waits against the table, the
final state, that the connection count equals the attempt count (no hidden retries, no
redirect followed), that at most 64 KiB of a body was read and 1 KiB kept, and that the
Python heap did not grow with a 10 MB or endless body.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import socket
import ssl
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dovecote.profiles import shipped_profile_names
from functions.core.models import RESPONSE_EXCERPT_BYTES, DeliveryStatus
from functions.core.profile import load_profile
from functions.core.timestamps import iso
from functions.pipeline.http import MAX_RESPONSE_BYTES, HttpResult, HttpSender
from functions.store.deliveries import DeliveryStore
from tests.integration.pipeline_support import Pipeline, custom_profile, pipeline_under_moto
from tests.reliability.reliability_support import (
    RawServer,
    raw_server,
    read_http_request,
    report_figures,
    reset,
    stream_body,
)

BASE_PROFILE = "miteos"
ATTEMPT_TIMEOUT_SECONDS = 1
HEAP_CEILING_BYTES = 1024 * 1024
"""The most the Python heap may grow during one POST; a 10 MB body read whole would exceed it tenfold."""
TRICKLE_BYTES = 250
TRICKLE_PAUSE_SECONDS = 0.02
"""A trickle lasts 5 s, five times the attempt timeout: a client that honours its deadline hangs up first."""
TEN_MB = 10 * 1024 * 1024


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        running.use_profile(custom_profile(tmp_path, BASE_PROFILE, attempt_timeout_seconds=ATTEMPT_TIMEOUT_SECONDS))
        yield running


# Servers ----------------------------------------------------------------------------------------


def http_response(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever"]
    all_headers = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def answering(status: int, headers: dict[str, str] | None = None, body: bytes = b"ok") -> Callable[..., None]:
    def serve(connection: socket.socket, server: RawServer) -> None:
        server.record(read_http_request(connection))
        connection.sendall(http_response(status, headers, body))

    return serve


def slow_first(seconds: float) -> Callable[..., None]:
    """200 after `seconds` on the first connection (past the attempt timeout), at once after that."""

    def serve(connection: socket.socket, server: RawServer) -> None:
        server.record(read_http_request(connection))
        if len(server.requests) == 1:
            server.closing.wait(seconds)
        connection.sendall(http_response(200))

    return serve


def reset_after(prefix: bytes) -> Callable[..., None]:
    def serve(connection: socket.socket, server: RawServer) -> None:
        server.record(read_http_request(connection))
        if prefix:
            connection.sendall(prefix)
            time.sleep(0.05)
        reset(connection)

    return serve


def body_of(status: int, total: int | None, chunk: bytes) -> Callable[..., None]:
    """Headers announcing `total` bytes (None: an endless body without a length), then the body, fast."""

    def serve(connection: socket.socket, server: RawServer) -> None:
        server.record(read_http_request(connection))
        length = {"Content-Length": str(total)} if total is not None else {}
        head = f"HTTP/1.1 {status} Whatever\r\nContent-Type: application/octet-stream\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in length.items()) + "Connection: close\r\n\r\n"
        connection.sendall(head.encode())
        stream_body(connection, server, total, chunk)

    return serve


def trickle(status: int, headers: dict[str, str], version: str = "HTTP/1.1") -> Callable[..., None]:
    """The status and headers at once, then one body byte every 20 ms: TRICKLE_BYTES in all, unless the
    client hangs up first (its attempt timeout is a fifth of the trickle)."""

    def serve(connection: socket.socket, server: RawServer) -> None:
        server.record(read_http_request(connection))
        head = f"{version} {status} Whatever\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        connection.sendall((head + "\r\n").encode())
        sent = 0
        try:
            while sent < TRICKLE_BYTES and not server.closing.is_set():
                connection.sendall(b"x")
                sent += 1
                time.sleep(TRICKLE_PAUSE_SECONDS)
        except OSError:
            pass  # the client hung up
        finally:
            server.notes.append(sent)

    return serve


def tls_garbage(connection: socket.socket, server: RawServer) -> None:
    server.record(connection.recv(4096))  # the ClientHello
    connection.sendall(b"this is not TLS\r\n" * 8)


def silent(connection: socket.socket, server: RawServer) -> None:
    server.record(connection.recv(4096))
    server.closing.wait(5)  # never answers; the attempt timeout must end it


def not_http(connection: socket.socket, server: RawServer) -> None:
    server.record(read_http_request(connection))
    connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\nnot an HTTP response\r\n\r\n")


# The matrix -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    serve: Callable[..., None] | None
    """None: nothing listens on the port (connection refused)."""
    verdict: DeliveryStatus
    attempts: int
    statuses: list[int | None]
    error: str | None = None
    """A regex every failed attempt's error matches (None: no error recorded)."""
    success_error: str | None = None
    """A regex the successful attempt's error matches (None: no error recorded)."""
    scheme: str = "http"
    redirect: bool = False
    max_read: int = MAX_RESPONSE_BYTES
    excerpt: str | None = None
    """A regex the first attempt's stored excerpt matches."""
    trickle: bool = False
    """The server trickles its body for five attempt timeouts: the client must hang up before the end."""
    extra: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None
    """The `Retry-After` every answer carries: no attempt is due sooner (the table's delay is the least)."""


ALL = 5
RETRIED = DeliveryStatus.FAILED
CASES = [
    Case("500", answering(500, body=b"boom"), RETRIED, ALL, [500] * ALL, excerpt="^boom$"),
    Case("503 with Retry-After", answering(503, {"Retry-After": "120"}), RETRIED, ALL, [503] * ALL, retry_after=120),
    Case(
        "429 with Retry-After 3600",
        answering(429, {"Retry-After": "3600"}),
        RETRIED,
        ALL,
        [429] * ALL,
        retry_after=3600,
    ),
    Case("404", answering(404), RETRIED, ALL, [404] * ALL),
    Case("410 Gone", answering(410), DeliveryStatus.FAILED, 1, [410]),
    Case("301 elsewhere", None, RETRIED, ALL, [301] * ALL, redirect=True, extra={"status": 301}),
    Case("302 elsewhere", None, RETRIED, ALL, [302] * ALL, redirect=True, extra={"status": 302}),
    Case("307 elsewhere", None, RETRIED, ALL, [307] * ALL, redirect=True, extra={"status": 307}),
    Case("308 elsewhere", None, RETRIED, ALL, [308] * ALL, redirect=True, extra={"status": 308}),
    Case("200 after the timeout", slow_first(3), DeliveryStatus.SUCCEEDED, 2, [None, 200], r"^timed out after 1 s$"),
    Case("connection refused", None, RETRIED, ALL, [None] * ALL, r"^connection refused$"),
    Case("reset before the status line", reset_after(b""), RETRIED, ALL, [None] * ALL, r"reset|closed"),
    Case("reset mid-headers", reset_after(b"HTTP/1.1 200 OK\r\nContent-Ty"), RETRIED, ALL, [None] * ALL, r"reset|clos"),
    Case(
        "reset mid-body after 200",
        reset_after(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial"),
        DeliveryStatus.SUCCEEDED,
        1,
        [200],
        success_error=r"^response body not read completely: connection reset",
    ),
    Case(
        "reset mid-body after 500",
        reset_after(b"HTTP/1.1 500 Oops\r\nContent-Length: 1000\r\n\r\npartial"),
        RETRIED,
        ALL,
        [500] * ALL,
        r"^response body not read completely: connection reset",
    ),
    Case(
        "trickled body with a length (200)",
        trickle(200, {"Content-Length": str(10**9)}),
        DeliveryStatus.SUCCEEDED,
        1,
        [200],
        success_error=r"timed out after 1 s$",
        trickle=True,
    ),
    Case(
        "trickled body until close (200, Connection: close)",
        trickle(200, {"Connection": "close"}),
        DeliveryStatus.SUCCEEDED,
        1,
        [200],
        success_error=r"timed out after 1 s$",
        trickle=True,
    ),
    Case(
        "trickled body until close (200, HTTP/1.0)",
        trickle(200, {}, version="HTTP/1.0"),
        DeliveryStatus.SUCCEEDED,
        1,
        [200],
        success_error=r"timed out after 1 s$",
        trickle=True,
    ),
    Case("endless fast body (503)", body_of(503, None, b"y" * 65536), RETRIED, ALL, [503] * ALL, excerpt="^y{1024}$"),
    Case(
        "10 MB body (200)", body_of(200, TEN_MB, b"z" * 65536), DeliveryStatus.SUCCEEDED, 1, [200], excerpt="^z{1024}$"
    ),
    Case("10 MB body (500)", body_of(500, TEN_MB, b"z" * 65536), RETRIED, ALL, [500] * ALL, excerpt="^z{1024}$"),
    Case(
        "non-JSON body (200)",
        answering(200, body=b"\x00\xff<html>not json"),
        DeliveryStatus.SUCCEEDED,
        1,
        [200],
        excerpt="^\x00\ufffd<html>not json$",
    ),
    Case(
        "non-JSON body (500)",
        answering(500, body=b"<html><h1>502 Bad Gateway</h1>"),
        RETRIED,
        ALL,
        [500] * ALL,
        excerpt="^<html>",
    ),
    Case("not an HTTP response", not_http, RETRIED, ALL, [None] * ALL, r"invalid HTTP response|closed|Bad"),
    Case("TLS handshake failure", tls_garbage, RETRIED, ALL, [None] * ALL, r"^TLS error", scheme="https"),
    Case("TLS server that never answers", silent, RETRIED, ALL, [None] * ALL, r"^timed out", scheme="https"),
]


@contextmanager
def fault_server(case: Case) -> Iterator[tuple[str, RawServer | None, RawServer | None]]:
    """The case's URL, its server (None when nothing listens) and a redirect target."""
    with ExitStack() as stack:
        if case.redirect:
            target = stack.enter_context(raw_server(answering(200)))
            server = stack.enter_context(raw_server(answering(case.extra["status"], {"Location": target.url()})))
            yield server.url(), server, target
        elif case.serve is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            yield f"http://127.0.0.1:{port}/hooks", None, None
        else:
            server = stack.enter_context(raw_server(case.serve))
            yield server.url(case.scheme), server, None


@dataclass
class Run:
    results: list[HttpResult]
    heap_growth: list[int]
    """Per POST: the peak of what the Python heap gained during it."""

    @property
    def peak_bytes(self) -> int:
        return max(self.heap_growth, default=0)


def deliver_once(pipeline: Pipeline, url: str) -> tuple[Any, Run]:
    webhook, _ = pipeline.add_webhook(url)
    response = pipeline.publish("task.created", {"n": 1})
    assert response.status == 202, response.body
    assert pipeline.run_fanout() == {"batchItemFailures": []}
    run = Run([], [])
    real_post = HttpSender.post

    def recording_post(self: HttpSender, *args: Any, **kwargs: Any) -> HttpResult:
        # Attempts run one at a time (moto's Lambda calls are serial) and the rest of the
        # pipeline waits meanwhile, so what the heap gains during this call is this POST's.
        tracemalloc.start()
        try:
            result = real_post(self, *args, **kwargs)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        run.results.append(result)
        run.heap_growth.append(peak)
        return result

    with mock.patch.object(HttpSender, "post", recording_post):
        assert pipeline.run_deliver() == {"batchItemFailures": []}
        pipeline.wait_for_executions()
    return webhook, run


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_fault(pipeline: Pipeline, case: Case) -> None:
    table = pipeline.profile.retry_schedule_seconds
    with fault_server(case) as (url, server, redirect_target):
        webhook, run = deliver_once(pipeline, url)
        connections = server.connections if server else None
        target_connections = redirect_target.connections if redirect_target else 0

    delivery = pipeline.only_delivery(webhook)
    attempts = delivery.attempts
    # Classification: every attempt's status and error.
    assert [a.response_status for a in attempts] == case.statuses, [(a.response_status, a.error) for a in attempts]
    for attempt in attempts:
        delivered = attempt.response_status is not None and 200 <= attempt.response_status < 300
        expected = case.success_error if delivered else case.error
        if expected is None:
            assert attempt.error is None, attempt.error
        else:
            assert attempt.error is not None, (expected, attempt)
            assert re.search(expected, attempt.error), attempt.error
    # Attempts at the table's times (or later, as long as a Retry-After asks, counted from the answer):
    # the recorded Waits and each attempt's next_retry_at.
    asked = case.retry_after or 0
    assert pipeline.waits == [max(delay, asked) for delay in table[1 : case.attempts]]
    assert [a.next_retry_at is not None for a in attempts] == [True] * (case.attempts - 1) + [False]
    assert [a.retry_after_seconds for a in attempts] == [case.retry_after] * len(attempts)
    for attempt, delay in zip(attempts[:-1], table[1:], strict=False):
        assert attempt.next_retry_at is not None
        if delay > asked:
            assert (attempt.next_retry_at - attempt.attempted_at).total_seconds() == delay
        else:
            answered = attempt.latency_ms / 1000
            assert (attempt.next_retry_at - attempt.attempted_at).total_seconds() == pytest.approx(answered + asked)
    # Final state.
    assert delivery.status is case.verdict
    assert delivery.next_retry_at is None
    if case.verdict is DeliveryStatus.FAILED and case.attempts == ALL:
        assert delivery.status_reason == f"all {ALL} attempts failed"
        [execution] = pipeline.wait_for_executions()
        assert execution["status"] == "SUCCEEDED"
    if case.attempts == 1:
        assert pipeline.executions() == []
    if case.statuses == [410]:
        assert not pipeline.webhooks.get("acme", webhook.id).enabled
    # One connection per attempt: nothing retried behind the log's back; no redirect followed.
    if connections is not None:
        assert connections == len(attempts)
    assert target_connections == 0
    # Bounded reads and a bounded heap.
    assert len(run.results) == len(attempts)
    for result in run.results:
        assert len(result.body_prefix) <= case.max_read
    for attempt in attempts:
        assert len(attempt.response_excerpt) <= RESPONSE_EXCERPT_BYTES
    if case.excerpt is not None:
        assert re.search(case.excerpt, attempts[0].response_excerpt), attempts[0].response_excerpt[:80]
    assert run.peak_bytes < HEAP_CEILING_BYTES, run.heap_growth
    if case.trickle:
        assert server is not None
        assert server.notes, "the trickle never started"
        assert all(sent < TRICKLE_BYTES for sent in server.notes), (
            f"the client was still reading when the {TRICKLE_BYTES}-byte trickle ended ({server.notes}): "
            f"an attempt timeout of {ATTEMPT_TIMEOUT_SECONDS} s did not end the attempt"
        )
    report_figures(
        "fault-matrix",
        case=case.name,
        attempts=len(attempts),
        final=delivery.status.value,
        lost=0,
        peak_heap_bytes=run.peak_bytes,
        max_body_read=max(len(r.body_prefix) for r in run.results),
    )


def test_the_redirect_target_is_a_live_server_that_would_answer(pipeline: Pipeline) -> None:
    """The redirect cases' target is reachable: it received nothing only because nothing followed."""
    with raw_server(answering(200)) as target:
        _, run = deliver_once(pipeline, target.url())
        assert target.connections == 1
    assert [r.status for r in run.results] == [200]


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_every_shipped_table_is_followed_exactly_for_a_failing_endpoint(
    pipeline: Pipeline, profile_name: str, tmp_path: Any
) -> None:
    profile = load_profile(profile_name)
    pipeline.use_profile(custom_profile(tmp_path, profile_name, attempt_timeout_seconds=ATTEMPT_TIMEOUT_SECONDS))
    event_type = profile.event_types[0].name if profile.event_types else "user.created"
    with raw_server(answering(503)) as server:
        webhook, _ = pipeline.add_webhook(server.url())
        assert pipeline.publish(event_type, {"n": 1}).status == 202
        pipeline.run_fanout()
        pipeline.run_deliver()
        pipeline.wait_for_executions()
        assert server.connections == profile.max_attempts
    delivery = pipeline.only_delivery(webhook)
    assert pipeline.waits == profile.retry_delays_seconds
    assert [a.number for a in delivery.attempts] == list(range(1, profile.max_attempts + 1))
    scheduled = [(a.next_retry_at - a.attempted_at).total_seconds() for a in delivery.attempts if a.next_retry_at]
    assert scheduled == profile.retry_delays_seconds
    assert delivery.status is DeliveryStatus.FAILED
    report_figures("table-times", profile=profile_name, attempts=len(delivery.attempts), lost=0)


def test_tls_failure_is_a_certificate_problem_not_a_downgrade(pipeline: Pipeline) -> None:
    """An https endpoint with a self-signed certificate is refused (verified), never retried over http."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed_certificate())

    def serve(connection: socket.socket, server: RawServer) -> None:
        with context.wrap_socket(connection, server_side=True) as tls:
            server.record(read_http_request(tls))
            tls.sendall(http_response(200))

    with raw_server(serve) as server:
        webhook, _run = deliver_once(pipeline, server.url("https"))
        assert server.connections == ALL
    delivery = pipeline.only_delivery(webhook)
    assert all(a.response_status is None for a in delivery.attempts)
    assert all((a.error or "").startswith("TLS certificate rejected") for a in delivery.attempts), delivery.attempts
    assert server.requests == []  # no request was ever sent over an unverified connection
    assert delivery.status is DeliveryStatus.FAILED


def _self_signed_certificate() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory = tempfile.mkdtemp(prefix="dovecote-tls-")
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


# Crashes inside a retry attempt ------------------------------------------------------------------


def _crash_once_in_attempt(number: int, where: str) -> Callable[..., Any]:
    """A DeliveryStore method that raises once, in attempt `number` (after the POST, or before it)."""
    real = DeliveryStore.record_attempt if where == "after the POST" else DeliveryStore.find_with_attempt_keys
    crashed: list[bool] = []

    def record_attempt(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs["attempt"].number == number and not crashed:
            crashed.append(True)
            raise RuntimeError("the deliver function was killed between the POST and the log write")
        return real(self, *args, **kwargs)

    def find_with_attempt_keys(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = real(self, *args, **kwargs)
        if found is not None and len(found[1]) == number - 1 and not crashed:
            crashed.append(True)
            raise RuntimeError("ProvisionedThroughputExceededException: throttled (after the SDK's retries)")
        return found

    return record_attempt if where == "after the POST" else find_with_attempt_keys


@pytest.mark.parametrize("where", ["after the POST", "before the POST"])
def test_a_crash_inside_a_retry_attempt_is_retried_not_the_end_of_the_delivery(pipeline: Pipeline, where: str) -> None:
    """A deliver invocation that fails once in attempt 2 (a crash, a throttled read, a Lambda timeout)
    must not end the delivery: the first attempt's crash is retried by SQS, and the retry schedule
    has three rows left. The receiver answers 500 once, then 200."""
    method = "record_attempt" if where == "after the POST" else "find_with_attempt_keys"
    with raw_server(_answer_sequence([500], then=200)) as server:
        with mock.patch.object(DeliveryStore, method, _crash_once_in_attempt(2, where)):
            webhook, _ = deliver_once(pipeline, server.url())
        received = len(server.requests)
    delivery = pipeline.only_delivery(webhook)
    outcome = (delivery.status.value, delivery.status_reason, [a.response_status for a in delivery.attempts])
    assert delivery.status is DeliveryStatus.SUCCEEDED, f"{outcome}; the receiver got {received} requests"
    report_figures("retry-attempt-crash", where=where, final=delivery.status.value, lost=0)


def _answer_sequence(statuses: list[int], then: int) -> Callable[..., None]:
    def serve(connection: socket.socket, server: RawServer) -> None:
        server.record(read_http_request(connection))
        position = len(server.requests) - 1
        connection.sendall(http_response(statuses[position] if position < len(statuses) else then))

    return serve


# Retry groups: one endpoint's deliveries that failed in the same deliver batch share one execution ---------


GROUP_SIZE = 4
_EVENT_NUMBER = re.compile(rb'"n":\s*(\d+)')


def per_delivery(rule: Callable[[int, int], int | tuple[int, dict[str, str]]]) -> Callable[..., None]:
    """Answer `rule(n, k)` (a status, or a status and headers): n is the event's `data.n`, k counts the
    requests for that event so far (from 1)."""
    seen: dict[int, int] = {}
    lock = threading.Lock()

    def serve(connection: socket.socket, server: RawServer) -> None:
        request = read_http_request(connection)
        server.record(request)
        number = event_number(request)
        with lock:
            seen[number] = seen.get(number, 0) + 1
            count = seen[number]
        answer = rule(number, count)
        status, headers = answer if isinstance(answer, tuple) else (answer, None)
        connection.sendall(http_response(status, headers))

    return serve


def event_number(request: bytes) -> int:
    match = _EVENT_NUMBER.search(request)
    return int(match.group(1)) if match else -1


def publish_group(pipeline: Pipeline, url: str, size: int = GROUP_SIZE) -> tuple[Any, dict[int, str]]:
    """`size` events to one endpoint, attempted in one deliver batch: their deliveries by event number."""
    webhook, _ = pipeline.add_webhook(url)
    numbers = {}
    for n in range(size):
        response = pipeline.publish("task.created", {"n": n})
        assert response.status == 202, response.body
        numbers[response.body["id"]] = n
    assert pipeline.run_fanout() == {"batchItemFailures": []}
    assert pipeline.run_deliver() == {"batchItemFailures": []}
    page = pipeline.deliveries.list_for_webhook(webhook.application_id, webhook.id, limit=size + 1)
    assert len(page.items) == size
    return webhook, {numbers[d.event_id]: d.id for d in page.items}


def group_members(execution: dict[str, Any]) -> list[str]:
    return [member["delivery_id"] for member in json.loads(execution["input"])["members"]]


def test_a_group_where_some_deliveries_succeed_and_others_fail_keeps_each_on_its_own_table(
    pipeline: Pipeline,
) -> None:
    profile = pipeline.profile
    # Even events are accepted on their second attempt; odd ones never.
    with raw_server(per_delivery(lambda n, k: 200 if n % 2 == 0 and k >= 2 else 503)) as server:
        _, deliveries = publish_group(pipeline, server.url())
        [execution] = pipeline.wait_for_executions()
        received = len(server.requests)

    assert sorted(group_members(execution)) == sorted(deliveries.values())  # one execution for the group
    assert execution["status"] == "SUCCEEDED"
    assert pipeline.waits == profile.retry_delays_seconds  # the group's Waits: the table, once
    logs = {n: pipeline.delivery(delivery_id) for n, delivery_id in deliveries.items()}
    # Each member's next attempt is due the table's delay after its own attempt (to the millisecond),
    # however spread out the group's attempts were; the group's Wait ends at the earliest of them.
    for n, delivery in logs.items():
        statuses = [a.response_status for a in delivery.attempts]
        scheduled = [(a.next_retry_at - a.attempted_at).total_seconds() for a in delivery.attempts if a.next_retry_at]
        if n % 2 == 0:
            assert delivery.status is DeliveryStatus.SUCCEEDED
            assert statuses == [503, 200]
        else:
            assert delivery.status is DeliveryStatus.FAILED
            assert delivery.status_reason == f"all {profile.max_attempts} attempts failed"
            assert statuses == [503] * profile.max_attempts
        assert [a.number for a in delivery.attempts] == list(range(1, len(statuses) + 1))
        assert scheduled == pytest.approx(profile.retry_delays_seconds[: len(statuses) - 1], abs=0.001)
    assert received == 2 * (GROUP_SIZE // 2) + profile.max_attempts * (GROUP_SIZE // 2)
    report_figures("retry-group-mixed", members=GROUP_SIZE, executions=1, requests=received, lost=0)


def test_the_largest_retry_after_among_a_groups_answers_delays_the_whole_group(pipeline: Pipeline) -> None:
    asked = {0: 1000, 1: 200}  # event 0's endpoint answer asks for 1000 s, event 1's for 200 s; others ask nothing

    def rule(n: int, k: int) -> int | tuple[int, dict[str, str]]:
        if k >= 2:
            return 200
        return (429 if n == 0 else 503, {"Retry-After": str(asked[n])}) if n in asked else 500

    with raw_server(per_delivery(rule)) as server:
        _, deliveries = publish_group(pipeline, server.url())
        [execution] = pipeline.wait_for_executions()

    logs = {n: pipeline.delivery(delivery_id) for n, delivery_id in deliveries.items()}
    firsts = {n: delivery.attempts[0] for n, delivery in logs.items()}
    largest = firsts[0]
    due = largest.attempted_at + datetime.timedelta(milliseconds=largest.latency_ms, seconds=asked[0])
    assert {first.next_retry_at for first in firsts.values()} == {due}  # one due time: the largest ask wins
    assert {n: first.retry_after_seconds for n, first in firsts.items()} == {n: asked.get(n) for n in deliveries}
    assert json.loads(execution["input"])["next_attempt_at"] == iso(due)
    assert pipeline.waits == [asked[0]]
    assert all(delivery.status is DeliveryStatus.SUCCEEDED for delivery in logs.values())


def test_a_delivery_deleted_from_a_running_group_is_skipped_and_the_rest_go_on(pipeline: Pipeline) -> None:
    with raw_server(per_delivery(lambda n, k: 200 if k >= 2 else 503)) as server:
        with pipeline.waits_held():
            _, deliveries = publish_group(pipeline, server.url())
            pipeline.wait_until_waiting()
            gone = deliveries[0]
            pipeline.aws.dynamodb.delete_item(TableName=pipeline.aws.table_name, Key=delivery_key_of(pipeline, gone))
        [execution] = pipeline.wait_for_executions()
        requests = list(server.requests)

    assert execution["status"] == "ABORTED"  # the rest succeeded at attempt 2: its Attempt stopped it
    assert pipeline.last_task_result(execution)["members"] == []
    assert pipeline.deliveries.find("acme", gone) is None
    for n, delivery_id in deliveries.items():
        if delivery_id == gone:
            continue
        delivery = pipeline.delivery(delivery_id)
        assert delivery.status is DeliveryStatus.SUCCEEDED, n
        assert [a.response_status for a in delivery.attempts] == [503, 200]
    assert [event_number(r) for r in requests].count(0) == 1  # the deleted delivery's attempt 1 only
    assert len(requests) == 1 + 2 * (GROUP_SIZE - 1)
    report_figures("retry-group-member-deleted", members=GROUP_SIZE, requests=len(requests), lost=0)


def delivery_key_of(pipeline: Pipeline, delivery_id: str) -> dict[str, Any]:
    item = pipeline.deliveries.item(pipeline.delivery(delivery_id))
    return {"pk": item["pk"], "sk": item["sk"]}


@pytest.mark.parametrize("where", ["after the POST", "before the POST"])
def test_a_crash_mid_group_is_retried_without_resending_the_members_already_logged(
    pipeline: Pipeline, where: str
) -> None:
    """Attempt 2 of a group crashes once on one member (after its POST, before its log write; or on
    its read, before the POST): the state machine retries the task, the members whose attempt 2 is
    logged are not sent again, and every delivery ends succeeded with one attempt 2 in its log."""
    method = "record_attempt" if where == "after the POST" else "find_with_attempt_keys"
    with raw_server(per_delivery(lambda n, k: 200 if k >= 2 else 503)) as server:
        with mock.patch.object(DeliveryStore, method, _crash_once_in_attempt(2, where)):
            _, deliveries = publish_group(pipeline, server.url())
            [execution] = pipeline.wait_for_executions()
        received = len(server.requests)

    assert execution["status"] == "ABORTED"  # every member succeeded at attempt 2: its Attempt stopped it
    assert pipeline.last_task_result(execution)["outcome"] == "succeeded"
    for delivery_id in deliveries.values():
        delivery = pipeline.delivery(delivery_id)
        assert delivery.status is DeliveryStatus.SUCCEEDED
        assert [(a.number, a.response_status) for a in delivery.attempts] == [(1, 503), (2, 200)]
    # Attempt 1 and 2 of each member, plus the crashed member's POST again when the crash followed it.
    assert received == 2 * GROUP_SIZE + (1 if where == "after the POST" else 0)
    report_figures("retry-group-crash", where=where, members=GROUP_SIZE, requests=received, lost=0)


def test_each_endpoint_gets_its_own_group(pipeline: Pipeline) -> None:
    with raw_server(answering(503)) as first, raw_server(answering(503)) as second:
        one, _ = pipeline.add_webhook(first.url())
        two, _ = pipeline.add_webhook(second.url())
        for n in range(2):
            assert pipeline.publish("task.created", {"n": n}).status == 202
        assert pipeline.run_fanout() == {"batchItemFailures": []}
        assert pipeline.run_deliver() == {"batchItemFailures": []}
        executions = pipeline.wait_for_executions()
    assert len(executions) == 2
    by_endpoint = {json.loads(e["input"])["webhook_id"]: group_members(e) for e in executions}
    assert set(by_endpoint) == {one.id, two.id}
    assert all(len(members) == 2 for members in by_endpoint.values())


def test_a_slow_endpoint_in_the_batch_does_not_hold_back_another_endpoints_retries(pipeline: Pipeline) -> None:
    """Each endpoint's group starts once its own attempts are done, not when the whole batch is."""
    released, answered = threading.Event(), threading.Event()

    def held_until_released(connection: socket.socket, server: RawServer) -> None:
        server.record(read_http_request(connection))
        released.wait(ATTEMPT_TIMEOUT_SECONDS * 0.9)  # within the attempt timeout: answers 200
        answered.set()
        connection.sendall(http_response(200))

    with raw_server(answering(503)) as failing, raw_server(held_until_released) as slow:
        pipeline.add_webhook(failing.url())
        pipeline.add_webhook(slow.url())
        assert pipeline.publish("task.created", {"n": 1}).status == 202
        assert pipeline.run_fanout() == {"batchItemFailures": []}
        with pipeline.waits_held():
            outcome: list[dict[str, Any]] = []
            batch = threading.Thread(target=lambda: outcome.append(pipeline.run_deliver()))
            batch.start()
            started_while_held = eventually_true(lambda: bool(pipeline.executions()), until=answered)
            released.set()
            batch.join(timeout=30)
        pipeline.wait_for_executions()
    assert started_while_held, "the failing endpoint's retries waited for the slow endpoint's attempt"
    assert outcome == [{"batchItemFailures": []}]


def eventually_true(check: Callable[[], bool], until: threading.Event, polls: int = 200) -> bool:
    """Whether `check()` became true before `until` was set (polled at most `polls` times)."""
    for _ in range(polls):
        if until.is_set():
            return False
        if check():
            return True
        time.sleep(0.005)
    return False


def test_a_redelivered_member_and_a_fresh_delivery_in_one_batch_both_keep_their_retries(pipeline: Pipeline) -> None:
    """SQS brings back a message whose group is already running (at-least-once, a killed poller),
    in a batch with a fresh failure to the same endpoint: the fresh one still gets a group of its
    own, and the repeated one is not attempted a second time per step."""
    with raw_server(per_delivery(lambda n, k: 200 if k >= 2 else 503)) as server:
        with pipeline.waits_held():
            webhook, _ = pipeline.add_webhook(server.url())
            for n in range(2):
                assert pipeline.publish("task.created", {"n": n}).status == 202
            assert pipeline.run_fanout() == {"batchItemFailures": []}
            first_batch = pipeline.receive(pipeline.aws.deliveries_queue_url)
            assert pipeline.run_deliver(first_batch) == {"batchItemFailures": []}
            pipeline.wait_until_waiting()
            # The same messages again (SQS delivered them twice), with a new delivery's.
            for message in first_batch:
                pipeline.aws.sqs.send_message(QueueUrl=pipeline.aws.deliveries_queue_url, MessageBody=message["Body"])
            assert pipeline.publish("task.created", {"n": 2}).status == 202
            assert pipeline.run_fanout() == {"batchItemFailures": []}
            assert pipeline.run_deliver() == {"batchItemFailures": []}
        executions = pipeline.wait_for_executions()
        requests = list(server.requests)

    page = pipeline.deliveries.list_for_webhook(webhook.application_id, webhook.id, limit=10)
    assert len(page.items) == 3
    for item in page.items:
        delivery = pipeline.delivery(item.id)
        assert delivery.status is DeliveryStatus.SUCCEEDED, delivery.id
        assert [(a.number, a.response_status) for a in delivery.attempts] == [(1, 503), (2, 200)]
    # Every member succeeded at attempt 2: each execution was stopped by that Attempt, none failed.
    assert all(e["status"] == "ABORTED" for e in executions)
    assert all(pipeline.last_task_result(e)["members"] == [] for e in executions)
    assert len(requests) == 6  # two attempts each: the repeat sent nothing twice
