"""Request bodies the ingest routes accept, and the documented shapes of what they return."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class PublishEvent(_Request):
    type: str = Field(
        min_length=1,
        max_length=128,
        description="Dotted lower-case event type, e.g. task.completed (from the catalog when the profile has one).",
        examples=["task.completed"],
    )
    data: dict[str, Any] = Field(default_factory=dict, description="The event's payload, delivered as given.")
    id: str | None = Field(
        default=None,
        max_length=64,
        description="Your own evt_ id for this event: publishing the same id again is answered with the first event.",
    )


class RecoverRequest(_Request):
    since: str = Field(
        min_length=1,
        max_length=64,
        description="ISO-8601 time with a zone; failed deliveries of events from then on are sent again.",
        examples=["2026-03-04T12:00:00Z"],
    )


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class EventAccepted(_Document):
    id: str = Field(examples=["evt_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["event"]
    type: str
    created_at: str


class RecoveryObject(_Document):
    object: Literal["recovery"]
    webhook_id: str
    since: str
    deliveries_requeued: int = Field(description="Failed deliveries queued again by this call (at most 1000).")
    has_more: bool = Field(description="More failed deliveries remain: call again with the same `since`.")
