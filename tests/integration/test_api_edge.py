"""Requests refused before a route runs, through the management and ingest handlers: bodies that
are not JSON (415), integers too long to convert (422 naming the field), and requests no route
takes (the `$default` route's 404, or 405 with `Allow`)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from functions.core.ids import new_id
from tests.integration.conftest import ApiResponse, ManagementApi
from tests.integration.pipeline_support import Pipeline, pipeline_under_moto

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

NOT_JSON = ["text/plain", "application/octet-stream", "multipart/form-data", "application/x-www-form-urlencoded"]
LONG_INTEGER = "7" * 5_000


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


def body_as(content_type: str, text: str) -> dict[str, Any]:
    """http_event options for `text` sent as `content_type`; API Gateway base64-encodes a binary type."""
    if content_type == "application/octet-stream":
        return {"body": base64.b64encode(text.encode()).decode(), "headers": {"content-type": content_type}}
    return {"body": text, "headers": {"content-type": content_type}}


def assert_unsupported_media_type(response: ApiResponse, content_type: str) -> None:
    assert response.status == 415, (content_type, response.status, response.body)
    assert response.error_type == "unsupported_media_type"
    assert content_type in response.body["error"]["message"]


# 415 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", NOT_JSON)
def test_creating_or_patching_a_webhook_with_a_body_that_is_not_json_is_415(
    management_api: ManagementApi, content_type: str, aws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    webhook = management_api.create_webhook()
    create = management_api(
        "POST", "/v1/webhooks", **body_as(content_type, '{"url": "https://hooks.example.com/", "events": ["*"]}')
    )
    patch = management_api("PATCH", f"/v1/webhooks/{webhook['id']}", **body_as(content_type, '{"enabled": false}'))

    assert_unsupported_media_type(create, content_type)
    assert_unsupported_media_type(patch, content_type)
    assert management_api("GET", f"/v1/webhooks/{webhook['id']}").body["enabled"] is True
    assert "unhandled error" not in caplog.text


@pytest.mark.parametrize("content_type", NOT_JSON)
def test_publishing_or_recovering_with_a_body_that_is_not_json_is_415(pipeline: Pipeline, content_type: str) -> None:
    webhook, _ = pipeline.add_webhook("https://hooks.example.com/")
    publish = pipeline.api("POST", "/v1/events", **body_as(content_type, '{"type": "user.created"}'))
    recover = pipeline.api(
        "POST", f"/v1/webhooks/{webhook.id}/recover", **body_as(content_type, '{"since": "2026-03-04T12:00:00Z"}')
    )

    assert_unsupported_media_type(publish, content_type)
    assert_unsupported_media_type(recover, content_type)
    assert pipeline.receive(pipeline.aws.events_queue_url) == []


def test_json_with_a_charset_is_json(management_api: ManagementApi) -> None:
    body = '{"url": "https://hooks.example.com/", "events": ["*"]}'
    response = management_api(
        "POST", "/v1/webhooks", body=body, headers={"content-type": "application/json; charset=utf-8"}
    )

    assert response.status == 201, response.body


def test_a_body_that_is_not_json_is_refused_only_after_the_api_key(management_api: ManagementApi) -> None:
    response = management_api("POST", "/v1/webhooks", application=None, **body_as("text/plain", "x"))

    assert response.status == 401


# 422 for integers too long to convert ------------------------------------------------------


def test_a_5000_digit_integer_in_a_published_event_is_422_naming_the_field(pipeline: Pipeline) -> None:
    text = '{"type": "user.created", "data": {"items": [1, ' + LONG_INTEGER + "]}}"

    response = pipeline.api("POST", "/v1/events", body=text)

    assert response.status == 422, response.body
    assert response.body["error"]["message"].startswith("data.items.1: an integer of more than 4,300 digits")
    assert pipeline.receive(pipeline.aws.events_queue_url) == []


def test_a_5000_digit_integer_in_a_webhook_body_is_422_naming_the_field(management_api: ManagementApi) -> None:
    webhook = management_api.create_webhook()

    create = management_api("POST", "/v1/webhooks", body='{"url": "https://h.example.com/", "events": ["*"], '
                            f'"description": {LONG_INTEGER}}}')  # fmt: skip
    patch = management_api("PATCH", f"/v1/webhooks/{webhook['id']}", body=f'{{"enabled": {LONG_INTEGER}}}')

    assert (create.status, create.body["error"]["message"].split(":")[0]) == (422, "description")
    assert (patch.status, patch.body["error"]["message"].split(":")[0]) == (422, "enabled")


def test_a_5000_digit_integer_as_the_whole_body_or_in_a_query_is_422(pipeline: Pipeline, management_api: ManagementApi):
    whole = pipeline.api("POST", "/v1/events", body=LONG_INTEGER)
    query = management_api("GET", "/v1/webhooks", query={"limit": LONG_INTEGER})

    assert (whole.status, whole.body["error"]["message"].split(":")[0]) == (422, "body")
    assert (query.status, query.body["error"]["message"].split(":")[0]) == (422, "limit")


def test_a_long_float_is_still_a_number(pipeline: Pipeline) -> None:
    response = pipeline.api("POST", "/v1/events", body='{"type": "user.created", "data": {"x": 1.' + "5" * 5_000 + "}}")

    assert response.status == 202, response.body


# Requests no route takes (API Gateway's $default route reaches the management function) ---------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/webhooks/wh_01jdq3xk5m8n2p4r6t8v0w2y4z", "DELETE, GET, PATCH"),
        ("TRACE", "/v1/webhooks", "GET, POST"),
        ("GET", "/v1/events", "POST"),  # an ingest route: the whole API's table is consulted
        ("DELETE", "/v1/deliveries/del_01jdq3xm0a1b2c3d4e5f6g7h8j/retry", "POST"),
        ("POST", "/v1/health", "GET"),
    ],
)
def test_a_known_path_with_another_method_is_405_with_allow(
    management_api: ManagementApi, method: str, path: str, allowed: str
) -> None:
    response = management_api(method, path)

    assert response.status == 405, response.body
    assert response.headers["Allow"] == allowed
    assert response.error_type == "method_not_allowed"
    assert method in response.body["error"]["message"]


@pytest.mark.parametrize("path", ["/", "/v1", "/v2/webhooks", "/v1/webhooks/wh_x/nothing", "/v1/webhooks//deliveries"])
def test_an_unknown_path_is_404_in_the_error_envelope(management_api: ManagementApi, path: str) -> None:
    response = management_api("GET", path)

    assert response.status == 404, response.body
    assert response.error_type == "not_found"
    assert "Allow" not in response.headers


def test_a_known_route_still_answers_as_before(management_api: ManagementApi) -> None:
    response = management_api("GET", f"/v1/webhooks/{new_id('wh')}")

    assert (response.status, response.error_type) == (404, "not_found")


def test_get_on_the_batch_path_is_405_and_other_requests_never_build_the_route_table(
    management_api: ManagementApi,
) -> None:
    from functions.management.openapi import route_table  # noqa: PLC0415

    route_table.cache_clear()
    assert management_api("GET", "/v1/webhooks").status == 200
    assert management_api("GET", f"/v1/events/{new_id('evt')}").status == 404
    assert route_table.cache_info().currsize == 0  # the OpenAPI document stays off the request path

    shadowed = management_api("GET", "/v1/events/batch")
    assert shadowed.status == 405
    assert shadowed.headers["Allow"] == "POST"
