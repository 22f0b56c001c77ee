"""Request bodies and response objects of the platform routes: applications, their API keys,
portal sessions and platform keys. Each response object is built from its record here and
documented in the OpenAPI document from the same model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.api.auth import INVALID_APPLICATION_ID
from functions.core.ids import is_application_id
from functions.core.models import ApiKey, Application
from functions.core.timestamps import iso

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


class ApplicationCreate(_Body):
    id: str | None = Field(
        default=None,
        description="Your own identifier for this customer (1-64 of A-Z a-z 0-9 _ . -); generated (`app_…`) if absent.",
        examples=["acme"],
    )
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, examples=["Acme Corp"])
    metadata: Metadata = Field(
        default_factory=dict, description=f"Up to {MAX_METADATA_ENTRIES} string entries of your own."
    )

    _id = field_validator("id")(lambda value: None if value is None else check_application_id(value))
    _metadata = field_validator("metadata")(_checked_metadata)


class ApplicationUpdate(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)
    metadata: Metadata | None = Field(default=None, description="Replaces the metadata as a whole.")

    _metadata = field_validator("metadata")(_checked_metadata)


class ApiKeyCreate(_Body):
    description: str = Field(default="", max_length=MAX_KEY_DESCRIPTION_CHARS, examples=["production backend"])


class PortalSessionCreate(_Body):
    ttl_seconds: int = Field(default=3_600, ge=60, le=86_400, description="How long the session works.")
    read_only: bool = Field(default=False, description="A read-only session can look but change nothing.")


class _Object(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplicationObject(_Object):
    object: Literal["application"] = "application"
    id: str = Field(examples=["acme"])
    name: str
    metadata: Metadata
    created_at: str
    updated_at: str

    @classmethod
    def from_record(cls, application: Application) -> ApplicationObject:
        return cls(
            id=application.id,
            name=application.name,
            metadata=application.metadata,
            created_at=iso(application.created_at),
            updated_at=iso(application.updated_at),
        )


class DeletedApplication(_Object):
    object: Literal["application"] = "application"
    id: str
    deleted: Literal[True] = True


class ApplicationList(_Object):
    object: Literal["list"] = "list"
    data: list[ApplicationObject]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to fetch the next page.")
    url: str


class ApiKeyObject(_Object):
    object: Literal["api_key"] = "api_key"
    id: str = Field(examples=["key_01jd2q8x4m7n3p5r9t1v6w8y0z"])
    kind: Literal["platform", "application"]
    application_id: str | None = Field(description="null for a platform key.")
    display_prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    description: str
    created_at: str
    revoked_at: str | None

    @classmethod
    def from_record(cls, api_key: ApiKey) -> ApiKeyObject:
        return cls(
            id=api_key.id,
            kind="platform" if api_key.application_id is None else "application",
            application_id=api_key.application_id,
            display_prefix=api_key.display_prefix,
            description=api_key.description,
            created_at=iso(api_key.created_at),
            revoked_at=iso(api_key.revoked_at) if api_key.revoked_at else None,
        )


class ApiKeyWithSecret(ApiKeyObject):
    key: str = Field(description="The key itself. Shown in this response only; store it now.")


class ApiKeyList(_Object):
    object: Literal["list"] = "list"
    data: list[ApiKeyObject]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to fetch the next page.")
    url: str


class PortalSessionObject(_Object):
    object: Literal["portal_session"] = "portal_session"
    id: str
    application_id: str
    url: str = Field(description="Opens the portal for this application; the token travels in the fragment.")
    token: str = Field(description="A bearer credential of this application until `expires_at`. Shown once.")
    read_only: bool
    expires_at: str

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
            expires_at=iso(session.expires_at),
        )


DOCUMENTS: tuple[type[BaseModel], ...] = (
    ApplicationObject,
    DeletedApplication,
    ApplicationList,
    ApiKeyObject,
    ApiKeyWithSecret,
    ApiKeyList,
    PortalSessionObject,
)
