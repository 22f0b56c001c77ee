"""Public routes, authentication and the error envelope of the management handler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.management.openapi import openapi_json
from tests.integration.conftest import ManagementApi

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_health_needs_no_key(management_api: ManagementApi):
    response = management_api("GET", "/v1/health", application=None)

    assert (response.status, response.body) == (200, {"status": "ok"})


def test_openapi_is_served_without_a_key_and_equals_the_committed_document(management_api: ManagementApi):
    response = management_api("GET", "/v1/openapi.json", application=None)

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.body == json.loads(openapi_json())
    assert response.body == json.loads(DOCUMENT.read_text(encoding="utf-8"))


def test_serving_the_document_leaves_the_routes_working(management_api: ManagementApi):
    management_api("GET", "/v1/openapi.json", application=None)

    assert management_api("POST", "/v1/webhooks", body={"url": "https://h.example.com/", "events": ["*"]}).status == 201


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "a valid API key is required (Authorization: Bearer <key>)"),
        ({"auth_error": "the API key has been revoked"}, "the API key has been revoked"),
    ],
)
def test_without_a_application_a_protected_route_answers_401_with_the_envelope(
    management_api: ManagementApi, options, message
):
    response = management_api("GET", "/v1/webhooks", application=None, **options)

    assert response.status == 401
    assert response.body == {"error": {"type": "unauthorized", "message": message}}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_authentication_is_checked_before_the_body_is_validated(management_api: ManagementApi):
    response = management_api("POST", "/v1/webhooks", application=None, body={"colour": "blue"})

    assert response.status == 401


def test_an_unknown_route_is_a_404_with_the_envelope(management_api: ManagementApi):
    response = management_api("GET", "/v1/nothing-here")

    assert response.status == 404
    assert response.error_type == "not_found"


def test_an_unexpected_failure_is_a_500_with_the_envelope_and_no_details(management_api: ManagementApi, aws):
    aws.dynamodb.delete_table(TableName=aws.table_name)

    response = management_api("GET", "/v1/webhooks")

    assert response.status == 500
    assert response.body == {
        "error": {"type": "internal_error", "message": "an internal error occurred; it has been logged"}
    }
