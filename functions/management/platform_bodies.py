"""Request bodies of the platform routes: applications, their API keys, portal sessions and
platform keys. What they answer is in functions/api/responses.py."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator
from pydantic.json_schema import JsonDict

from functions.api.auth import INVALID_APPLICATION_ID
from functions.core.constants import MAX_RATE_LIMIT_PER_SECOND
from functions.core.ids import is_application_id

MAX_NAME_CHARS = 256
MAX_METADATA_ENTRIES = 20
MAX_METADATA_KEY_CHARS = 64
MAX_METADATA_VALUE_CHARS = 512
MAX_KEY_DESCRIPTION_CHARS = 256


def check_application_id(value: str) -> str:
    if not is_application_id(value):
        raise ValueError(INVALID_APPLICATION_ID)
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


Metadata = dict[str, str]
_METADATA_SCHEMA: JsonDict = {
    "maxProperties": MAX_METADATA_ENTRIES,
    "propertyNames": {"minLength": 1, "maxLength": MAX_METADATA_KEY_CHARS},
    "additionalProperties": {"type": "string", "maxLength": MAX_METADATA_VALUE_CHARS},
}
"""What `_checked_metadata` enforces, as the OpenAPI document states it."""


def _checked_metadata(metadata: Metadata | None) -> Metadata | None:
    if metadata is None:
        return None
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise ValueError(f"at most {MAX_METADATA_ENTRIES} entries")
    for key, value in metadata.items():
        if not 1 <= len(key) <= MAX_METADATA_KEY_CHARS:
            raise ValueError(f"keys are 1 to {MAX_METADATA_KEY_CHARS} characters")
        if len(value) > MAX_METADATA_VALUE_CHARS:
            raise ValueError(f"values are at most {MAX_METADATA_VALUE_CHARS} characters")
    return metadata


DefaultRateLimit = Annotated[StrictInt, Field(ge=1, le=MAX_RATE_LIMIT_PER_SECOND)]
_DEFAULT_RATE_LIMIT_DOC = (
    f"The rate limit (deliveries a second, 1 to {MAX_RATE_LIMIT_PER_SECOND:,}) of this application's endpoints that"
    " set none of their own (`rate_limit_per_second` of the endpoint); null: unlimited."
)


class ApplicationCreate(_Body):
    id: str | None = Field(
        default=None,
        description="Your own identifier for this customer (1-64 of A-Z a-z 0-9 _ . -); generated (`app_…`) if absent.",
        examples=["acme"],
    )
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, examples=["Acme Corp"])
    metadata: Metadata = Field(
        default_factory=dict,
        description=f"Up to {MAX_METADATA_ENTRIES} string entries of your own.",
        json_schema_extra=_METADATA_SCHEMA,
    )

    rate_limit_per_second: DefaultRateLimit | None = Field(
        default=None, description=_DEFAULT_RATE_LIMIT_DOC, examples=[50]
    )

    _id = field_validator("id")(lambda value: None if value is None else check_application_id(value))
    _metadata = field_validator("metadata")(_checked_metadata)


class ApplicationUpdate(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)
    metadata: Metadata | None = Field(
        default=None, description="Replaces the metadata as a whole.", json_schema_extra=_METADATA_SCHEMA
    )
    rate_limit_per_second: DefaultRateLimit | None = Field(
        default=None, description=_DEFAULT_RATE_LIMIT_DOC + " Null removes the default."
    )

    _metadata = field_validator("metadata")(_checked_metadata)


class ApiKeyCreate(_Body):
    description: str = Field(default="", max_length=MAX_KEY_DESCRIPTION_CHARS, examples=["production backend"])


class PortalSessionCreate(_Body):
    ttl_seconds: int = Field(default=3_600, ge=60, le=86_400, description="How long the session works.")
    read_only: bool = Field(default=False, description="A read-only session can look but change nothing.")
