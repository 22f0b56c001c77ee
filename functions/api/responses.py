"""What the HTTP API answers: one pydantic model per API object.

Routes build these from the core records (functions/core/models.py) with `from_record`
and return them; Powertools serializes them and the OpenAPI document describes them from
the same classes (functions/management/openapi.py), so the answer and its documentation
cannot drift. Objects carry an `object` field (Stripe-style) and never an application id;
a signing secret only on creation and rotation. Moments are written by
functions/core/timestamps.py (`iso`: UTC, to the millisecond, with a `Z`).

The schemas are built on first use (`defer_build`), not when a function imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from dovecote.schemes import StandardWebhooksAsymmetric, verification_key
from functions.core.timestamps import ApiTime

if TYPE_CHECKING:
    from functions.core.catalog import CatalogEntry
    from functions.core.models import ApiKey, Delivery, Webhook
    from functions.store.pagination import Page

ObjectT = TypeVar("ObjectT", bound=BaseModel)


def _open_to_more_fields(schema: dict[str, Any]) -> None:
    """The document does not forbid fields it does not list: a profile's API dialect adds its platform's names
    to /v1 objects (functions/api/dialect.py), and clients ignore fields they do not know."""
    schema.pop("additionalProperties", None)


class _Response(BaseModel):
    # Every field is always present in an answer, those with a default included; building one with a
    # field it does not have is a bug (extra="forbid"), answering with more is not (the document stays open).
    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_serialization_defaults_required=True,
        json_schema_extra=_open_to_more_fields,
    )


class _RecordFields(_Response):
    """An object whose fields are its core record's, each under the same name."""

    @classmethod
    def from_record(cls, record: object) -> Self:
        return cls.model_validate(record, from_attributes=True)


class _DerivedFields(_Response):
    """An object whose fields `_fields_of` derives from its core record."""

    @classmethod
    def _fields_of(cls, record: Any) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_record(cls, record: Any) -> Self:
        return cls(**cls._fields_of(record))


