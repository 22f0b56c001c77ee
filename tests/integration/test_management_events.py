"""The management handler on every sample event in events/management (the `sam local invoke` inputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.core.models import Application, Delivery, Event, SigningSecret, Webhook, utc_now
from functions.management import handler as management
from functions.store.applications import ApplicationStore
from functions.store.deliveries import DeliveryStore
from functions.store.events import EventStore
from functions.store.webhooks import WebhookStore
from tests.integration.conftest import AwsResources, FakeLambdaContext, ManagementApi

EVENTS = Path(__file__).resolve().parents[2] / "events" / "management"
APPLICATION = "demo"
WEBHOOK_ID = "wh_01jdq3xk5m8n2p4r6t8v0w2y4z"
DELIVERY_ID = "del_01jdq3xm0a1b2c3d4e5f6g7h8j"
EVENT_ID = "evt_01jdq3xk9z8y7x6w5v4t3s2r1q"

EXPECTED_STATUS = {
    "health": 200,
    "openapi": 200,
    "event-types-list": 200,
    "webhooks-create": 201,
    "webhooks-create-invalid-json": 400,
    "webhooks-create-unknown-field": 422,
    "webhooks-create-wrong-type": 422,
    "webhooks-create-private-url": 422,
    "webhooks-create-unauthorized": 401,
    "webhooks-list": 200,
    "webhooks-list-invalid-limit": 422,
    "webhooks-get": 200,
    "webhooks-get-malformed-id": 404,
    "webhooks-get-no-application": 401,
    "webhooks-update": 200,
    "webhooks-update-disable": 200,
    "webhooks-update-invalid": 422,
    "webhooks-delete": 200,
    "webhooks-rotate-secret": 200,
    "webhooks-deliveries-list": 200,
    "webhooks-deliveries-list-invalid-status": 422,
    "deliveries-get": 200,
    "deliveries-get-malformed-id": 404,
    "events-get": 200,
    "events-get-malformed-id": 404,
    "applications-create": 201,
    "applications-create-invalid-id": 422,
    "applications-create-with-application-key": 403,
    "applications-list": 200,
    "applications-webhooks-list": 200,
    "applications-webhooks-list-unknown-application": 404,
    "webhooks-list-with-platform-key": 403,
    "portal-sessions-create": 201,
    "api-keys-create": 201,
    "webhooks-delete-read-only-session": 403,
}


def seed_sample_objects(aws: AwsResources) -> None:
    now = utc_now()
    ApplicationStore(aws.dynamodb, aws.table_name).create(
        Application(id=APPLICATION, name="Demo", created_at=now, updated_at=now)
    )
    WebhookStore(aws.dynamodb, aws.table_name).create(
        Webhook(
            id=WEBHOOK_ID,
            application_id=APPLICATION,
            url="https://hooks.example.com/dovecote",
            events=["invoice.paid"],
            secrets=[SigningSecret(value="whsec_" + "A" * 44)],
            created_at=now,
            updated_at=now,
        )
    )
    DeliveryStore(aws.dynamodb, aws.table_name).create_with_outcome(
        Delivery(
            id=DELIVERY_ID,
            application_id=APPLICATION,
            webhook_id=WEBHOOK_ID,
            event_id=EVENT_ID,
            event_type="invoice.paid",
            created_at=now,
            updated_at=now,
        ),
        attempt_keys=frozenset(),
    )
    EventStore(aws.dynamodb, aws.table_name).put_new(
        Event(id=EVENT_ID, application_id=APPLICATION, type="invoice.paid", data={"amount": 4200}, created_at=now),
        expires_at_epoch=int(now.timestamp()) + 3600,
    )


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def test_every_sample_event_has_an_expected_status():
    assert sorted(p.stem for p in EVENTS.glob("*.json")) == sorted(EXPECTED_STATUS)


@pytest.mark.parametrize(("name", "status"), sorted(EXPECTED_STATUS.items()))
def test_sample_event_gets_its_status_and_the_error_envelope_when_refused(
    name: str, status: int, management_api: ManagementApi, aws: AwsResources, lambda_context: FakeLambdaContext
):
    seed_sample_objects(aws)

    response = management.handler(load(name), lambda_context)

    assert response["statusCode"] == status, response["body"]
    body = json.loads(response["body"])
    if status >= 400:
        assert set(body) == {"error"}
        assert set(body["error"]) == {"type", "message"}
