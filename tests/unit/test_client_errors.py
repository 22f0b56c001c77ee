"""API errors become exceptions carrying status, type and message."""

from __future__ import annotations

import pytest

from dovecote import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    Dovecote,
    DovecoteError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
)
from tests.unit.test_client_fake_api import FakeApi, error_json, unused_port_url


@pytest.mark.parametrize(
    ("status", "error_type", "error_class"),
    [
        (400, "invalid_request", InvalidRequestError),
        (401, "unauthorized", AuthenticationError),
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
        (413, "payload_too_large", InvalidRequestError),
        (422, "invalid_url", InvalidRequestError),
        (429, "rate_limited", RateLimitError),
        (500, "internal_error", APIError),
        (503, "unavailable", APIError),
        (418, "teapot", DovecoteError),
    ],
)
def test_error_statuses_map_to_exception_classes(
    api: FakeApi, client: Dovecote, status: int, error_type: str, error_class: type[DovecoteError]
) -> None:
    api.add("GET", "/v1/webhooks/wh_1", status, error_json(error_type, "it went wrong"))
    with pytest.raises(error_class) as raised:
        client.webhooks.get("wh_1")
    assert type(raised.value) is error_class
    assert raised.value.status == status
    assert raised.value.error_type == error_type
    assert raised.value.message == "it went wrong"


def test_str_of_an_error_is_type_and_message(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks/wh_404", 404, error_json("not_found", "no webhook wh_404"))
    with pytest.raises(NotFoundError, match=r"^not_found: no webhook wh_404$"):
        client.webhooks.get("wh_404")


def test_rate_limit_error_carries_retry_after(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks/wh_1", 429, error_json("rate_limited", "slow down"), headers={"Retry-After": "7"})
    with pytest.raises(RateLimitError) as raised:
        client.webhooks.get("wh_1")
    assert raised.value.retry_after == 7.0


def test_api_gateway_style_error_body_is_understood(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks", 401, {"message": "Unauthorized"})
    with pytest.raises(AuthenticationError) as raised:
        client.webhooks.list()
    assert (raised.value.error_type, raised.value.message) == ("unauthorized", "Unauthorized")


def test_non_json_error_body_still_maps_by_status(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks", 502, raw_body=b"<html>Bad Gateway</html>")
    with pytest.raises(APIError) as raised:
        client.webhooks.list()
    assert raised.value.status == 502
    assert raised.value.error_type == "api_error"
    assert raised.value.message == "HTTP 502 Bad Gateway"


def test_success_with_a_body_that_is_not_json_is_an_api_error(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks/wh_1", 200, raw_body=b"ok")
    with pytest.raises(APIError) as raised:
        client.webhooks.get("wh_1")
    assert raised.value.error_type == "invalid_response"


def test_success_with_an_unexpected_shape_is_an_api_error(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks/wh_1", 200, {"object": "webhook"})
    with pytest.raises(APIError, match="unexpected Webhook"):
        client.webhooks.get("wh_1")


def test_connection_refused_names_the_url() -> None:
    url = unused_port_url()
    with (
        Dovecote(api_key="dvk_test", base_url=url, max_retries=0) as client,
        pytest.raises(APIConnectionError) as raised,
    ):
        client.webhooks.list()
    assert raised.value.status is None
    assert raised.value.message == f"the Dovecote API at {url} is not reachable (connection refused)"


def test_timeout_raises_api_timeout_error(api: FakeApi) -> None:
    api.add("GET", "/v1/webhooks/wh_1", 200, {"id": "wh_1"}, delay=0.5)
    client = Dovecote(api_key="dvk_test", base_url=api.url, timeout=0.1, max_retries=0)
    with pytest.raises(APITimeoutError, match=r"did not answer within 0\.1s"):
        client.webhooks.get("wh_1")
