"""Records and settings the unit tests build on: one fixed clock, the default profile, a stored webhook
and a stored delivery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.core.models import Delivery, SigningSecret, Webhook
from functions.core.profile import load_profile

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
"""The fixed time the record tests are set at."""
STANDARD = load_profile("standard")
"""The default profile (Standard Webhooks)."""


def webhook_record(**changes: Any) -> Webhook:
    """A stored webhook of application `acme`, subscribed to every event type, with one signing secret,
    created and last updated at NOW; `changes` replace any of its fields."""
    fields: dict[str, Any] = {
        "id": "wh_1",
        "application_id": "acme",
        "url": "https://example.com/hook",
        "events": ["*"],
        "secrets": [SigningSecret(value="whsec_x")],
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Webhook(**(fields | changes))


def delivery_record(**changes: Any) -> Delivery:
    """A pending delivery of application `acme` to webhook `wh_01jd…`, created and last updated at NOW;
    `changes` replace any of its fields."""
    fields: dict[str, Any] = {
        "id": "del_01jd2q8x4m7n3p5r9t1v6w8y0z",
        "application_id": "acme",
        "webhook_id": "wh_01jd2q8x4m7n3p5r9t1v6w8y0z",
        "event_id": "evt_1",
        "event_type": "order.created",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Delivery(**(fields | changes))
