"""The documented shapes of what the API returns, for the OpenAPI document only.

They describe the objects rendered by `public()` in functions/core/models.py and are never
used to build or validate a response (a unit test keeps the two in step). Routes refer to
them by name (functions/api/app.py `documented_response`), so this module is imported only
when the document is built (functions/management/openapi.py registers DOCUMENTS).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class WebhookObject(_Document):
    id: str = Field(examples=["wh_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["webhook"]
    url: str
    events: list[str]
    description: str
    enabled: bool
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None
    created_at: str
    updated_at: str


class WebhookWithSecret(WebhookObject):
    secret: str = Field(description="The signing secret. Returned on creation and rotation only.")


class RotatedWebhook(WebhookWithSecret):
    previous_secret_expires_at: str | None = Field(
        description=(
            "Until then the previous secret keeps signing: beside the new one (standard-webhooks) or instead of it"
            " (single-signature schemes), so receivers can switch over; null when it stopped at once."
        )
    )


class DeletedWebhook(_Document):
    id: str
    object: Literal["webhook"]
    deleted: Literal[True]


class WebhookList(_Document):
    object: Literal["list"]
    data: list[WebhookObject]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to fetch the next page.")
    url: str


class AttemptObject(_Document):
    number: int
    series: int = Field(description="1, then one more for each manual retry of the delivery.")
    attempted_at: str | None
    response_status: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str
    next_retry_at: str | None


class DeliveryObject(_Document):
    id: str = Field(examples=["del_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["delivery"]
    webhook_id: str
    event_id: str
    event: str
    status: Literal["pending", "succeeded", "failed", "cancelled"]
    status_reason: str | None
    attempt_count: int
    response_status: int | None
    latency_ms: int | None
    error: str | None
    next_retry_at: str | None
    created_at: str
    updated_at: str


class DeliveryWithAttempts(DeliveryObject):
    attempts: list[AttemptObject]


class DeliveryList(_Document):
    object: Literal["list"]
    data: list[DeliveryObject]
    has_more: bool
    next_cursor: str | None
    url: str


class EventObject(_Document):
    id: str = Field(examples=["evt_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    object: Literal["event"]
    type: str
    data: Any
    created_at: str


class EventTypeObject(_Document):
    name: str
    description: str


class EventTypeList(_Document):
    object: Literal["list"]
    data: list[EventTypeObject]
    has_more: Literal[False]
    url: str
    catalog: bool = Field(
        description="false when the deployment publishes no catalog: then any dotted lower-case type is accepted."
    )


class Health(_Document):
    status: Literal["ok"]


class ErrorDetail(_Document):
    type: str = Field(examples=["invalid_request"])
    message: str


class ErrorEnvelope(_Document):
    error: ErrorDetail


DOCUMENTS: tuple[type[BaseModel], ...] = (
    WebhookObject,
    WebhookWithSecret,
    RotatedWebhook,
    DeletedWebhook,
    WebhookList,
    AttemptObject,
    DeliveryObject,
    DeliveryWithAttempts,
    DeliveryList,
    EventObject,
    EventTypeObject,
    EventTypeList,
    Health,
    ErrorDetail,
    ErrorEnvelope,
)
