"""The delivery POST against real sockets: deadlines, redirects, size limits, SSRF at send time."""

from __future__ import annotations

import socket

import pytest

from functions.core.urls import UrlPolicy
from functions.pipeline.http import MAX_RESPONSE_BYTES, HttpSender
from tests.integration.pipeline_support import Reply, receiver

LOOPBACK = UrlPolicy(https_only=True, allow_loopback=True)
BODY = b'{"type":"user.created","data":{}}'
HEADERS = {"Content-Type": "application/json", "User-Agent": "Dovecote/test"}


def test_a_redirect_is_returned_as_a_status_and_never_followed() -> None:
    with receiver(Reply(302, headers=(("Location", "/elsewhere"),))) as server:
        result = HttpSender(LOOPBACK, 5).post(server.url, BODY, HEADERS)
    assert result.status == 302
    assert [r.path for r in server.requests] == ["/hooks"]


def test_a_slow_endpoint_times_out_at_the_attempt_timeout() -> None:
    with receiver(Reply(200, delay_seconds=3)) as server:
        result = HttpSender(LOOPBACK, 0.5).post(server.url, BODY, HEADERS)
    assert result.status is None
    assert result.error == "timed out after 0.5 s"
    assert result.latency_ms < 2000


def test_a_body_that_never_ends_does_not_hold_the_attempt_past_its_timeout() -> None:
    with receiver(Reply(200, endless_body=True)) as server:
        result = HttpSender(LOOPBACK, 0.5).post(server.url, BODY, HEADERS)
    assert result.status == 200
    assert result.error == "response body not read completely: timed out after 0.5 s"
    assert result.latency_ms < 2000
    assert result.body_prefix.startswith(b"x")


def test_at_most_64_kib_of_the_response_is_read() -> None:
    with receiver(Reply(500, body=b"e" * (MAX_RESPONSE_BYTES * 3))) as server:
        result = HttpSender(LOOPBACK, 5).post(server.url, BODY, HEADERS)
    assert result.status == 500
    assert result.body_prefix == b"e" * MAX_RESPONSE_BYTES
    assert result.error is None


def test_the_request_carries_the_body_headers_and_the_host_name() -> None:
    with receiver(200) as server:
        result = HttpSender(LOOPBACK, 5).post(server.url, BODY, HEADERS)
    [request] = server.requests
    assert result.status == 200
    assert request.body == BODY
    assert request.header("User-Agent") == "Dovecote/test"
    assert request.header("Host") == server.url.split("/")[2]


def test_the_connection_goes_to_the_checked_address_with_the_name_in_the_host_header() -> None:
    def resolver(host: str, port: int) -> list[str]:
        assert host == "hooks.customer.test"
        return ["127.0.0.1"]

    with receiver(200) as server:
        port = server.url.split(":")[2].split("/")[0]
        url = f"http://hooks.customer.test:{port}/hooks?x=1"
        result = HttpSender(UrlPolicy(https_only=False, allow_loopback=True), 5, resolver).post(url, BODY, HEADERS)
    [request] = server.requests
    assert result.status == 200
    assert request.header("Host") == f"hooks.customer.test:{port}"
    assert request.path == "/hooks?x=1"


@pytest.mark.parametrize(
    ("url", "resolved", "reason"),
    [
        ("http://127.0.0.1:9/hooks", [], "loopback"),
        ("https://metadata.customer.test/hooks", ["169.254.169.254"], "link-local"),
        ("https://internal.customer.test/hooks", ["10.0.0.7"], "private"),
        ("https://mixed.customer.test/hooks", ["93.184.216.34", "192.168.1.1"], "private"),
    ],
)
def test_a_private_or_internal_address_is_refused_at_send_time(url: str, resolved: list[str], reason: str) -> None:
    sender = HttpSender(UrlPolicy(), 5, lambda host, port: resolved)
    result = sender.post(url, BODY, HEADERS)
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith("refused at send time")
    assert reason in result.error


def test_a_closed_port_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = HttpSender(LOOPBACK, 2).post(f"http://127.0.0.1:{port}/hooks", BODY, HEADERS)
    assert result.status is None
    assert result.error == "connection refused"


def test_a_name_that_does_not_resolve_is_a_connection_error() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror("Name or service not known")

    result = HttpSender(UrlPolicy(), 2, resolver).post("https://gone.customer.test/hooks", BODY, HEADERS)
    assert result.status is None
    assert result.error is not None
    assert "cannot resolve gone.customer.test" in result.error
