"""The documented response shapes (functions/management/schemas.py) match what `public()` renders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from functions.core.models import Attempt, Delivery, DeliveryStatus, Event, SigningSecret, Webhook
from functions.management import schemas

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def webhook(**changes) -> Webhook:
    return Webhook(
        id="wh_01jdq3xk5m8n2p4r6t8v0w2y4z",
        application_id="acme",
        url="https://hooks.example.com/",
        events=["*"],
        secrets=[SigningSecret(value="whsec_x")],
        created_at=NOW,
        updated_at=NOW,
        **changes,
    )


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


def test_a_webhook_renders_as_documented():
    schemas.WebhookObject.model_validate(webhook().public())
    schemas.WebhookObject.model_validate(webhook(enabled=False, disabled_reason="gone").public())
    schemas.WebhookWithSecret.model_validate({**webhook().public(), "secret": "whsec_x"})


def test_a_delivery_renders_as_documented():
    schemas.DeliveryObject.model_validate(delivery().public())
    schemas.DeliveryWithAttempts.model_validate(delivery().public(with_attempts=True))


def test_an_event_renders_as_documented():
    event = Event(id="evt_01jdq3xk9z8y7x6w5v4t3s2r1q", application_id="acme", type="a.b", data=[1], created_at=NOW)

    schemas.EventObject.model_validate(event.public())


def test_the_documents_refuse_fields_public_does_not_render():
    document = {**webhook().public(), "application_id": "acme"}

    with pytest.raises(ValidationError, match="application_id"):
        schemas.WebhookObject.model_validate(document)
