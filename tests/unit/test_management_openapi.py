"""The OpenAPI document (functions/management/openapi.py) and the committed docs/openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

from functions.management.openapi import build_document, openapi_json
from functions.management.routes import router as management_router

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_document_is_up_to_date():
    assert COMMITTED.read_text(encoding="utf-8") == openapi_json(), "stale: run `make openapi`"


def test_the_document_covers_both_functions():
    operations = {o["operationId"] for ops in build_document()["paths"].values() for o in ops.values()}

    assert {"createWebhook", "listWebhooks", "getDelivery", "getEvent", "listEventTypes", "getOpenApi"} <= operations
    assert {"publishEvent", "testWebhook", "retryDelivery", "recoverWebhook"} <= operations


def test_it_is_openapi_3_1_with_bearer_security_and_no_servers():
    document = build_document()

    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Dovecote"
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["apiKey"]["description"],
    }
    assert document["security"] == [{"apiKey": []}]
    assert "servers" not in document


def test_only_health_and_the_document_itself_are_public():
    public = {
        path for path, ops in build_document()["paths"].items() for o in ops.values() if o.get("security") == [{}]
    }

    assert public == {"/v1/health", "/v1/openapi.json"}


def test_every_error_is_documented_as_the_error_envelope():
    document = build_document()
    schemas = document["components"]["schemas"]

    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    for path, operations in document["paths"].items():
        for operation in operations.values():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            assert errors or operation.get("security") == [{}], (path, operation["operationId"])
            for code, response in errors.items():
                schema = response["content"]["application/json"]["schema"]
                # A 401 may also be API Gateway's own answer to a request with no Authorization header.
                refs = [option.get("$ref") for option in schema["oneOf"]] if code == "401" else [schema["$ref"]]
                assert "#/components/schemas/ErrorEnvelope" in refs
    assert "401" in document["paths"]["/v1/webhooks"]["get"]["responses"]
    assert "401" not in document["paths"]["/v1/health"]["get"]["responses"]


def test_building_the_document_leaves_each_router_with_its_own_resolver():
    before = management_router.api_resolver

    build_document()

    assert management_router.api_resolver is before


def test_the_document_is_valid_json_with_a_trailing_newline():
    text = openapi_json()

    assert text.endswith("}\n")
    assert json.loads(text) == build_document()
