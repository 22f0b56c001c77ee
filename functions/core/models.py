"""Domain records shared by the management API and the delivery pipeline.

Records are what Dovecote stores; `public()` renders the API object (Stripe-style, with
an `object` field) and never includes secrets or application ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

RESPONSE_EXCERPT_BYTES = 1024


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _application_was_tenant(cls, data: Any) -> Any:
        """Items written before applications replaced tenants carry `tenant_id`: the same id."""
        if isinstance(data, dict) and "tenant_id" in data and "application_id" not in data:
            data = {**data, "application_id": data["tenant_id"]}
        return data


class SigningSecret(_Record):
    value: str
    expires_at: datetime | None = None
    """None for the current secret; set on a rotated-out secret that still signs until then."""


class Webhook(_Record):
    id: str
    application_id: str
    url: str
    events: list[str]
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    secrets: list[SigningSecret]
    created_at: datetime
    updated_at: datetime
    consecutive_failures: int = 0
    failing_since: datetime | None = None

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret first, then rotated-out ones still inside their grace period."""
        return [s.value for s in self.secrets if s.expires_at is None or s.expires_at > now]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "webhook",
            "url": self.url,
            "events": list(self.events),
            "description": self.description,
            "enabled": self.enabled,
            "status": "enabled" if self.enabled else "disabled",
            "disabled_reason": self.disabled_reason,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class Event(_Record):
    id: str
    application_id: str
    type: str
    data: Any = Field(default_factory=dict)
    created_at: datetime
    idempotency_key: str | None = None
    webhook_id: str | None = None
    """Set on test events: deliver to this endpoint only, whatever the subscriptions."""

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "event",
            "type": self.type,
            "data": self.data,
            "created_at": iso(self.created_at),
        }


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self is not DeliveryStatus.PENDING


class Attempt(_Record):
    number: int
    series: int = 1
    attempted_at: datetime
    response_status: int | None = None
    latency_ms: int
    error: str | None = None
    response_excerpt: str = ""
    next_retry_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "series": self.series,
            "attempted_at": iso(self.attempted_at),
            "response_status": self.response_status,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "response_excerpt": self.response_excerpt,
            "next_retry_at": iso(self.next_retry_at),
        }


class Delivery(_Record):
    id: str
    application_id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    created_at: datetime
    updated_at: datetime
    attempts: list[Attempt] = Field(default_factory=list)
    next_retry_at: datetime | None = None
    series: int = 1
    """Incremented by a manual retry, which starts a new attempt series (and execution)."""
    status_reason: str | None = None

    @property
    def last_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    def public(self, *, with_attempts: bool = False) -> dict[str, Any]:
        last = self.last_attempt
        document: dict[str, Any] = {
            "id": self.id,
            "object": "delivery",
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "event": self.event_type,
            "status": self.status.value,
            "status_reason": self.status_reason,
            "attempt_count": len(self.attempts),
            "response_status": last.response_status if last else None,
            "latency_ms": last.latency_ms if last else None,
            "error": last.error if last else None,
            "next_retry_at": iso(self.next_retry_at),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        if with_attempts:
            document["attempts"] = [a.public() for a in self.attempts]
        return document


class ApiKey(_Record):
    id: str
    application_id: str
    key_hash: str
    display_prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    description: str = ""

    @property
    def active(self) -> bool:
        return self.revoked_at is None
