"""Records and settings the unit tests build on: one fixed clock, the default profile, a stored webhook."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.core.models import SigningSecret, Webhook
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
