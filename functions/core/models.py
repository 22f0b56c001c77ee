"""Domain records shared by the management API and the delivery pipeline.

Records are what Dovecote stores; the API objects rendered from them are in
functions/api/responses.py.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.core.destinations import AwsDestination, DestinationType
from functions.core.timestamps import StoredTime, iso, utc_now

__all__ = ["iso", "utc_now"]  # re-exported: every caller reads moments and formats them the same way

RESPONSE_EXCERPT_BYTES = 1024


class _Record(BaseModel):
    # Each record's validator is built when first used, not at import: fan-out's hot path reads only
    # subscriptions (functions/store/webhooks.py), POST /v1/events only builds an Event, and so on.
    # The deliver function builds the ones its batch threads share at init (functions/deliver/handler.py).
    model_config = ConfigDict(extra="ignore", defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _application_was_tenant(cls, data: Any) -> Any:
        """Items written before applications replaced tenants carry `tenant_id`: the same id."""
        if isinstance(data, dict) and "tenant_id" in data and "application_id" not in data:
            data = {**data, "application_id": data["tenant_id"]}
        return data


class SigningSecret(_Record):
    value: str
    expires_at: StoredTime | None = None
    """None for the current secret; set on a rotated-out secret that still signs until then."""


class Webhook(_Record):
    id: str
    application_id: str
    type: DestinationType = DestinationType.HTTPS
    url: str
    """Where deliveries go: the HTTPS URL, or an AWS destination's target (queue URL, topic or bus ARN)."""
    destination: AwsDestination | None = None
    """Set on AWS destinations (sqs, sns, eventbridge): the role to assume and the type's options."""
    events: list[str]
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: StoredTime | None = None
    """When it was disabled (by a 410, the health rule or through the API); None while enabled."""
    secrets: list[SigningSecret]
    created_at: StoredTime
    updated_at: StoredTime
    consecutive_failures: int = 0
    failing_since: StoredTime | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    """Custom headers sent with every delivery (functions/core/custom_headers.py)."""
    filter: dict[str, Any] | None = None
    """A payload filter (functions/core/filters.py): events it does not match are not delivered here."""
    rate_limit_per_second: int | None = None
    """At most this many deliveries to the endpoint in any second (None: its application's default)."""
    application_rate_limit_per_second: int | None = None
    """The application's default limit, copied here when it is set (functions/management/platform.py), so that
    the deliver function knows it from the endpoint it reads anyway."""

    @property
    def effective_rate_limit(self) -> int | None:
        """The limit its deliveries keep to: its own, else its application's default; None: unlimited."""
        return self.rate_limit_per_second or self.application_rate_limit_per_second

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret first, then rotated-out ones still inside their grace period."""
        return [s.value for s in self.secrets if s.expires_at is None or s.expires_at > now]


class Event(_Record):
    id: str
    application_id: str
    type: str
    data: Any = Field(default_factory=dict)
    created_at: StoredTime
    idempotency_key: str | None = None
    webhook_id: str | None = None
    """Set on test events: deliver to this endpoint only, whatever the subscriptions."""


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
    attempted_at: StoredTime
    response_status: int | None = None
    latency_ms: int
    error: str | None = None
    response_excerpt: str = ""
    next_retry_at: StoredTime | None = None
    retry_after_seconds: int | None = Field(default=None, exclude_if=lambda seconds: seconds is None)
    """The wait the receiver asked for with a 429 or 503 (`Retry-After`, capped at the profile's
    longest delay); not stored when it asked none, so the happy path's items do not grow."""


class Delivery(_Record):
    id: str
    application_id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    created_at: StoredTime
    updated_at: StoredTime
    attempts: list[Attempt] = Field(default_factory=list)
    next_retry_at: StoredTime | None = None
    series: int = 1
    """Incremented by a manual retry, which starts a new attempt series (and execution)."""
    status_reason: str | None = None

    @property
    def last_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


class CredentialKind(StrEnum):
    """Who a bearer credential speaks for."""

    PLATFORM = "platform"
    """Every application, plus applications, keys, portal sessions and operational settings."""
    APPLICATION = "application"
    """One application: its webhooks, deliveries and events."""
    PORTAL_SESSION = "portal_session"
    """One application, short-lived, optionally read-only; never key management."""


class ApiKey(_Record):
    """A bearer credential of any kind; only its sha256 is stored."""

    id: str
    kind: CredentialKind = CredentialKind.APPLICATION
    application_id: str | None = None
    """None for a platform key."""
    key_hash: str
    display_prefix: str
    created_at: StoredTime
    revoked_at: StoredTime | None = None
    description: str = ""
    read_only: bool = False
    expires_at: StoredTime | None = None
    """Set on portal sessions: the credential stops working then."""

    def active_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    @property
    def active(self) -> bool:
        return self.active_at(utc_now())


class Application(_Record):
    """One customer of the platform; every other record is keyed by its id."""

    id: str
    name: str
    metadata: dict[str, str] = Field(default_factory=dict)
    rate_limit_per_second: int | None = None
    """The default limit of its endpoints that set none (None: unlimited)."""
    created_at: StoredTime
    updated_at: StoredTime
