"""The response objects (functions/api/responses.py) render the records as documented."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from functions.api import responses
from functions.core.catalog import CatalogEntry
from functions.core.models import (
    ApiKey,
    Application,
    Attempt,
    Delivery,
    DeliveryStatus,
    Event,
    SigningSecret,
    Webhook,
)
from functions.core.profile import EventType
from functions.pipeline.redelivery import Recovery
from functions.store.pagination import Page
from tests.unit.records import NOW, webhook_record

NOW_TEXT = "2026-03-04T12:00:00.000Z"


def webhook(**changes) -> Webhook:
    return webhook_record(id="wh_01jdq3xk5m8n2p4r6t8v0w2y4z", url="https://hooks.example.com/", **changes)


def delivery() -> Delivery:
    return Delivery(
        id="del_01jdq3xm0a1b2c3d4e5f6g7h8j",
        application_id="acme",
        webhook_id="wh_01jdq3xk5m8n2p4r6t8v0w2y4z",
        event_id="evt_01jdq3xk9z8y7x6w5v4t3s2r1q",
        event_type="user.created",
        status=DeliveryStatus.FAILED,
        created_at=NOW,
        updated_at=NOW,
        attempts=[Attempt(number=1, attempted_at=NOW, response_status=502, latency_ms=31, error="bad gateway")],
    )


def rendered(model: responses.BaseModel) -> dict:
    """As Powertools writes an answer: JSON, fields by their API names (aliases)."""
    return model.model_dump(mode="json", by_alias=True)


def test_a_webhook_renders_as_documented():
    document = rendered(responses.WebhookObject.from_record(webhook()))

    assert document == {
        "id": "wh_01jdq3xk5m8n2p4r6t8v0w2y4z",
        "object": "webhook",
        "type": "https",
        "url": "https://hooks.example.com/",
        "target": None,
        "role_arn": None,
        "external_id": None,
        "message_group_id": None,
        "source": None,
        "events": ["*"],
        "description": "",
        "enabled": True,
        "status": "enabled",
        "disabled_reason": None,
        "disabled_at": None,
        "headers": {},
        "filter": None,
        "public_key": None,
        "rate_limit_per_second": None,
        "effective_rate_limit_per_second": None,
        "created_at": NOW_TEXT,
        "updated_at": NOW_TEXT,
    }
    disabled = rendered(responses.WebhookObject.from_record(webhook(enabled=False, disabled_reason="gone")))
    assert (disabled["status"], disabled["disabled_reason"]) == ("disabled", "gone")
    with_secret = rendered(responses.WebhookWithSecret.with_secret(webhook(), "whsec_x"))
    assert with_secret == {**document, "secret": "whsec_x"}


def test_a_v1a_webhook_shows_its_public_key_and_never_its_signing_key():
    vector = json.loads((Path(__file__).parents[2] / "docs" / "v1a-test-vectors.json").read_text())["vectors"][0]
    v1a = webhook(secrets=[SigningSecret(value=vector["secret_key"])])

    created = rendered(responses.WebhookWithSecret.with_secret(v1a, vector["secret_key"]))
    rotated = rendered(responses.RotatedWebhook.rotated(v1a, vector["secret_key"], None))

    assert created["public_key"] == created["secret"] == vector["public_key"]
    assert rotated["secret"] == vector["public_key"]
    assert vector["secret_key"] not in json.dumps([created, rotated])


def test_a_rotated_webhook_says_until_when_the_previous_secret_signs():
    rotated = responses.RotatedWebhook.rotated(webhook(), "whsec_new", NOW + timedelta(days=1))

    assert rendered(rotated)["previous_secret_expires_at"] == "2026-03-05T12:00:00.000Z"
    stopped_at_once = responses.RotatedWebhook.rotated(webhook(), "whsec_new", None)
    assert rendered(stopped_at_once)["previous_secret_expires_at"] is None


def test_a_delivery_renders_as_documented():
    document = rendered(responses.DeliveryObject.from_record(delivery()))

    assert document["object"] == "delivery"
    assert document["event"] == "user.created"
    assert (document["status"], document["attempt_count"]) == ("failed", 1)
    assert (document["response_status"], document["latency_ms"], document["error"]) == (502, 31, "bad gateway")
    assert "attempts" not in document
    with_attempts = rendered(responses.DeliveryWithAttempts.from_record(delivery()))
    assert with_attempts == {
        **document,
        "attempts": [
            {
                "number": 1,
                "series": 1,
                "attempted_at": NOW_TEXT,
                "response_status": 502,
                "latency_ms": 31,
                "error": "bad gateway",
                "response_excerpt": "",
                "next_retry_at": None,
                "retry_after_seconds": None,
            }
        ],
    }


def test_an_event_renders_as_documented():
    event = Event(id="evt_01jdq3xk9z8y7x6w5v4t3s2r1q", application_id="acme", type="a.b", data=[1], created_at=NOW)

    assert rendered(responses.EventObject.from_record(event)) == {
        "id": event.id,
        "object": "event",
        "type": "a.b",
        "data": [1],
        "created_at": NOW_TEXT,
    }
    assert rendered(responses.EventAccepted.from_record(event)) == {
        "id": event.id,
        "object": "event",
        "type": "a.b",
        "created_at": NOW_TEXT,
    }


def test_lists_carry_the_page_and_where_it_was_read():
    page = Page(items=[webhook()], next_cursor="d2hfMDE")

    document = rendered(responses.WebhookList.from_page(page, url="/v1/webhooks"))

    assert document == {
        "object": "list",
        "data": [rendered(responses.WebhookObject.from_record(webhook()))],
        "has_more": True,
        "next_cursor": "d2hfMDE",
        "url": "/v1/webhooks",
    }


def test_the_event_type_list_says_whether_there_is_a_catalog():
    catalog = [CatalogEntry(EventType(name="task.completed", description="A task finished."), source="profile")]

    with_catalog = rendered(responses.EventTypeList.from_catalog(catalog, closed=True, url="/v1/event-types"))
    without = rendered(responses.EventTypeList.from_catalog([], closed=False, url="/v1/event-types"))

    assert with_catalog["data"] == [
        {
            "object": "event_type",
            "name": "task.completed",
            "description": "A task finished.",
            "schema": None,
            "example": None,
            "deprecated": False,
            "source": "profile",
        }
    ]
    assert (with_catalog["catalog"], with_catalog["has_more"]) == (True, False)
    assert (without["data"], without["catalog"]) == ([], False)


def test_an_event_type_shows_its_schema_example_and_deprecation_under_their_api_names():
    schema = {"type": "object", "properties": {"amount": {"type": "number", "minimum": 0.5}}}
    event_type = EventType.model_validate(
        {"name": "invoice.paid", "schema": schema, "example": {"amount": 12.5}, "deprecated": True}
    )

    shown = rendered(responses.EventTypeObject.from_record(CatalogEntry(event_type, source="platform")))

    assert (shown["schema"], shown["example"], shown["deprecated"], shown["source"]) == (
        schema,
        {"amount": 12.5},
        True,
        "platform",
    )
    assert "json_schema" not in shown


def test_a_recovery_and_an_error_render_as_documented():
    recovery = Recovery(webhook_id="wh_01jdq3xk5m8n2p4r6t8v0w2y4z", since=NOW, deliveries_requeued=3, has_more=False)

    assert rendered(responses.RecoveryObject.from_record(recovery)) == {
        "object": "recovery",
        "webhook_id": recovery.webhook_id,
        "since": NOW_TEXT,
        "deliveries_requeued": 3,
        "has_more": False,
    }
    assert rendered(responses.ErrorEnvelope.of("not_found", "no webhook")) == {
        "error": {"type": "not_found", "message": "no webhook"}
    }
    assert rendered(responses.DeletedWebhook.of("wh_x")) == {"id": "wh_x", "object": "webhook", "deleted": True}


def test_the_documents_refuse_fields_they_do_not_declare():
    document = {**rendered(responses.WebhookObject.from_record(webhook())), "application_id": "acme"}

    with pytest.raises(ValidationError, match="application_id"):
        responses.WebhookObject.model_validate(document)


def test_no_record_renders_itself():
    """The API objects have one home: the records carry no renderer of their own."""
    for record in (Webhook, Event, Delivery, Attempt):
        assert not hasattr(record, "public"), record.__name__


def test_platform_objects_render_as_documented():
    application = Application(
        id="acme", name="Acme", metadata={"tier": "gold"}, rate_limit_per_second=50, created_at=NOW, updated_at=NOW
    )
    key = ApiKey(id="key_1", application_id="acme", key_hash="h", display_prefix="dvc_live_ab", created_at=NOW)
    platform_key = key.model_copy(update={"application_id": None, "revoked_at": NOW})

    assert rendered(responses.ApplicationObject.from_record(application)) == {
        "object": "application",
        "id": "acme",
        "name": "Acme",
        "metadata": {"tier": "gold"},
        "rate_limit_per_second": 50,
        "created_at": NOW_TEXT,
        "updated_at": NOW_TEXT,
    }
    assert rendered(responses.ApiKeyWithSecret.with_key(key, "dvc_live_secret")) == {
        "object": "api_key",
        "id": "key_1",
        "kind": "application",
        "application_id": "acme",
        "display_prefix": "dvc_live_ab",
        "description": "",
        "created_at": NOW_TEXT,
        "revoked_at": None,
        "key": "dvc_live_secret",
    }
    revoked = rendered(responses.ApiKeyObject.from_record(platform_key))
    assert (revoked["kind"], revoked["application_id"], revoked["revoked_at"]) == ("platform", None, NOW_TEXT)
    listed = rendered(
        responses.ApplicationList.from_page(Page(items=[application], next_cursor=None), "/v1/applications")
    )
    assert (listed["object"], listed["has_more"], len(listed["data"])) == ("list", False, 1)
