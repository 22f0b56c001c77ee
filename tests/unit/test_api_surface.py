"""One HTTP surface (functions/api/): what each function imports, the edge rules, and the
constants every layer shares (functions/core/constants.py, the event-type vocabulary)."""

from __future__ import annotations

import sys
import tomllib

import pytest

from dovecote._version import __version__ as client_version
from functions.api.edge import allowed_methods, is_json_content_type, long_integer_error
from functions.core.constants import IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_CHARS, VERSION
from functions.core.matching import is_valid_pattern
from functions.core.profile import MAX_EVENT_TYPE_CHARS, EventType, is_event_type
from functions.management.openapi import build_document, route_table
from functions.pipeline.http import USER_AGENT
from tests.unit.fresh_python import REPO_ROOT, imported_after

# --- what a function imports ------------------------------------------------------------------


def test_the_ingest_function_imports_no_management_module_even_when_it_answers():
    event = {
        "version": "2.0",
        "rawPath": "/v1/events",
        "rawQueryString": "",
        "headers": {"content-type": "text/plain"},
        "requestContext": {
            "http": {"method": "POST", "path": "/v1/events"},
            "requestId": "r",
            "stage": "$default",
            "authorizer": {"lambda": {"application_id": "acme"}},
        },
        "body": "x",
        "isBase64Encoded": False,
    }
    code = (
        "import functions.ingest.handler as h\n"
        f"answer = h.app.resolve({event!r}, None)\n"
        "assert answer['statusCode'] == 415, answer\n"
    )
    modules = imported_after(code)

    assert "functions.ingest.routes" in modules
    assert "functions.api.responses" in modules
    assert sorted(m for m in modules if m.startswith("functions.management")) == []


# --- edge rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        (None, True),
        ("", True),
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("text/plain", False),
        ("application/octet-stream", False),
        ("multipart/form-data", False),
        ("application/x-www-form-urlencoded", False),
        ("application/jsonx", False),
        ("application/merge-patch+json", False),
    ],
)
def test_only_json_content_types_are_read_as_json(content_type: str | None, json: bool):
    assert is_json_content_type(content_type) is json


def test_allowed_methods_come_from_every_route_with_the_path():
    routes = {"/v1/webhooks": {"get", "post"}, "/v1/webhooks/{webhook_id}": {"GET", "DELETE"}, "/v1/events": {"POST"}}

    assert allowed_methods("/v1/webhooks", routes) == ["GET", "POST"]
    assert allowed_methods("/v1/webhooks/wh_1", routes) == ["DELETE", "GET"]
    assert allowed_methods("/v1/webhooks/", routes) == ["GET", "POST"]  # a trailing slash names the same path
    assert allowed_methods("/v1/webhooks//x", routes) == []
    assert allowed_methods("/v1/nothing", routes) == []


def test_the_route_table_is_the_documents_paths():
    document = build_document()

    assert set(route_table()) == set(document["paths"])
    assert route_table()["/v1/webhooks/{webhook_id}"] == {"GET", "PATCH", "DELETE"}


def test_a_too_long_integer_is_found_wherever_it_is():
    digits = "9" * (sys.get_int_max_str_digits() + 1)

    error = long_integer_error(f'{{"a": [0, {{"b": -{digits}}}]}}')

    assert error is not None
    [problem] = error.errors()
    assert problem["loc"] == ("body", "a", 1, "b")
    assert long_integer_error('{"a": 1}') is None
    assert long_integer_error("not json") is None


# --- constants with one home ----------------------------------------------------------------


def test_the_version_is_the_packages_the_documents_and_the_user_agents():
    with (REPO_ROOT / "pyproject.toml").open("rb") as pyproject:
        server_version = tomllib.load(pyproject)["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert server_version == "clients.python.dovecote._version.__version__"
    assert client_version == VERSION
    assert build_document()["info"]["version"] == VERSION
    assert f"Dovecote/{VERSION}" == USER_AGENT


def test_a_subscription_pattern_has_the_length_limit_of_an_event_type():
    """Otherwise an endpoint could subscribe to a type that can never be published."""
    longest_type = "a" * MAX_EVENT_TYPE_CHARS
    longest_family = "a" * (MAX_EVENT_TYPE_CHARS - 2) + ".*"

    assert is_event_type(longest_type)
    assert not is_event_type(longest_type + "a")
    assert is_valid_pattern(longest_type)
    assert is_valid_pattern(longest_family)
    assert is_event_type(longest_family[:-1] + "b")  # the family has a publishable member
    assert not is_valid_pattern(longest_type + "a")
    assert not is_valid_pattern(longest_family.replace(".*", "a.*"))


def test_a_catalog_type_is_no_longer_than_a_publishable_type():
    with pytest.raises(ValueError, match="at most 128"):
        EventType(name="a" * (MAX_EVENT_TYPE_CHARS + 1))


def test_the_document_states_the_shared_limits():
    document = build_document()
    schemas = document["components"]["schemas"]
    publish = document["paths"]["/v1/events"]["post"]
    [idempotency_key] = [p for p in publish["parameters"] if p["name"] == "idempotency-key"]
    deliveries = document["paths"]["/v1/webhooks/{webhook_id}/deliveries"]["get"]
    [event_filter] = [p for p in deliveries["parameters"] if p["name"] == "event"]

    assert schemas["PublishEvent"]["properties"]["type"]["maxLength"] == MAX_EVENT_TYPE_CHARS
    assert schemas["WebhookCreate"]["properties"]["events"]["items"]["maxLength"] == MAX_EVENT_TYPE_CHARS
    assert event_filter["schema"]["anyOf"][0]["maxLength"] == MAX_EVENT_TYPE_CHARS
    assert idempotency_key["schema"]["anyOf"][0]["maxLength"] == MAX_IDEMPOTENCY_KEY_CHARS
    assert idempotency_key["schema"]["pattern"] == f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$"


def test_responses_are_documented_by_the_models_the_routes_return():
    document = build_document()
    operations = {o["operationId"]: o for ops in document["paths"].values() for o in ops.values()}

    def schema_of(operation_id: str, status: str) -> str:
        return operations[operation_id]["responses"][status]["content"]["application/json"]["schema"]["$ref"]

    assert schema_of("createWebhook", "201").endswith("/WebhookWithSecret")
    assert schema_of("getDelivery", "200").endswith("/DeliveryWithAttempts")
    assert schema_of("publishEvent", "202").endswith("/EventAccepted")
    assert schema_of("retryDelivery", "202").endswith("/DeliveryObject")
    assert schema_of("recoverWebhook", "202").endswith("/RecoveryObject")
    assert schema_of("listWebhooks", "200").endswith("/WebhookList")
    for code in ("409", "503"):
        assert code in operations["publishEvent"]["responses"]
    assert "415" in operations["updateWebhook"]["responses"]
