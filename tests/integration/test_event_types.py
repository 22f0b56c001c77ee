"""The event-type catalog over the API: the platform registers, changes and deletes types (with a JSON
Schema and an example), every credential reads them, and publishing validates `data` against the schema."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from functions.ingest.dependencies import reset_dependencies as reset_ingest
from functions.management import handler as management
from functions.management.credentials import create_api_key
from functions.store.api_keys import ApiKeyStore
from tests.integration.conftest import APPLICATION, ApiResponse, AwsResources, CallApi, ManagementApi
from tests.integration.pipeline_support import Pipeline, pipeline_under_moto
from tests.unit.fresh_python import run_python

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

PLATFORM = {"credential": "platform", "key_id": "key_test"}
AMOUNT_SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "number", "minimum": 0}, "lines": {"type": "array", "items": {"type": "string"}}},
    "required": ["amount"],
}


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


def as_platform(management_api: ManagementApi, method: str, path: str, body: Any = None) -> ApiResponse:
    return management_api(method, path, application=None, context=PLATFORM, body=body)


def register(management_api: ManagementApi, **fields: Any) -> ApiResponse:
    return as_platform(management_api, "POST", "/v1/event-types", {"name": "invoice.paid", **fields})


# Registering and reading ----------------------------------------------------------------------


def test_a_registered_type_shows_its_schema_and_example_to_every_credential(
    management_api: ManagementApi, aws: AwsResources, call_api: CallApi
) -> None:
    created = register(management_api, description="An invoice was paid.", schema=AMOUNT_SCHEMA, example={"amount": 5})
    assert created.status == 201, created.body
    expected = {
        "object": "event_type",
        "name": "invoice.paid",
        "description": "An invoice was paid.",
        "schema": AMOUNT_SCHEMA,
        "example": {"amount": 5},
        "deprecated": False,
        "source": "platform",
    }
    assert created.body == expected

    assert management_api("GET", "/v1/event-types/invoice.paid").body == expected  # an application key
    assert as_platform(management_api, "GET", "/v1/event-types/invoice.paid").body == expected
    scoped = as_platform(management_api, "GET", f"/v1/applications/{APPLICATION}/event-types/invoice.paid")
    assert scoped.status == 404  # no application acme here: a scoped route still checks the application
    listed = as_platform(management_api, "GET", "/v1/event-types").body
    assert (listed["data"], listed["catalog"]) == ([expected], False)


def test_the_profiles_types_come_first_and_the_platform_can_change_but_not_delete_them(
    management_api: ManagementApi,
) -> None:
    management_api.switch_profile("mutx")
    assert register(management_api, name="billing.charged").status == 201

    names = [(t["name"], t["source"]) for t in management_api("GET", "/v1/event-types").body["data"]]
    assert names[0] == ("agent.started", "profile")
    assert names[-1] == ("billing.charged", "platform")

    changed = as_platform(
        management_api, "PATCH", "/v1/event-types/agent.heartbeat", {"schema": {"type": "object"}, "deprecated": True}
    )
    assert changed.status == 200, changed.body
    assert (changed.body["schema"], changed.body["deprecated"], changed.body["source"]) == (
        {"type": "object"},
        True,
        "profile",
    )
    listed = {t["name"]: t for t in management_api("GET", "/v1/event-types").body["data"]}
    assert listed["agent.heartbeat"]["deprecated"] is True
    assert listed["agent.heartbeat"]["description"] == "Periodic heartbeat"

    refused = as_platform(management_api, "DELETE", "/v1/event-types/agent.heartbeat")
    assert (refused.status, refused.error_type) == (409, "conflict")
    duplicate = register(management_api, name="agent.started")
    assert (duplicate.status, duplicate.error_type) == (409, "conflict")


def test_changing_and_deleting_a_registered_type(management_api: ManagementApi) -> None:
    register(management_api, schema=AMOUNT_SCHEMA, example={"amount": 1})

    removed_schema = as_platform(management_api, "PATCH", "/v1/event-types/invoice.paid", {"schema": None})
    assert (removed_schema.status, removed_schema.body["schema"], removed_schema.body["example"]) == (
        200,
        None,
        {"amount": 1},
    )
    deleted = as_platform(management_api, "DELETE", "/v1/event-types/invoice.paid")
    assert (deleted.status, deleted.body) == (200, {"object": "event_type", "name": "invoice.paid", "deleted": True})
    assert management_api("GET", "/v1/event-types/invoice.paid").status == 404
    assert as_platform(management_api, "DELETE", "/v1/event-types/invoice.paid").status == 404


def test_a_webhook_may_subscribe_to_a_registered_type_of_a_closed_catalog(management_api: ManagementApi) -> None:
    management_api.switch_profile("mutx")
    body = {"url": "https://hooks.example.com/", "events": ["billing.*"]}
    refused = management_api("POST", "/v1/webhooks", body=body)
    assert (refused.status, refused.error_type) == (422, "invalid_request")

    register(management_api, name="billing.charged")
    accepted = management_api("POST", "/v1/webhooks", body=body)
    assert accepted.status == 201, accepted.body


# Bad input ------------------------------------------------------------------------------------------


def test_a_name_the_catalog_has_is_a_conflict(management_api: ManagementApi) -> None:
    assert register(management_api).status == 201
    again = register(management_api, description="again")
    assert (again.status, again.error_type) == (409, "conflict")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("name", ["no.such_type", "Not A Type", "a" * 2000])
def test_an_unknown_type_is_not_found(management_api: ManagementApi, method: str, name: str) -> None:
    body = {"description": "x"} if method == "PATCH" else None
    response = as_platform(management_api, method, f"/v1/event-types/{name}", body)
    assert (response.status, response.error_type) == (404, "not_found")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "Invoice Paid"}, "name"),
        ({"schema": {"type": "strin"}}, "schema"),
        ({"schema": {"properties": 5}}, "schema"),
        ({"schema": {"$ref": "https://schemas.example.com/invoice.json"}}, "schema"),
        ({"schema": "object"}, "schema"),
        ({"schema": AMOUNT_SCHEMA, "example": {"amount": -1}}, "example"),
        ({"deprecated": "yes"}, "deprecated"),
        ({"description": "x" * 1001}, "description"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(management_api: ManagementApi, fields: dict[str, Any], field: str) -> None:
    response = register(management_api, **fields)
    assert (response.status, response.error_type) == (422, "invalid_request"), response.body
    assert response.body["error"]["message"].startswith(f"{field}: "), response.body


def test_a_change_whose_example_no_longer_fits_the_schema_is_refused(management_api: ManagementApi) -> None:
    register(management_api, example={"amount": -3})
    response = as_platform(management_api, "PATCH", "/v1/event-types/invoice.paid", {"schema": AMOUNT_SCHEMA})
    assert (response.status, response.error_type) == (422, "invalid_request")
    assert response.body["error"]["message"].startswith("example: does not fit the schema: example.amount")
    assert management_api("GET", "/v1/event-types/invoice.paid").body["schema"] is None


def test_null_is_refused_for_the_fields_that_cannot_be_cleared(management_api: ManagementApi) -> None:
    register(management_api)
    response = as_platform(management_api, "PATCH", "/v1/event-types/invoice.paid", {"deprecated": None})
    assert (response.status, response.body["error"]["message"]) == (422, "deprecated: may not be null")


def test_only_a_platform_key_changes_the_catalog(
    management_api: ManagementApi, aws: AwsResources, call_api: CallApi
) -> None:
    for method, path, body in (
        ("POST", "/v1/event-types", {"name": "invoice.paid"}),
        ("PATCH", "/v1/event-types/invoice.paid", {"description": "x"}),
        ("DELETE", "/v1/event-types/invoice.paid", None),
    ):
        response = management_api(method, path, body=body)
        assert (response.status, response.error_type) == (403, "forbidden"), (method, response.body)
    _, token = create_api_key(ApiKeyStore(aws.dynamodb, aws.table_name), APPLICATION, "x")
    assert token  # an application key exists; its calls are the ones above (the authorizer's context)
    scoped_write = call_api(
        management.handler,
        "POST",
        f"/v1/applications/{APPLICATION}/event-types",
        context=PLATFORM,
        body={"name": "invoice.paid"},
    )
    assert scoped_write.status == 405  # the catalog is the deployment's: no per-application copy of its changes
    assert management_api("GET", "/v1/event-types").body["data"] == []


# Publishing -----------------------------------------------------------------------------------------


def test_publishing_validates_data_against_the_types_schema(pipeline: Pipeline, management_api: ManagementApi) -> None:
    assert register(management_api, schema=AMOUNT_SCHEMA).status == 201

    assert pipeline.publish("invoice.paid", {"amount": 12.5, "lines": ["a"]}).status == 202
    wrong = [
        ({"amount": -1}, "data.amount: must be bigger than or equal to 0"),
        ({"lines": []}, "data: must contain ['amount'] properties"),
        ({"amount": 1, "lines": ["a", 3]}, "data.lines[1]: must be string"),
    ]
    for data, message in wrong:
        response = pipeline.publish("invoice.paid", data)
        assert (response.status, response.error_type) == (422, "invalid_request")
        assert response.body["error"]["message"].startswith(message), response.body
    assert pipeline.publish("user.created", {"anything": True}).status == 202  # a type without a schema


def test_a_deprecated_type_can_still_be_published(pipeline: Pipeline, management_api: ManagementApi) -> None:
    register(management_api, deprecated=True)
    assert pipeline.publish("invoice.paid", {"amount": 1}).status == 202


def test_a_closed_catalog_accepts_the_types_the_platform_registers(
    pipeline: Pipeline, management_api: ManagementApi
) -> None:
    pipeline.use_profile("mutx")
    management_api.switch_profile("mutx")
    assert pipeline.publish("billing.charged").status == 422
    register(management_api, name="billing.charged", schema=AMOUNT_SCHEMA)
    reset_ingest()  # another function instance: the first has remembered for a minute that the type was unknown
    assert pipeline.publish("billing.charged", {"amount": 3}).status == 202
    assert (
        pipeline.publish("billing.charged", {"amount": "3"})
        .body["error"]["message"]
        .startswith("data.amount: must be number")
    )


def test_the_ingest_function_loads_no_schema_library_until_a_type_has_a_schema() -> None:
    probe = (
        "import sys, functions.ingest.handler, functions.pipeline.publishing as p;"
        "from functions.core.catalog import CatalogEntry;"
        "from functions.core.profile import EventType;"
        "p.validate_data(CatalogEntry(EventType(name='user.created'), source='platform'), {'a': 1});"
        "before = 'fastjsonschema' in sys.modules;"
        "p.validate_data(CatalogEntry(EventType.model_validate({'name': 'x.y', 'schema': {'type': 'object'}}),"
        " source='platform'), {'a': 1});"
        "print(json.dumps([before, 'fastjsonschema' in sys.modules]))"
    )
    result = run_python("-c", "import json;" + probe, environment=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [False, True]
