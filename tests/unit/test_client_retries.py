"""Automatic retries: only for calls that are safe to repeat, with backoff and Retry-After."""

from __future__ import annotations

import pytest

from dovecote import APIError, Dovecote, NotFoundError, RateLimitError
from dovecote import _transport as transport
from tests.unit.test_client_fake_api import FakeApi, error_json, webhook_json

UNAVAILABLE = error_json("unavailable", "try again")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every backoff the transport takes, in seconds, without waiting for it."""
    recorded: list[float] = []
    monkeypatch.setattr(transport, "_sleep", recorded.append)
    return recorded


def client_for(api: FakeApi, **options: float) -> Dovecote:
    settings: dict[str, float] = {"backoff_base": 0.01, "backoff_max": 0.04} | options
    return Dovecote(api_key="dvk_test", base_url=api.url, **settings)  # type: ignore[arg-type]


def test_get_is_retried_after_503_until_it_succeeds(api: FakeApi, sleeps: list[float]) -> None:
    api.add("GET", "/v1/webhooks/wh_1", 503, UNAVAILABLE).add("GET", "/v1/webhooks/wh_1", 503, UNAVAILABLE)
    api.add("GET", "/v1/webhooks/wh_1", 200, webhook_json())
    with client_for(api) as client:
        assert client.webhooks.get("wh_1").id == "wh_1"
    assert len(api.requests) == 3
    assert len(sleeps) == 2


def test_backoff_grows_exponentially_with_jitter(api: FakeApi, sleeps: list[float]) -> None:
    api.add("GET", "/v1/webhooks", 500, UNAVAILABLE)
    with client_for(api, max_retries=4) as client, pytest.raises(APIError):
        client.webhooks.list()
    assert len(api.requests) == 5
    ceilings = [0.01, 0.02, 0.04, 0.04]  # backoff_base * 2**n, capped at backoff_max
    assert len(sleeps) == len(ceilings)
    for slept, ceiling in zip(sleeps, ceilings, strict=True):
        assert ceiling / 2 <= slept <= ceiling


def test_retries_stop_after_max_retries_and_raise_the_last_error(api: FakeApi, sleeps: list[float]) -> None:
    api.add("GET", "/v1/webhooks", 503, UNAVAILABLE)
    with client_for(api, max_retries=2) as client, pytest.raises(APIError) as raised:
        client.webhooks.list()
    assert raised.value.status == 503
    assert len(api.requests) == 3


def test_max_retries_zero_sends_once(api: FakeApi, sleeps: list[float]) -> None:
    api.add("GET", "/v1/webhooks", 503, UNAVAILABLE)
    with client_for(api, max_retries=0) as client, pytest.raises(APIError):
        client.webhooks.list()
    assert len(api.requests) == 1
    assert sleeps == []


def test_429_retry_after_seconds_is_honoured(api: FakeApi, sleeps: list[float]) -> None:
    api.add("GET", "/v1/webhooks/wh_1", 429, error_json("rate_limited", "slow down"), headers={"Retry-After": "3"})
    api.add("GET", "/v1/webhooks/wh_1", 200, webhook_json())
    with client_for(api) as client:
        client.webhooks.get("wh_1")
    assert sleeps == [3.0]
    assert len(api.requests) == 2


def test_503_retry_after_http_date_is_honoured(api: FakeApi, sleeps: list[float]) -> None:
    api.add("GET", "/v1/webhooks/wh_1", 503, UNAVAILABLE, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    api.add("GET", "/v1/webhooks/wh_1", 200, webhook_json())
    with client_for(api) as client:
        client.webhooks.get("wh_1")
    assert sleeps == [0.0]  # a date in the past: retry at once


def test_a_retry_after_beyond_the_cap_is_not_waited_for(api: FakeApi, sleeps: list[float]) -> None:
    api.add("GET", "/v1/webhooks", 429, error_json("rate_limited", "later"), headers={"Retry-After": "3600"})
    with client_for(api) as client, pytest.raises(RateLimitError):
        client.webhooks.list()
    assert len(api.requests) == 1
    assert sleeps == []


def test_client_errors_are_never_retried(api: FakeApi, sleeps: list[float]) -> None:
    api.add("GET", "/v1/webhooks/wh_x", 404, error_json("not_found", "no webhook wh_x"))
    with client_for(api) as client, pytest.raises(NotFoundError):
        client.webhooks.get("wh_x")
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        ("PATCH", "/v1/webhooks/wh_1", lambda client: client.webhooks.update("wh_1", enabled=True)),
        ("DELETE", "/v1/webhooks/wh_1", lambda client: client.webhooks.delete("wh_1")),
    ],
)
def test_patch_and_delete_are_retried(api: FakeApi, sleeps: list[float], method: str, path: str, call) -> None:
    api.add(method, path, 502, UNAVAILABLE).add(method, path, 200, webhook_json() | {"deleted": True})
    with client_for(api) as client:
        call(client)
    assert len(api.requests_to(method, path)) == 2


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/v1/webhooks", lambda client: client.webhooks.create("https://example.com/h", ["a"])),
        ("/v1/webhooks/wh_1/test", lambda client: client.webhooks.test("wh_1")),
        ("/v1/webhooks/wh_1/rotate-secret", lambda client: client.webhooks.rotate_secret("wh_1")),
        ("/v1/webhooks/wh_1/recover", lambda client: client.webhooks.recover("wh_1", "2026-01-01T00:00:00Z")),
        ("/v1/deliveries/del_1/retry", lambda client: client.deliveries.retry("del_1")),
    ],
)
def test_posts_that_are_not_idempotent_are_not_retried_after_a_500(
    api: FakeApi, sleeps: list[float], path: str, call
) -> None:
    api.add("POST", path, 500, error_json("internal_error", "boom"))
    with client_for(api) as client, pytest.raises(APIError) as raised:
        call(client)
    assert raised.value.status == 500
    assert len(api.requests_to("POST", path)) == 1
    assert sleeps == []


def test_events_send_retries_with_the_same_generated_idempotency_key(api: FakeApi, sleeps: list[float]) -> None:
    api.add("POST", "/v1/events", 503, UNAVAILABLE).add("POST", "/v1/events", 429, error_json("rate_limited", "x"))
    api.add("POST", "/v1/events", 202, {"object": "event", "id": "evt_1"})
    with client_for(api) as client:
        assert client.events.send("order.created", {"n": 1}).id == "evt_1"
    keys = [request.headers.get("idempotency-key") for request in api.requests_to("POST", "/v1/events")]
    assert len(keys) == 3
    assert keys[0]
    assert keys == [keys[0]] * 3


def test_each_events_send_gets_its_own_key(api: FakeApi, sleeps: list[float]) -> None:
    api.add("POST", "/v1/events", 202, {"object": "event", "id": "evt_1"})
    with client_for(api) as client:
        client.events.send("order.created", {})
        client.events.send("order.created", {})
    first, second = (request.headers["idempotency-key"] for request in api.requests)
    assert first != second


def test_events_send_uses_the_callers_idempotency_key(api: FakeApi, sleeps: list[float]) -> None:
    api.add("POST", "/v1/events", 500, UNAVAILABLE).add("POST", "/v1/events", 202, {"object": "event", "id": "e"})
    with client_for(api) as client:
        client.events.send("order.created", {}, idempotency_key="order-42-created")
    assert [request.headers["idempotency-key"] for request in api.requests] == ["order-42-created"] * 2
