"""Request bodies of the management routes: strict, and unknown fields are refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_URL_CHARS = 2048
MAX_EVENT_PATTERNS = 100
MAX_DESCRIPTION_CHARS = 256
MIN_SECRET_CHARS = 8
MAX_SECRET_CHARS = 256

_URL_DOC = "HTTPS endpoint that receives the signed POST requests."
_EVENTS_DOC = 'Event types to deliver: exact types, "prefix.*" for a family, or "*" for every type.'


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class WebhookCreate(_Request):
    url: str = Field(min_length=1, max_length=MAX_URL_CHARS, description=_URL_DOC)
    events: list[str] = Field(min_length=1, max_length=MAX_EVENT_PATTERNS, description=_EVENTS_DOC)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    secret: str | None = Field(
        default=None,
        min_length=MIN_SECRET_CHARS,
        max_length=MAX_SECRET_CHARS,
        description="Signing secret to use instead of a generated one (the profile's format may be required).",
    )
    enabled: bool = True


class WebhookUpdate(_Request):
    """Only the fields present change; `description: null` clears the description."""

    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_CHARS, description=_URL_DOC)
    events: list[str] | None = Field(default=None, min_length=1, max_length=MAX_EVENT_PATTERNS, description=_EVENTS_DOC)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    enabled: bool | None = Field(default=None, description="false stops deliveries and cancels pending retries.")

    @field_validator("url", "events", "enabled")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value
