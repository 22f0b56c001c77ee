"""Request bodies of the ingest routes: strict, and unknown fields are refused.

The patterns documented here are checked by the pipeline (functions/pipeline/publishing.py),
which answers with a message naming the field; the schema only tells clients the rule.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.core.constants import IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_CHARS
from functions.core.ids import EVENT_ID_PATTERN, MAX_EVENT_ID_CHARS
from functions.core.profile import EVENT_TYPE_PATTERN, MAX_EVENT_TYPE_CHARS


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class PublishEvent(_Request):
    type: str = Field(
        min_length=1,
        max_length=MAX_EVENT_TYPE_CHARS,
        description="Dotted lower-case event type, e.g. task.completed (from the catalog when the profile has one).",
        examples=["task.completed"],
        json_schema_extra={"pattern": f"^{EVENT_TYPE_PATTERN.pattern}$"},
    )
    data: dict[str, Any] = Field(default_factory=dict, description="The event's payload, delivered as given.")
    id: str | None = Field(
        default=None,
        max_length=MAX_EVENT_ID_CHARS,
        description=(
            "Your own id for this event (a UUID, order-42): publishing the same id again is answered with the"
            " first event and delivers nothing more. Left out, Dovecote assigns an evt_ id."
        ),
        examples=["order-42"],
        json_schema_extra={"pattern": EVENT_ID_PATTERN.pattern},
    )


MAX_BATCH_EVENTS = 100


class BatchEvent(PublishEvent):
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_CHARS,
        description="As the Idempotency-Key header of a single publish: the same key again is the same event.",
        json_schema_extra={"pattern": f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$"},
    )


class PublishBatch(_Request):
    events: list[BatchEvent] = Field(
        min_length=1,
        max_length=MAX_BATCH_EVENTS,
        description=f"1 to {MAX_BATCH_EVENTS} events, each with its own id or idempotency_key to make it repeatable.",
    )


class RecoverRequest(_Request):
    since: str = Field(
        min_length=1,
        max_length=64,
        description=(
            "ISO-8601 time with a zone, within the event retention period and not in the future;"
            " failed deliveries of events from then on are sent again."
        ),
        examples=["2026-03-04T12:00:00Z"],
        json_schema_extra={"format": "date-time"},
    )
