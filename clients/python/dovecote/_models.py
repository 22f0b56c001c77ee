"""Typed views of the API's JSON objects.

Every model accepts fields it does not know (`extra="allow"`, reachable as attributes),
so a newer API never breaks an older SDK, and keeps the JSON exactly as received
(`to_dict()`).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidatorFunctionWrapHandler, model_validator


class DovecoteObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    _raw: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw_json(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, DovecoteObject):
            model._raw = data
        return model

    def to_dict(self) -> dict[str, Any]:
        """The object as the API sent it (timestamps as strings, unknown fields included)."""
        if self._raw is not None:
            return copy.deepcopy(self._raw)
        return self.model_dump(mode="json")


class Webhook(DovecoteObject):
    id: str
    object: str = "webhook"
    type: str = "https"
    """https, sqs, sns or eventbridge."""
    url: str
    target: str | None = None
    """sqs, sns, eventbridge: the queue URL, topic ARN or event bus ARN."""
    role_arn: str | None = None
    external_id: str | None = None
    """The ExternalId the role's trust policy must require (sts:ExternalId)."""
    message_group_id: str | None = None
    source: str | None = None
    events: list[str]
    description: str = ""
    enabled: bool = True
    status: str = "enabled"
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    """Custom headers sent with every delivery."""
    filter: dict[str, Any] | None = None
    """The payload filter (None: every event of the subscribed types)."""
    public_key: str | None = None
    """v1a endpoints: the Ed25519 public key (whpk_…) to verify deliveries with."""
    rate_limit_per_second: int | None = None
    """At most this many deliveries a second (None: the application's default, else unlimited)."""
    effective_rate_limit_per_second: int | None = None
    """The limit that applies: the endpoint's own, else its application's default (None: unlimited)."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class WebhookWithSecret(Webhook):
    """A webhook as returned by create and rotate-secret: the only time the secret is shown."""

    secret: str
    previous_secret_expires_at: datetime | None = None
    """rotate-secret only: until when deliveries are signed for the previous secret too."""


class _Deleted(DovecoteObject):
    """What a delete answers: the object's id, its kind and `deleted: true`."""

    id: str
    object: str
    deleted: bool


class DeletedWebhook(_Deleted):
    object: str = "webhook"


class OperationalWebhook(DovecoteObject):
    """The platform's operational webhook: where endpoint.disabled, endpoint.enabled, delivery.exhausted
    and delivery.recovered are delivered."""

    id: str
    object: str = "operational_webhook"
    url: str
    events: list[str]
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class OperationalWebhookWithSecret(OperationalWebhook):
    """As `set` returns it: `secret` when it was created or given in the request, else None."""

    secret: str | None = None


class DeletedOperationalWebhook(_Deleted):
    object: str = "operational_webhook"


class Attempt(DovecoteObject):
    number: int
    series: int = 1
    """1, then one more for each manual retry of the delivery."""
    attempted_at: datetime | None = None
    response_status: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    response_excerpt: str = ""
    next_retry_at: datetime | None = None
    retry_after_seconds: int | None = None
    """The wait a 429 or 503 asked for (`Retry-After`, capped at the retry table's longest delay)."""


class Delivery(DovecoteObject):
    id: str
    object: str = "delivery"
    webhook_id: str
    event_id: str
    event: str
    """The event type."""
    status: str
    """pending, succeeded, failed or cancelled."""
    status_reason: str | None = None
    attempt_count: int = 0
    response_status: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    next_retry_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    attempts: list[Attempt] | None = None
    """Every attempt, oldest first; present when the delivery was fetched on its own."""


class Event(DovecoteObject):
    id: str
    object: str = "event"
    type: str | None = None
    data: Any = None
    created_at: datetime | None = None


class ErrorDetail(DovecoteObject):
    type: str
    message: str


class BatchItemResult(DovecoteObject):
    """One event of `events.send_batch`: queued (status 202; `repeat` if published before) or its error."""

    index: int
    status: int
    id: str | None = None
    type: str | None = None
    created_at: datetime | None = None
    repeat: bool = False
    error: ErrorDetail | None = None

    @property
    def ok(self) -> bool:
        return self.status == 202


class EventBatch(DovecoteObject):
    """The answer to `events.send_batch`: one result per event, in the order sent."""

    object: str = "event_batch"
    accepted: int
    failed: int
    data: list[BatchItemResult]


class EventType(DovecoteObject):
    """A type of the deployment's catalog; `json_schema` is the API's `schema` (what `data` must fit)."""

    object: str = "event_type"
    name: str
    description: str = ""
    json_schema: dict[str, Any] | bool | None = Field(default=None, alias="schema")
    example: Any = None
    """An example of the type's `data`."""
    deprecated: bool = False
    """Still accepted for publishing; subscribers should move off it."""
    source: str = "platform"
    """`profile` (from the deployment's profile: can be changed, not deleted) or `platform` (registered)."""


class DeletedEventType(DovecoteObject):
    object: str = "event_type"
    name: str
    deleted: bool


class Recovery(DovecoteObject):
    object: str = "recovery"
    webhook_id: str
    has_more: bool = False
    """More failed deliveries remain: call again with the same `since`."""
    since: datetime
    deliveries_requeued: int = Field(ge=0)


class Application(DovecoteObject):
    """One customer of the platform."""

    id: str
    object: str = "application"
    name: str
    metadata: dict[str, str] = Field(default_factory=dict)
    rate_limit_per_second: int | None = None
    """The rate limit of its endpoints that set none (None: unlimited)."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DeletedApplication(_Deleted):
    object: str = "application"


class ApiKey(DovecoteObject):
    """An application key or a platform key, as listed: never the key itself."""

    id: str
    object: str = "api_key"
    kind: str
    application_id: str | None = None
    display_prefix: str
    description: str = ""
    created_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyWithSecret(ApiKey):
    """A key as returned when it is created: the only time `key` is shown."""

    key: str


class PortalSession(DovecoteObject):
    """A short-lived credential of one application; `url` opens its portal."""

    id: str
    object: str = "portal_session"
    application_id: str
    url: str
    token: str
    read_only: bool = False
    expires_at: datetime