class WebhookObject(_DerivedFields):
    id: str = Field(examples=["wh_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["webhook"] = "webhook"
    type: Literal["https", "sqs", "sns", "eventbridge"] = Field(description="Where deliveries go.")
    url: str = Field(description="The HTTPS URL; for the other types, their target (queue URL, topic or bus ARN).")
    target: str | None = Field(description="sqs, sns, eventbridge: the queue URL, topic ARN or event bus ARN.")
    role_arn: str | None = Field(description="sqs, sns, eventbridge: the customer's role Dovecote assumes.")
    external_id: str | None = Field(
        description=(
            "sqs, sns, eventbridge: the ExternalId Dovecote passes when it assumes role_arn; the role's trust"
            " policy must require it (sts:ExternalId)."
        )
    )
    message_group_id: str | None = Field(description="FIFO queues and topics: the message group id (null: the id).")
    source: str | None = Field(description="eventbridge: the events' source (null: dovecote).")
    events: list[str]
    description: str
    enabled: bool
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None
    disabled_at: ApiTime | None = Field(
        description="When it was disabled (410, the health rule, by hand); null while enabled."
    )
    headers: dict[str, str] = Field(description="Custom headers sent with every delivery.")
    filter: dict[str, Any] | None = Field(description="The payload filter; null: every event of the subscribed types.")
    public_key: str | None = Field(
        description="v1a (Ed25519) endpoints: the public key (whpk_…) receivers verify with; null for HMAC secrets."
    )
    rate_limit_per_second: int | None = Field(
        description=(
            "The endpoint's own limit: at most this many deliveries in any second; the others wait. Null: its"
            " application's default applies (unlimited when there is none)."
        )
    )
    effective_rate_limit_per_second: int | None = Field(
        description="The limit that applies: the endpoint's own, else its application's default; null: unlimited."
    )
    created_at: ApiTime
    updated_at: ApiTime

    @classmethod
    def _fields_of(cls, webhook: Webhook) -> dict[str, Any]:
        destination = webhook.destination
        current = webhook.secrets[0].value if webhook.secrets else ""
        public_key = verification_key(current) if current.startswith(StandardWebhooksAsymmetric.secret_prefix) else None
        return {
            "id": webhook.id,
            "type": webhook.type.value,
            "url": webhook.url,
            "target": webhook.url if destination else None,
            "role_arn": destination.role_arn if destination else None,
            "external_id": destination.external_id if destination else None,
            "message_group_id": destination.message_group_id if destination else None,
            "source": destination.source if destination else None,
            "events": list(webhook.events),
            "description": webhook.description,
            "enabled": webhook.enabled,
            "status": "enabled" if webhook.enabled else "disabled",
            "disabled_reason": webhook.disabled_reason,
            "disabled_at": webhook.disabled_at,
            "headers": dict(webhook.headers),
            "filter": webhook.filter,
            "public_key": public_key,
            "rate_limit_per_second": webhook.rate_limit_per_second,
            "effective_rate_limit_per_second": webhook.effective_rate_limit,
            "created_at": webhook.created_at,
            "updated_at": webhook.updated_at,
        }


class WebhookWithSecret(WebhookObject):
    secret: str = Field(
        description=(
            "What receivers verify with, returned on creation and rotation only: the signing secret, or for a v1a"
            " endpoint its public key (whpk_…; the Ed25519 signing key never leaves Dovecote)."
        )
    )

    @classmethod
    def with_secret(cls, webhook: Webhook, secret: str) -> WebhookWithSecret:
        return cls(**cls._fields_of(webhook), secret=verification_key(secret))


class RotatedWebhook(WebhookWithSecret):
    previous_secret_expires_at: ApiTime | None = Field(
        description=(
            "Until then the previous secret keeps signing: beside the new one (standard-webhooks) or instead of it"
            " (single-signature schemes), so receivers can switch over; null when it stopped at once."
        )
    )

    @classmethod
    def rotated(cls, webhook: Webhook, secret: str, previous_expires_at: datetime | None) -> RotatedWebhook:
        fields = cls._fields_of(webhook)
        return cls(**fields, secret=verification_key(secret), previous_secret_expires_at=previous_expires_at)


class DeletedWebhook(_Response):
    id: str
    object: Literal["webhook"] = "webhook"
    deleted: Literal[True] = True

    @classmethod
    def of(cls, webhook_id: str) -> DeletedWebhook:
        return cls(id=webhook_id)


class AttemptObject(_RecordFields):
    number: int
    series: int = Field(description="1, then one more for each manual retry of the delivery.")
    attempted_at: ApiTime
    response_status: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str
    next_retry_at: ApiTime | None = Field(
        description="When the next attempt is due (null after the last, or once the delivery ended)."
    )
    retry_after_seconds: int | None = Field(
        default=None,
        description=(
            "The wait a 429 or 503 asked for with `Retry-After`, capped at the retry table's longest delay; "
            "the next attempt is due no sooner (see `next_retry_at`). Null when the answer asked none."
        ),
    )


class DeliveryObject(_DerivedFields):
    id: str = Field(examples=["del_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["delivery"] = "delivery"
    webhook_id: str
    event_id: str
    event: str = Field(description="The event's type.")
    status: Literal["pending", "succeeded", "failed", "cancelled"]
    status_reason: str | None
    attempt_count: int
    response_status: int | None = Field(description="Of the last attempt.")
    latency_ms: int | None = Field(description="Of the last attempt.")
    error: str | None = Field(description="Of the last attempt.")
    next_retry_at: ApiTime | None
    created_at: ApiTime
    updated_at: ApiTime

    @classmethod
    def _fields_of(cls, delivery: Delivery) -> dict[str, Any]:
        last = delivery.last_attempt
        return {
            "id": delivery.id,
            "webhook_id": delivery.webhook_id,
            "event_id": delivery.event_id,
            "event": delivery.event_type,
            "status": delivery.status.value,
            "status_reason": delivery.status_reason,
            "attempt_count": len(delivery.attempts),
            "response_status": last.response_status if last else None,
            "latency_ms": last.latency_ms if last else None,
            "error": last.error if last else None,
            "next_retry_at": delivery.next_retry_at,
            "created_at": delivery.created_at,
            "updated_at": delivery.updated_at,
        }


class DeliveryWithAttempts(DeliveryObject):
    attempts: list[AttemptObject]

    @classmethod
    def from_record(cls, delivery: Delivery) -> DeliveryWithAttempts:
        attempts = [AttemptObject.from_record(a) for a in delivery.attempts]
        return cls(**cls._fields_of(delivery), attempts=attempts)


class EventObject(_RecordFields):
    id: str = Field(examples=["evt_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["event"] = "event"
    type: str
    data: Any
    created_at: ApiTime


class EventAccepted(_RecordFields):
    """The answer to a publish: the event is queued (its data is not repeated)."""

    id: str = Field(examples=["evt_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["event"] = "event"
    type: str
    created_at: ApiTime


class ErrorDetail(_Response):
    type: str = Field(examples=["invalid_request"])
    message: str


class BatchItemResult(_Response):
    """One event of a batch publish: queued (202, `repeat` when it was published before) or its own error."""

    index: int = Field(description="The event's position in the request, from 0.")
    status: int = Field(description="202 queued; 409, 413 or 422 for this event alone; 503: retry this event.")
    id: str | None
    type: str | None
    created_at: ApiTime | None
    repeat: bool = Field(description="Published before with the same id or idempotency_key: nothing new is sent.")
    error: ErrorDetail | None


class EventBatchAccepted(_Response):
    """The answer to a batch publish: one result per event, in the order sent."""

    object: Literal["event_batch"] = "event_batch"
    accepted: int = Field(description="How many events are queued (repeats included).")
    failed: int
    data: list[BatchItemResult]

    @classmethod
    def of(cls, results: list[BatchItemResult]) -> EventBatchAccepted:
        accepted = sum(result.status == 202 for result in results)
        return cls(accepted=accepted, failed=len(results) - accepted, data=results)


class EventTypeObject(_Response):
    object: Literal["event_type"] = "event_type"
    name: str
    description: str
    json_schema: dict[str, Any] | bool | None = Field(
        alias="schema",
        description="The JSON Schema `data` must fit when an event of this type is published; null for none.",
    )
    example: Any = Field(description="An example of `data`; null for none.")
    deprecated: bool = Field(description="Still accepted for publishing; subscribers should move off it.")
    source: Literal["profile", "platform"] = Field(
        description="`profile`: from the deployment's profile (it can be changed, not deleted);"
        " `platform`: registered over the API."
    )

    @classmethod
    def from_record(cls, entry: CatalogEntry) -> EventTypeObject:
        """The event type's fields, each under the same name, and where it comes from."""
        return cls(**entry.event_type.model_dump(by_alias=True), source=entry.source)


class DeletedEventType(_Response):
    object: Literal["event_type"] = "event_type"
    name: str
    deleted: Literal[True] = True


class ListPage(_Response, Generic[ObjectT]):
    """A page of objects, newest first; `next_cursor` fetches the next one.

    A list of stored records names the model each record is answered as (`item`)."""

    item: ClassVar[Any]

    object: Literal["list"] = "list"
    data: list[ObjectT]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to fetch the next page; null on the last page.")
    url: str = Field(description="The path this list was read from.")

    @classmethod
    def of(cls, data: list[ObjectT], page: Page[Any], url: str) -> Self:
        return cls(data=data, has_more=page.has_more, next_cursor=page.next_cursor, url=url)

    @classmethod
    def from_page(cls, page: Page[Any], url: str) -> Self:
        return cls.of([cls.item.from_record(record) for record in page.items], page, url)


class WebhookList(ListPage[WebhookObject]):
    item = WebhookObject


class DeliveryList(ListPage[DeliveryObject]):
    item = DeliveryObject


class EventTypeList(ListPage[EventTypeObject]):
    has_more: Literal[False] = False
    next_cursor: None = None
    catalog: bool = Field(
        description="false when the deployment's profile has no catalog: then any dotted lower-case type is"
        " accepted, and `data` lists only the types registered over the API."
    )

    @classmethod
    def from_catalog(cls, entries: Iterable[CatalogEntry], *, closed: bool, url: str) -> EventTypeList:
        return cls(data=[EventTypeObject.from_record(e) for e in entries], url=url, catalog=closed)


class RecoveryObject(_RecordFields):
    object: Literal["recovery"] = "recovery"
    webhook_id: str
    since: ApiTime
    deliveries_requeued: int = Field(description="Failed deliveries queued again by this call (at most 1000).")
    has_more: bool = Field(description="More failed deliveries remain: call again with the same `since`.")


class ApplicationObject(_RecordFields):
    object: Literal["application"] = "application"
    id: str = Field(examples=["acme"])
    name: str
    metadata: dict[str, str]
    rate_limit_per_second: int | None = Field(
        description="The rate limit (deliveries a second) of its endpoints that set none; null: unlimited."
    )
    created_at: ApiTime
    updated_at: ApiTime


class DeletedApplication(_Response):
    object: Literal["application"] = "application"
    id: str
    deleted: Literal[True] = True

    @classmethod
    def of(cls, application_id: str) -> DeletedApplication:
        return cls(id=application_id)


class ApplicationList(ListPage[ApplicationObject]):
    item = ApplicationObject


class ApiKeyObject(_DerivedFields):
    object: Literal["api_key"] = "api_key"
    id: str = Field(examples=["key_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    kind: Literal["platform", "application"]
    application_id: str | None = Field(description="null for a platform key.")
    display_prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    description: str
    created_at: ApiTime
    revoked_at: ApiTime | None

    @classmethod
    def _fields_of(cls, api_key: ApiKey) -> dict[str, Any]:
        return {
            "id": api_key.id,
            "kind": "platform" if api_key.application_id is None else "application",
            "application_id": api_key.application_id,
            "display_prefix": api_key.display_prefix,
            "description": api_key.description,
            "created_at": api_key.created_at,
            "revoked_at": api_key.revoked_at,
        }


class ApiKeyWithSecret(ApiKeyObject):
    key: str = Field(description="The key itself. Shown in this response only; store it now.")

    @classmethod
    def with_key(cls, api_key: ApiKey, plaintext: str) -> ApiKeyWithSecret:
        return cls(**cls._fields_of(api_key), key=plaintext)


class ApiKeyList(ListPage[ApiKeyObject]):
    item = ApiKeyObject


class PortalSessionObject(_Response):
    object: Literal["portal_session"] = "portal_session"
    id: str
    application_id: str
    url: str = Field(description="Opens the portal for this application; the token travels in the fragment.")
    token: str = Field(description="A bearer credential of this application until `expires_at`. Shown once.")
    read_only: bool
    expires_at: ApiTime

    @classmethod
    def from_record(cls, session: ApiKey, token: str, portal_url: str) -> PortalSessionObject:
        if session.application_id is None or session.expires_at is None:
            raise ValueError("a portal session has an application and an expiry")
        return cls(
            id=session.id,
            application_id=session.application_id,
            url=f"{portal_url}#token={token}",
            token=token,
            read_only=session.read_only,
            expires_at=session.expires_at,
        )


class Health(_Response):
    status: Literal["ok"] = "ok"


class ErrorEnvelope(_Response):
    """Every error the API answers itself: `{"error": {"type", "message"}}`."""

    error: ErrorDetail

    @classmethod
    def of(cls, error_type: str, message: str) -> ErrorEnvelope:
        return cls(error=ErrorDetail(type=error_type, message=message))


class OperationalWebhookObject(_Response):
    id: str = Field(examples=["wh_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["operational_webhook"] = "operational_webhook"
    url: str = Field(description="Where operational events are delivered, signed on the deployment's profile.")
    events: list[str] = Field(description="The operational event types it receives (`*`: all).")
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why it was disabled (it answered 410, or kept failing); `PUT` enables it again."
    )
    disabled_at: ApiTime | None
    created_at: ApiTime
    updated_at: ApiTime

    @classmethod
    def _fields_of(cls, webhook: Webhook) -> dict[str, Any]:
        return {
            "id": webhook.id,
            "url": webhook.url,
            "events": list(webhook.events),
            "enabled": webhook.enabled,
            "disabled_reason": webhook.disabled_reason,
            "disabled_at": webhook.disabled_at,
            "created_at": webhook.created_at,
            "updated_at": webhook.updated_at,
        }

    @classmethod
    def from_record(cls, webhook: Webhook) -> OperationalWebhookObject:
        return cls(**cls._fields_of(webhook))


class OperationalWebhookWithSecret(OperationalWebhookObject):
    secret: str | None = Field(
        description="The signing secret: returned when it was created or given in this request, else null."
    )

    @classmethod
    def with_secret(cls, webhook: Webhook, secret: str | None) -> OperationalWebhookWithSecret:
        return cls(**cls._fields_of(webhook), secret=secret)


class DeletedOperationalWebhook(_Response):
    id: str
    object: Literal["operational_webhook"] = "operational_webhook"
    deleted: Literal[True] = True
