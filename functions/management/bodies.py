"""Request bodies of the management routes: strict, and unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict, SkipJsonSchema

from functions.core.constants import MAX_RATE_LIMIT_PER_SECOND
from functions.core.destinations import MAX_GROUP_ID_CHARS, MAX_SOURCE_CHARS
from functions.core.matching import SUBSCRIPTION_PATTERN
from functions.core.profile import (
    EVENT_TYPE_PATTERN,
    MAX_EVENT_TYPE_CHARS,
    MAX_EVENT_TYPE_DESCRIPTION_CHARS,
    EventType,
    SchemaAndExampleChecks,
    checked_schema,
)

MAX_URL_CHARS = 2048
MAX_EVENT_PATTERNS = 100
MAX_DESCRIPTION_CHARS = 256
MIN_SECRET_CHARS = 8
MAX_SECRET_CHARS = 256
MAX_ARN_CHARS = 2048

_TYPE_DOC = (
    "Where deliveries go: `https` (a signed POST to `url`), or the customer's own `sqs` queue, `sns` topic or"
    " `eventbridge` event bus (`target`), reached by assuming `role_arn` with the endpoint's `external_id`."
)
_TARGET_DOC = (
    "sqs: the queue URL or ARN; sns: the topic ARN; eventbridge: the event bus ARN. Required for those types,"
    " refused for https."
)
DestinationName = Literal["https", "sqs", "sns", "eventbridge"]
"""functions/core/destinations.py DestinationType's values (a Literal: strict bodies take the string)."""
_ROLE_DOC = (
    "sqs, sns, eventbridge: the customer's IAM role Dovecote assumes (with the endpoint's external_id) to send;"
    " it must match the deployment's role pattern (by default named dovecote-delivery-…)."
)
_GROUP_DOC = "FIFO queues and topics: the message group id (default: the endpoint id). The delivery id deduplicates."
_SOURCE_DOC = "eventbridge: the events' `source` (default `dovecote`); `detail-type` is the event type."

_URL_DOC = (
    "HTTPS endpoint that receives the signed POST requests. Refused (422) when it does not resolve, or resolves"
    " to a private, loopback, link-local or reserved address."
)
_EVENTS_DOC = (
    'Event types to deliver: exact types, "prefix.*" for a family, or "*" for every type;'
    " under a catalog (GET /v1/event-types) each must match one of its types."
)
_HEADERS_DOC = (
    'Headers sent with every delivery, e.g. {"X-Customer": "acme"}: at most 20, 4 KiB in all; not the'
    " headers Dovecote sets (signature, timestamp, id, event type, Content-Type, User-Agent) nor hop-by-hop ones."
)
_FILTER_DOC = (
    'Deliver only the events this filter matches, e.g. {"data": {"amount": {"$gte": 100}}}: a JSON object'
    " matched against the event (`id`, `type`, `timestamp`, `data`); operators $eq $neq $in $nin $gt $gte $lt"
    " $lte $exist $startsWith $and $or $not. Null: every event of the subscribed types."
)
_SIGNATURE_VERSION_DOC = (
    "Standard Webhooks profiles: `v1` signs with an HMAC secret (whsec_), `v1a` with an Ed25519 key pair: the"
    " response's `secret` and `public_key` are then the public key (whpk_) receivers verify with; the signing key"
    " stays with Dovecote. Null: the profile's (`v1a` when the profile signs with Ed25519, else `v1`)."
)
RATE_LIMIT_DOC = (
    f"At most this many deliveries a second to the endpoint (1 to {MAX_RATE_LIMIT_PER_SECOND:,}); deliveries beyond"
    " it wait and are sent later: they are not failures and use up no attempts. Null: the application's default"
    " (`rate_limit_per_second` of the application), else unlimited."
)
RateLimit = Annotated[int, Field(ge=1, le=MAX_RATE_LIMIT_PER_SECOND)]
_URL_SCHEMA: JsonDict = {"format": "uri", "pattern": "^https?://"}
_PATTERN_SCHEMA: JsonDict = {"pattern": SUBSCRIPTION_PATTERN, "maxLength": MAX_EVENT_TYPE_CHARS}
# Documented only: the rules behind them (functions/management/webhooks.py) answer with a message naming the field.


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


EventPattern = Annotated[str, Field(json_schema_extra=_PATTERN_SCHEMA)]


class WebhookCreate(_Request):
    type: DestinationName = Field(default="https", description=_TYPE_DOC)
    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_URL_CHARS,
        description=_URL_DOC + " Required for https, refused for the other types.",
        json_schema_extra=_URL_SCHEMA,
    )
    target: str | None = Field(default=None, min_length=1, max_length=MAX_ARN_CHARS, description=_TARGET_DOC)
    role_arn: str | None = Field(default=None, min_length=1, max_length=MAX_ARN_CHARS, description=_ROLE_DOC)
    message_group_id: str | None = Field(
        default=None, min_length=1, max_length=MAX_GROUP_ID_CHARS, description=_GROUP_DOC
    )
    source: str | None = Field(default=None, min_length=1, max_length=MAX_SOURCE_CHARS, description=_SOURCE_DOC)
    events: list[EventPattern] = Field(min_length=1, max_length=MAX_EVENT_PATTERNS, description=_EVENTS_DOC)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    secret: str | None = Field(
        default=None,
        min_length=MIN_SECRET_CHARS,
        max_length=MAX_SECRET_CHARS,
        description="Signing secret to use instead of a generated one (the profile's format may be required).",
    )
    enabled: bool = True
    headers: dict[str, str] = Field(default_factory=dict, description=_HEADERS_DOC)
    filter: dict[str, Any] | None = Field(default=None, description=_FILTER_DOC)
    signature_version: Literal["v1", "v1a"] | None = Field(default=None, description=_SIGNATURE_VERSION_DOC)
    rate_limit_per_second: RateLimit | None = Field(default=None, description=RATE_LIMIT_DOC, examples=[10])


