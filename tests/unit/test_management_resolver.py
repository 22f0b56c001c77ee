"""The shared resolver (functions/api/app.py): refusals first, one error envelope for everything."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field

from functions.api.app import MAX_REQUEST_BYTES, Application, build_resolver
from functions.core.errors import ConflictError


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(max_length=5)
    tags: list[str] = []


router = Router()


@router.post("/v1/things")
def create_thing(body: Thing, application: Application) -> dict[str, Any]:
    return {"application": application, "name": body.name}


@router.get("/v1/conflict")
def conflict(application: Application) -> dict[str, Any]:
    raise ConflictError("already there")


@router.get("/v1/health")
def health() -> dict[str, Any]:
    return {"status": "ok"}


app = build_resolver(router)


def call(
    method: str,
    path: str,
    *,
    body: str | None = None,
    application: str | None = "acme",
    content_type: str = "application/json",
    resolver: Any = app,
) -> tuple[int, Any]:
    response = resolve(method, path, body=body, application=application, content_type=content_type, resolver=resolver)
    return int(response["statusCode"]), json.loads(response["body"])


def resolve(
    method: str, path: str, *, body: str | None, application: str | None, content_type: str, resolver: Any
) -> dict[str, Any]:
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": content_type},
        "requestContext": {
            "http": {"method": method, "path": path},
            "requestId": "r",
            "stage": "$default",
            "authorizer": {"lambda": {"application_id": application}} if application else {},
        },
        "body": body,
        "isBase64Encoded": False,
    }
    return dict(resolver.resolve(event, None))


def test_a_valid_request_reaches_the_route_with_the_application():
    assert call("POST", "/v1/things", body='{"name": "a"}') == (200, {"application": "acme", "name": "a"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"name": "toolong"}', "name: String should have at most 5 characters"),
        ('{"name": 5}', "name: Input should be a valid string"),
        ('{"name": "a", "tags": [1]}', "tags.0: Input should be a valid string"),
        ('{"name": "a", "colour": "red"}', "colour: unknown field"),
        ("{}", "name: Field required"),
    ],
)
def test_validation_errors_are_422_naming_the_field(body: str, message: str):
    assert call("POST", "/v1/things", body=body) == (422, {"error": {"type": "invalid_request", "message": message}})


@pytest.mark.parametrize("body", ['{"name": ', "[" * 100_000 + "]" * 100_000])
def test_invalid_or_too_deeply_nested_json_is_400(body: str):
    assert call("POST", "/v1/things", body=body) == (
        400,
        {"error": {"type": "invalid_json", "message": "the request body is not valid JSON"}},
    )


@pytest.mark.parametrize("body", ['{"name": "a"}', '{"colour": 1}', "{not json"])
def test_without_a_application_the_answer_is_401_whatever_the_body(body: str):
    status, document = call("POST", "/v1/things", body=body, application=None)

    assert status == 401
    assert document["error"]["type"] == "unauthorized"


@pytest.mark.parametrize("body", ['{"name": "' + "a" * MAX_REQUEST_BYTES + '"}', "[" * (MAX_REQUEST_BYTES + 1)])
def test_an_oversized_body_is_413_before_it_is_validated(body: str):
    assert call("POST", "/v1/things", body=body)[0] == 413


def test_a_domain_error_keeps_its_status_and_type():
    assert call("GET", "/v1/conflict") == (409, {"error": {"type": "conflict", "message": "already there"}})


def test_public_paths_need_no_application():
    assert call("GET", "/v1/health", application=None) == (200, {"status": "ok"})


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", "multipart/form-data"])
def test_a_body_that_is_not_json_is_415_after_the_refusals(content_type: str):
    status, document = call("POST", "/v1/things", body='{"name": "a"}', content_type=content_type)

    assert status == 415
    assert document["error"]["type"] == "unsupported_media_type"
    assert call("POST", "/v1/things", body="x", content_type=content_type, application=None)[0] == 401
    assert call("POST", "/v1/things", body="x" * (MAX_REQUEST_BYTES + 1), content_type=content_type)[0] == 413


def test_an_integer_too_long_to_convert_is_422_naming_the_field():
    status, document = call("POST", "/v1/things", body='{"name": "a", "tags": [' + "1" * 4_301 + "]}")

    assert status == 422
    assert document["error"]["message"] == "tags.0: an integer of more than 4,300 digits is not accepted"


def test_a_request_no_route_takes_is_404_or_405_by_the_route_table():
    routes = {"/v1/things": {"POST"}, "/v1/things/{id}": {"GET", "DELETE"}, "/v1/health": {"GET"}}
    with_table = build_resolver(router, route_table=lambda: routes)

    wrong_method = resolve("PUT", "/v1/things/t1", body=None, application="acme", content_type="", resolver=with_table)
    unknown = call("GET", "/v1/nothing", resolver=with_table)

    assert wrong_method["statusCode"] == 405
    assert wrong_method["headers"]["Allow"] == "DELETE, GET"
    assert json.loads(wrong_method["body"])["error"]["type"] == "method_not_allowed"
    assert unknown == (404, {"error": {"type": "not_found", "message": "no such route"}})
    assert call("PUT", "/v1/things")[0] == 404  # without a route table a resolver knows no other path


@pytest.mark.parametrize("body", ["[null, null]", '[{"name": "a"}]', '"a"', "5"])
def test_a_body_that_is_not_a_json_object_is_422(body: str):
    assert call("POST", "/v1/things", body=body) == (
        422,
        {"error": {"type": "invalid_request", "message": "body: must be a JSON object"}},
    )
