"""The API dialect as data (functions/core/profile.py `ApiDialect`) and its translation (functions/api/dialect.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.api.dialect import translate_request, translate_response, wants_plain_v1
from functions.core.profile import ApiDialect, ProfileError, load_profile, parse_profile, profile_json
from infra.routes import ROUTES, Route, alias_routes, routes_for


def event(method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query,
        "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def answer(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


MUTX = load_profile("mutx").api
MYND = load_profile("mynd").api
DELEGATED = load_profile("delegated").api


@pytest.mark.parametrize(
    ("dialect", "method", "path", "expected"),
    [
        (DELEGATED, "POST", "/api/webhooks/create", "/v1/webhooks"),
        (MUTX, "POST", "/v1/webhooks/", "/v1/webhooks"),
        (MUTX, "GET", "/v1/webhooks/", "/v1/webhooks"),
        (MUTX, "POST", "/v1/webhooks", "/v1/webhooks"),
        (MUTX, "DELETE", "/v1/webhooks/", "/v1/webhooks/"),
        (DELEGATED, "GET", "/api/webhooks/create", "/api/webhooks/create"),
    ],
)
def test_a_route_alias_becomes_the_v1_path_for_its_method_only(
    dialect: ApiDialect, method: str, path: str, expected: str
) -> None:
    translated = translate_request(event(method, path), dialect)

    assert translated.event["rawPath"] == translated.event["requestContext"]["http"]["path"] == expected


def test_a_route_alias_carries_its_path_parameters() -> None:
    dialect = ApiDialect.model_validate(
        {"routes": [{"method": "GET", "path": "/api/hooks/{id}/log", "route": "/v1/webhooks/{id}/deliveries"}]}
    )

    translated = translate_request(event("GET", "/api/hooks/wh_1/log"), dialect)

    assert translated.event["rawPath"] == "/v1/webhooks/wh_1/deliveries"


def test_the_request_event_is_not_changed_in_place() -> None:
    original = event("POST", "/v1/webhooks/", body={"is_active": True})
    before = json.dumps(original, sort_keys=True)

    translate_request(original, MUTX)

    assert json.dumps(original, sort_keys=True) == before


def test_a_request_field_name_becomes_the_v1_field_in_webhook_bodies_only() -> None:
    created = translate_request(event("POST", "/v1/webhooks/", body={"url": "u", "is_active": False}), MUTX)
    published = translate_request(event("POST", "/v1/events", body={"type": "t", "is_active": False}), MUTX)

    assert json.loads(created.event["body"]) == {"url": "u", "enabled": False}
    assert created.renamed == {"enabled": "is_active"}
    assert json.loads(published.event["body"]) == {"type": "t", "is_active": False}


def test_a_derived_field_is_read_only() -> None:
    translated = translate_request(event("PATCH", "/v1/webhooks/wh_1", body={"success": True}), MUTX)

    assert json.loads(translated.event["body"]) == {"success": True}  # refused by the /v1 body as unknown


@pytest.mark.parametrize(
    ("query", "expected_status", "refusal"),
    [
        ({"success": "false", "limit": "20"}, "failed", None),
        ({"success": "true"}, "succeeded", None),
        ({"success": "yes"}, None, "success: must be one of true, false"),
        ({"success": "true", "status": "failed"}, None, "success: contradicts status; send one of them"),
    ],
)
def test_a_filter_becomes_the_v1_query_parameter(
    query: dict[str, str], expected_status: str | None, refusal: str | None
) -> None:
    translated = translate_request(event("GET", "/v1/webhooks/wh_1/deliveries", query=query), MUTX)

    assert translated.refusal == refusal
    if expected_status:
        assert translated.event["queryStringParameters"]["status"] == expected_status
        assert "success" not in translated.event["queryStringParameters"]
        assert f"status={expected_status}" in translated.event["rawQueryString"]


def test_answers_gain_the_dialects_fields_beside_the_v1_fields_in_lists_too() -> None:
    translated = translate_request(event("GET", "/v1/webhooks/wh_1/deliveries"), MUTX)
    items = [
        {"object": "delivery", "status": "failed", "attempt_count": 4, "status_reason": "all 4 attempts failed"},
        {"object": "delivery", "status": "pending", "attempt_count": 1, "status_reason": None},
        {"object": "delivery", "status": "succeeded", "attempt_count": 1, "status_reason": None},
    ]

    result = translate_response(answer(200, {"object": "list", "data": items}), translated, MUTX)

    data = json.loads(result["body"])["data"]
    assert [(d["success"], d["attempts"], d["error_message"]) for d in data] == [
        (False, 4, "all 4 attempts failed"),
        (None, 1, None),
        (True, 1, None),
    ]
    assert data[0]["attempt_count"] == 4


def test_a_dialect_status_replaces_the_success_status_of_its_route_only() -> None:
    created = translate_request(event("POST", "/v1/webhooks"), MYND)
    scoped = translate_request(event("POST", "/v1/applications/acme/webhooks"), MYND)
    published = translate_request(event("POST", "/v1/events"), MYND)

    assert translate_response(answer(201, {"object": "webhook"}), created, MYND)["statusCode"] == 200
    assert translate_response(answer(201, {"object": "webhook"}), scoped, MYND)["statusCode"] == 200
    assert translate_response(answer(422, {"error": {}}), created, MYND)["statusCode"] == 422
    assert translate_response(answer(202, {"object": "event"}), published, MYND)["statusCode"] == 202


def test_a_422_names_the_field_as_the_request_did() -> None:
    translated = translate_request(event("POST", "/v1/webhooks", body={"is_active": "x"}), MUTX)
    message = "url: Field required; enabled: Input should be a valid boolean"

    result = translate_response(
        answer(422, {"error": {"type": "invalid_request", "message": message}}), translated, MUTX
    )

    assert (
        json.loads(result["body"])["error"]["message"]
        == "url: Field required; is_active: Input should be a valid boolean"
    )


@pytest.mark.parametrize(
    ("api", "problem"),
    [
        ({"routes": [{"method": "GET", "path": "/a/{id}", "route": "/v1/webhooks"}]}, "same path parameters"),
        ({"routes": [{"method": "GET", "path": "/a", "route": "/v2/webhooks"}]}, "stands for a /v1 route"),
        ({"statuses": {"POST /v1/webhooks": 404}}, "only change a success status"),
        ({"fields": {"webhook": [{"name": "is-active", "field": "enabled"}]}}, "not a plain name"),
        ({"fields": {"account": [{"name": "a", "field": "b"}]}}, "fields.account"),
    ],
)
def test_a_profile_with_a_malformed_dialect_is_refused_naming_it(api: dict[str, Any], problem: str) -> None:
    document = json.loads(profile_json(load_profile("standard")))
    document["api"] = api

    with pytest.raises(ProfileError, match=problem):
        parse_profile(json.dumps(document))


def test_alias_routes_reach_the_function_of_their_route_through_the_authorizer() -> None:
    assert alias_routes(DELEGATED) == (Route("POST", "/api/webhooks/create", "management"),)
    assert alias_routes(MUTX) == ()  # a trailing slash is routed as the path without it
    assert routes_for(load_profile("standard").api) == ROUTES
    ingest_alias = ApiDialect.model_validate(
        {"routes": [{"method": "POST", "path": "/api/events/{id}/ping", "route": "/v1/webhooks/{id}/test"}]}
    )
    assert alias_routes(ingest_alias) == (Route("POST", "/api/events/{id}/ping", "ingest"),)


def test_a_dialect_field_never_replaces_a_v1_field_of_the_same_name() -> None:
    translated = translate_request(event("GET", "/v1/deliveries/del_1"), MUTX)
    attempts = [{"number": 1}, {"number": 2}]
    delivery = {"object": "delivery", "status": "failed", "attempt_count": 2, "attempts": attempts}

    result = translate_response(answer(200, delivery), translated, MUTX)

    body = json.loads(result["body"])
    assert body["attempts"] == attempts
    assert body["success"] is False


@pytest.mark.parametrize(("value", "plain"), [("none", True), ("None", True), ("mutx", False), (None, False)])
def test_dovecote_dialect_none_asks_for_the_plain_v1_answer(value: str | None, plain: bool) -> None:
    request = event("GET", "/v1/webhooks")
    if value is not None:
        request["headers"] = {"dovecote-dialect": value}

    assert wants_plain_v1(request) is plain


def test_another_method_on_an_alias_path_is_405_with_allow() -> None:
    translated = translate_request(event("GET", "/api/webhooks/create"), DELEGATED)
    not_found = answer(404, {"error": {"type": "not_found", "message": "no such route"}})

    result = translate_response(not_found, translated, DELEGATED)

    assert (result["statusCode"], result["headers"]["Allow"]) == (405, "POST")
    assert json.loads(result["body"])["error"]["type"] == "method_not_allowed"
    posted = translate_request(event("POST", "/api/webhooks/create"), DELEGATED)
    assert translate_response(answer(404, {"error": {}}), posted, DELEGATED)["statusCode"] == 404  # e.g. no webhook
