"""The SDK's models (dovecote/_models.py) against the served OpenAPI document (docs/openapi.json).

Each SDK model declares exactly the fields of the response schemas it parses, and accepts every
shape those schemas allow (each alternative of a nullable field, each enum value's type); each
list schema is read by `ListPage`. A field added to the API without the SDK, or the SDK keeping
a field the API dropped, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dovecote import _models
from dovecote._pagination import ListPage

OPENAPI = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text(encoding="utf-8"))
SCHEMAS: dict[str, dict[str, Any]] = OPENAPI["components"]["schemas"]
TIME_FIELDS = ("_at", "since")
"""Fields the API sends as ISO-8601 times (the SDK parses them into datetimes)."""

MODEL_SCHEMAS: dict[type[_models.DovecoteObject], tuple[str, ...]] = {
    _models.Webhook: ("WebhookObject",),
    _models.WebhookWithSecret: ("WebhookWithSecret", "RotatedWebhook"),
    _models.DeletedWebhook: ("DeletedWebhook",),
    _models.Delivery: ("DeliveryObject", "DeliveryWithAttempts"),
    _models.Attempt: ("AttemptObject",),
    _models.Event: ("EventObject", "EventAccepted"),
    _models.EventBatch: ("EventBatchAccepted",),
    _models.BatchItemResult: ("BatchItemResult",),
    _models.EventType: ("EventTypeObject",),
    _models.DeletedEventType: ("DeletedEventType",),
    _models.Recovery: ("RecoveryObject",),
    _models.Application: ("ApplicationObject",),
    _models.DeletedApplication: ("DeletedApplication",),
    _models.ApiKey: ("ApiKeyObject",),
    _models.ApiKeyWithSecret: ("ApiKeyWithSecret",),
    _models.PortalSession: ("PortalSessionObject",),
    _models.OperationalWebhook: ("OperationalWebhookObject",),
    _models.OperationalWebhookWithSecret: ("OperationalWebhookWithSecret",),
    _models.DeletedOperationalWebhook: ("DeletedOperationalWebhook",),
}
LIST_SCHEMAS: dict[str, type[_models.DovecoteObject]] = {
    "WebhookList": _models.Webhook,
    "DeliveryList": _models.Delivery,
    "EventTypeList": _models.EventType,
    "ApplicationList": _models.Application,
    "ApiKeyList": _models.ApiKey,
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _sample(name: str, schema: dict[str, Any], alternative: int) -> Any:
    """A value the schema allows; `alternative` picks among anyOf branches (0: first, -1: last)."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        return _sample(name, schema["anyOf"][alternative], alternative)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][alternative]
    kind = schema.get("type")
    if "properties" in schema:
        return _document(schema, alternative)
    if kind == "object":
        return {"key": "text"}
    samples = {
        "string": "2026-03-04T12:45:00Z" if name.endswith(TIME_FIELDS) else "text",
        "integer": 7,
        "number": 1.5,
        "boolean": True,
        "null": None,
    }
    if kind == "array":
        return [_sample(name, schema["items"], alternative)]
    if kind is None:
        return {"any": ["json"]}
    return samples[kind]


def _document(schema: dict[str, Any], alternative: int) -> dict[str, Any]:
    return {name: _sample(name, field, alternative) for name, field in schema["properties"].items()}


@pytest.mark.parametrize("model", list(MODEL_SCHEMAS), ids=lambda model: model.__name__)
def test_each_sdk_model_declares_exactly_the_fields_of_its_response_schemas(model: type[_models.DovecoteObject]):
    documented = {field for name in MODEL_SCHEMAS[model] for field in SCHEMAS[name]["properties"]}

    assert {field.alias or name for name, field in model.model_fields.items()} == documented  # by their API names


@pytest.mark.parametrize(
    ("model", "schema_name"),
    [(model, name) for model, names in MODEL_SCHEMAS.items() for name in names],
    ids=lambda value: getattr(value, "__name__", value),
)
@pytest.mark.parametrize("alternative", [0, -1], ids=["first-alternatives", "last-alternatives"])
def test_each_sdk_model_parses_every_shape_its_schema_allows(
    model: type[_models.DovecoteObject], schema_name: str, alternative: int
):
    document = _document(SCHEMAS[schema_name], alternative)

    parsed = model.model_validate(document)

    assert parsed.to_dict() == document
    assert set(SCHEMAS[schema_name]["required"]) <= set(document)
    assert not parsed.model_extra


@pytest.mark.parametrize("schema_name", list(LIST_SCHEMAS))
def test_list_pages_read_every_list_schema(schema_name: str):
    schema = SCHEMAS[schema_name]
    document = _document(schema, 0)

    page = ListPage.from_api(document, LIST_SCHEMAS[schema_name])

    assert schema["properties"]["object"]["const"] == "list"
    assert {"data", "has_more"} <= set(schema["required"])
    assert [item.to_dict() for item in page.data] == document["data"]
    assert page.has_more is document["has_more"]
    assert page.next_cursor == document.get("next_cursor")
    assert page.to_dict() == document


def test_every_object_schema_of_the_document_is_covered():
    covered = {name for names in MODEL_SCHEMAS.values() for name in names} | set(LIST_SCHEMAS)
    not_objects = {"ErrorDetail", "ErrorEnvelope", "Health"}
    bodies = {
        name
        for name in SCHEMAS
        if name.endswith(("Create", "Update", "Request")) or name in ("PublishEvent", "PublishBatch", "BatchEvent")
    }

    assert set(SCHEMAS) - covered - not_objects - bodies == set()