def _absent(schema: dict[str, Any]) -> None:
    """A field left out stays as it is: the document shows no default for it."""
    schema.pop("default", None)


Url = Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS, json_schema_extra=_URL_SCHEMA)]
EventPatterns = Annotated[list[EventPattern], Field(min_length=1, max_length=MAX_EVENT_PATTERNS)]


class WebhookUpdate(_Request):
    """Only the fields present change; `description: null` clears the description."""

    # url, events and enabled may be left out but not null: SkipJsonSchema keeps null out of the
    # document, the validator below refuses it.
    url: Url | SkipJsonSchema[None] = Field(default=None, description=_URL_DOC, json_schema_extra=_absent)
    events: EventPatterns | SkipJsonSchema[None] = Field(
        default=None, description=_EVENTS_DOC, json_schema_extra=_absent
    )
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS)] | None = Field(
        default=None, json_schema_extra=_absent
    )
    enabled: bool | SkipJsonSchema[None] = Field(
        default=None, description="false stops deliveries and cancels pending retries.", json_schema_extra=_absent
    )
    target: Annotated[str, Field(min_length=1, max_length=MAX_ARN_CHARS)] | SkipJsonSchema[None] = Field(
        default=None, description=_TARGET_DOC, json_schema_extra=_absent
    )
    role_arn: Annotated[str, Field(min_length=1, max_length=MAX_ARN_CHARS)] | SkipJsonSchema[None] = Field(
        default=None, description=_ROLE_DOC, json_schema_extra=_absent
    )
    headers: dict[str, str] | SkipJsonSchema[None] = Field(
        default=None, description=_HEADERS_DOC + " {} removes them all.", json_schema_extra=_absent
    )
    filter: dict[str, Any] | None = Field(
        default=None, description=_FILTER_DOC + " null removes it.", json_schema_extra=_absent
    )
    rate_limit_per_second: RateLimit | None = Field(
        default=None, description=RATE_LIMIT_DOC + " null removes the endpoint's own limit.", json_schema_extra=_absent
    )

    @field_validator("url", "events", "enabled", "target", "role_arn", "headers")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


_SCHEMA_DOC = (
    "A JSON Schema (draft-04, -06 or -07) that `data` must fit when an event of this type is published (422 naming"
    ' the path otherwise). It may refer only to its own parts (`$ref: "#/…"`).'
)
_EXAMPLE_DOC = "An example of the type's `data`, shown to subscribers; it must fit the schema."
_DEPRECATED_DOC = "Marks the type in listings; events of a deprecated type are still accepted."


class EventTypeCreate(_Request, SchemaAndExampleChecks):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True, populate_by_name=True)

    name: str = Field(
        min_length=1,
        max_length=MAX_EVENT_TYPE_CHARS,
        pattern=rf"^{EVENT_TYPE_PATTERN.pattern}$",
        description="A dotted lower-case name, e.g. `invoice.paid`.",
    )
    description: str = Field(default="", max_length=MAX_EVENT_TYPE_DESCRIPTION_CHARS)
    json_schema: dict[str, Any] | bool | None = Field(default=None, alias="schema", description=_SCHEMA_DOC)
    example: Any = Field(default=None, description=_EXAMPLE_DOC)
    deprecated: bool = Field(default=False, description=_DEPRECATED_DOC)

    def event_type(self) -> EventType:
        return EventType.model_validate(self.model_dump(by_alias=True))


class EventTypeUpdate(_Request):
    """Only the fields present change; `schema: null` removes the schema, `example: null` the example."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True, populate_by_name=True)

    description: str | SkipJsonSchema[None] = Field(
        default=None, max_length=MAX_EVENT_TYPE_DESCRIPTION_CHARS, json_schema_extra=_absent
    )
    json_schema: dict[str, Any] | bool | None = Field(
        default=None, alias="schema", description=_SCHEMA_DOC, json_schema_extra=_absent
    )
    example: Any = Field(default=None, description=_EXAMPLE_DOC, json_schema_extra=_absent)
    deprecated: bool | SkipJsonSchema[None] = Field(
        default=None, description=_DEPRECATED_DOC, json_schema_extra=_absent
    )

    @field_validator("description", "deprecated")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value

    @field_validator("json_schema", mode="before")
    @classmethod
    def _usable_schema(cls, schema: Any) -> Any:
        return checked_schema(schema)

    def changes(self) -> dict[str, Any]:
        """The fields the request gave, by their API names."""
        return self.model_dump(by_alias=True, exclude_unset=True)


OperationalEventPattern = Literal[
    "*", "endpoint.disabled", "endpoint.enabled", "delivery.exhausted", "delivery.recovered"
]
"""What the operational webhook may subscribe to (functions/pipeline/operational.py OperationalEventType)."""


class OperationalWebhookRequest(_Request):
    """The platform's operational webhook: set (created, or replaced and enabled again) as a whole."""

    url: Url = Field(description=_URL_DOC)
    events: list[OperationalEventPattern] = Field(
        default=["*"],
        min_length=1,
        max_length=5,
        description="The operational event types sent to it (default `*`: all four).",
    )
    secret: str | None = Field(
        default=None,
        min_length=MIN_SECRET_CHARS,
        max_length=MAX_SECRET_CHARS,
        description=(
            "Signing secret to use (the profile's format may be required). Left out: a new webhook gets a generated"
            " one, an existing one keeps its own."
        ),
    )
