"""The deploy-time profile: the one source of truth for a webhook contract.

A profile fixes how deliveries look on the wire (headers, signing scheme, envelope),
when they are retried (the retry table, which also generates the state machine's Wait
states), how long an attempt may take, and which endpoints and event types are allowed.
"""

from __future__ import annotations

import base64
import json
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dovecote.profiles import UnknownProfileError, profile_path
from dovecote.schemes import SCHEMES, Scheme, SigningError, scheme_named

BUNDLED_PROFILE_FILE = "active_profile.json"

_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
EVENT_TYPE_PATTERN = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
"""A dotted lower-case event type, e.g. `task.completed` (use with `fullmatch`)."""
MAX_EVENT_TYPE_CHARS = 128
"""The longest event type; subscription patterns share the limit, so that each can match a publishable type."""
_ENVELOPE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_event_type(name: str) -> bool:
    return len(name) <= MAX_EVENT_TYPE_CHARS and EVENT_TYPE_PATTERN.fullmatch(name) is not None


class ProfileError(ValueError):
    """A profile that cannot be loaded; the message names the file and the field."""


class _Strict(BaseModel):
    # The schemas are built when a profile is first validated, not at import: modules that only
    # need a constant from here (EVENT_TYPE_PATTERN) do not pay for them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SecretEncoding(StrEnum):
    BASE64 = "base64"
    HEX = "hex"


class Signing(_Strict):
    scheme: str = Field(description="A scheme of dovecote/schemes.py.", json_schema_extra={"enum": list(SCHEMES)})
    signature_prefix: str = Field(default="", max_length=16)

    @field_validator("scheme")
    @classmethod
    def _known_scheme(cls, name: str) -> str:
        if name not in SCHEMES:
            raise ValueError(f"unknown signing scheme {name!r}; use one of {', '.join(SCHEMES)}")
        return name

    @model_validator(mode="after")
    def _prefix_fits_scheme(self) -> Signing:
        try:
            self.implementation()
        except SigningError as error:
            raise ValueError(str(error)) from None
        return self

    def implementation(self) -> Scheme:
        """The scheme that signs (and verifies) with this prefix."""
        return scheme_named(self.scheme, self.signature_prefix)


class Headers(_Strict):
    signature: str
    timestamp: str | None = None
    event_type: str | None = None
    delivery_id: str | None = None

    @field_validator("signature", "timestamp", "event_type", "delivery_id")
    @classmethod
    def _valid_header_name(cls, value: str | None) -> str | None:
        if value is not None and not _HEADER_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid HTTP header name")
        return value


class Envelope(_Strict):
    """Field names of the JSON body; a field set to null is left out of the body."""

    id_field: str | None = "id"
    type_field: str = "type"
    timestamp_field: str | None = "timestamp"
    data_field: str = "data"
    js_reserializable: bool = Field(
        default=False,
        description=(
            "Receivers verify JSON.stringify(JSON.parse(body)) instead of the raw body: publishing refuses (422,"
            " naming the field) a number JavaScript cannot write back as sent, such as an integer beyond 2**53."
        ),
    )

    @model_validator(mode="after")
    def _distinct_valid_fields(self) -> Envelope:
        names = [n for n in (self.id_field, self.type_field, self.timestamp_field, self.data_field) if n]
        for name in names:
            if not _ENVELOPE_FIELD.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid envelope field name")
        if len(set(names)) != len(names):
            raise ValueError("envelope field names must be distinct")
        return self


class SecretFormat(_Strict):
    prefix: str = Field(default="whsec_", max_length=16)
    encoding: SecretEncoding = SecretEncoding.BASE64
    random_bytes: int = Field(default=32, ge=24, le=64)


class HealthRule(_Strict):
    """When to disable an endpoint automatically; any success resets both counters."""

    disable_after_failing_days: float | None = Field(default=5, gt=0)
    disable_after_consecutive_failures: int | None = Field(default=20, ge=1)


MAX_EVENT_TYPE_DESCRIPTION_CHARS = 1000


class SchemaAndExampleChecks(BaseModel):
    """A usable `schema` and an `example` that fits it: for the profile's types and those the platform registers."""

    @field_validator("json_schema", mode="before", check_fields=False)
    @classmethod
    def _usable_schema(cls, schema: Any) -> Any:
        return checked_schema(schema)

    @field_validator("example", check_fields=False)
    @classmethod
    def _example_fits_schema(cls, example: Any, info: ValidationInfo) -> Any:
        return checked_example(example, info.data.get("json_schema"))


class EventType(_Strict, SchemaAndExampleChecks):
    """One type of the catalog: the profile's `event_types`, and those the platform registers (POST /v1/event-types).

    `schema` (a JSON Schema, draft-04 to draft-07) is checked against `data` when an event of the type is
    published; `example` is documentation (it must fit the schema); a `deprecated` type is still accepted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)

    name: str = Field(max_length=MAX_EVENT_TYPE_CHARS)
    description: str = Field(default="", max_length=MAX_EVENT_TYPE_DESCRIPTION_CHARS)
    json_schema: dict[str, Any] | bool | None = Field(default=None, alias="schema")
    example: Any = None
    deprecated: bool = False

    @field_validator("name")
    @classmethod
    def _dotted_name(cls, value: str) -> str:
        if not is_event_type(value):
            raise ValueError(f"{value!r} is not a dotted lower-case event type")
        return value


def checked_schema(schema: Any) -> Any:
    """`schema` when the validator can use it (None: no schema); ValueError saying why not.

    Only a type with a schema loads the validator (functions/core/json_schemas.py)."""
    if schema is not None:
        from functions.core.json_schemas import SchemaError, check_schema  # noqa: PLC0415

        try:
            check_schema(schema)
        except SchemaError as error:
            raise ValueError(str(error)) from None
    return schema


def checked_example(example: Any, schema: Any) -> Any:
    """`example` when it fits `schema` (or either is None); ValueError with the path of the misfit."""
    if schema is not None and example is not None:
        problem = schema_problem(schema, example)
        if problem is not None:
            raise ValueError(f"does not fit the schema: {problem.replace('data', 'example', 1)}")
    return example


def schema_problem(schema: dict[str, Any] | bool, data: Any) -> str | None:
    """Why `data` does not fit `schema` (`data.amount: must be …`), or None when it does."""
    from functions.core.errors import InvalidRequestError  # noqa: PLC0415
    from functions.core.json_schemas import validate_data  # noqa: PLC0415

    try:
        validate_data(schema, data)
    except InvalidRequestError as error:
        return str(error)
    return None


_ROUTE_PATH = re.compile(r"^/[A-Za-z0-9_.~{}/-]*$")
_PATH_PARAMETER = re.compile(r"\{([a-z_]+)\}")
_API_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _plain_name(value: str) -> str:
    if not _API_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a plain name (letters, digits and _)")
    return value


PlainName = Annotated[str, Field(max_length=64), AfterValidator(_plain_name)]
"""A field or query parameter name of a dialect."""
ApiObject = Literal["webhook", "delivery", "event"]


def route_parameters(path: str) -> list[str]:
    """The `{name}` parameters of a route path, in order."""
    return _PATH_PARAMETER.findall(path)


class RouteAlias(_Strict):
    """Another path for a /v1 route, e.g. `POST /api/webhooks/create` for `POST /v1/webhooks`."""

    method: Literal["GET", "POST", "PATCH", "DELETE"]
    path: str = Field(max_length=256, description="The platform's path, with the same `{name}` parameters.")
    route: str = Field(max_length=256, description="The /v1 route path it stands for, e.g. /v1/webhooks/{id}.")

    @model_validator(mode="after")
    def _same_parameters(self) -> RouteAlias:
        for path in (self.path, self.route):
            if not _ROUTE_PATH.fullmatch(path):
                raise ValueError(f"{path!r} is not a route path")
        if not self.route.startswith("/v1/"):
            raise ValueError(f"{self.route!r}: an alias stands for a /v1 route")
        if sorted(route_parameters(self.path)) != sorted(route_parameters(self.route)):
            raise ValueError(f"{self.path!r} and {self.route!r} must have the same path parameters")
        if self.path == self.route:
            raise ValueError(f"{self.path!r} is the route itself")
        return self


class FieldAlias(_Strict):
    """A field under the platform's name. Answers carry it beside the /v1 field; request bodies may use it
    instead of the /v1 field, unless it is derived (`values`), which makes it read-only."""

    name: PlainName
    field: PlainName = Field(description="The /v1 field it stands for.")
    values: dict[str, Any] | None = Field(
        default=None, description="The /v1 value (as a string) → the platform's value; derived, so read-only."
    )


class FilterAlias(_Strict):
    """A query parameter under the platform's name, e.g. `success=false` for `status=failed`."""

    name: PlainName
    param: PlainName = Field(description="The /v1 query parameter it stands for.")
    values: dict[str, str] | None = Field(default=None, description="The platform's value → the /v1 value.")


class ApiDialect(_Strict):
    """The platform's own spelling of the management API, served beside /v1 (functions/api/dialect.py)."""

    routes: list[RouteAlias] = Field(default_factory=list, max_length=50)
    statuses: dict[str, int] = Field(
        default_factory=dict,
        description='A success status of a /v1 route, by route key, e.g. {"POST /v1/webhooks": 200}.',
    )
    fields: dict[ApiObject, list[FieldAlias]] = Field(default_factory=dict)
    filters: list[FilterAlias] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> ApiDialect:
        for key, status in self.statuses.items():
            method, _, path = key.partition(" ")
            if method not in ("GET", "POST", "PATCH", "DELETE") or not path.startswith("/v1/"):
                raise ValueError(f"statuses: {key!r} is not a route key such as 'POST /v1/webhooks'")
            if not 200 <= status <= 299:
                raise ValueError(f"statuses: {key!r} may only change a success status (2xx)")
        keys = [(alias.method, alias.path) for alias in self.routes]
        if len(set(keys)) != len(keys):
            raise ValueError("routes: an alias is declared twice")
        for kind, aliases in self.fields.items():
            names = [alias.name for alias in aliases]
            if len(set(names)) != len(names):
                raise ValueError(f"fields.{kind}: a name is declared twice")
        return self

    @property
    def empty(self) -> bool:
        return not (self.routes or self.statuses or self.fields or self.filters)


class Profile(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    source: str = Field(description="The document this profile reproduces, and the choices made where it is silent.")
    signing: Signing
    headers: Headers
    envelope: Envelope = Field(default_factory=Envelope)
    retry_schedule_seconds: list[int] = Field(
        min_length=1, max_length=20, description="Seconds to wait before each attempt; the first is 0 (immediate)."
    )
    attempt_timeout_seconds: float = Field(gt=0, le=60)
    https_only: bool = True
    secret: SecretFormat = Field(default_factory=SecretFormat)
    event_types: list[EventType] | None = None
    test_event_type: str = "webhook.test"
    health: HealthRule = Field(default_factory=HealthRule)
    event_retention_days: int = Field(default=30, ge=1, le=365)
    rotation_grace_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400)
    max_payload_bytes: int = Field(default=256 * 1024, ge=1024, le=256 * 1024)
    api: ApiDialect = Field(
        default_factory=ApiDialect,
        description="The platform's API dialect: route aliases, statuses, field and filter names beside /v1.",
    )

    @field_validator("retry_schedule_seconds")
    @classmethod
    def _schedule_starts_immediately(cls, table: list[int]) -> list[int]:
        if table[0] != 0:
            raise ValueError("the first attempt is immediate: the first entry must be 0")
        if any(delay <= 0 for delay in table[1:]):
            raise ValueError("every retry delay after the first attempt must be a positive number of seconds")
        if any(delay > 365 * 86_400 for delay in table):
            raise ValueError("a retry delay may not exceed one year (the Step Functions execution limit)")
        return table

    @model_validator(mode="after")
    def _headers_fit_scheme(self) -> Profile:
        scheme = SCHEMES[self.signing.scheme]
        sample = bytes(self.secret.random_bytes)
        encoded = sample.hex() if self.secret.encoding is SecretEncoding.HEX else base64.b64encode(sample).decode()
        try:
            self.signing.implementation().check_secret(self.secret.prefix + encoded)
        except SigningError as error:
            raise ValueError(f"secret: the {scheme.name} scheme cannot sign with these secrets: {error}") from None
        if scheme.signs_timestamp and not self.headers.timestamp:
            raise ValueError(f"headers.timestamp is required by the {scheme.name} scheme")
        if scheme.signs_message_id and not self.headers.delivery_id:
            raise ValueError(f"headers.delivery_id (the message id) is required by the {scheme.name} scheme")
        if self.event_types is not None:
            names = [t.name for t in self.event_types]
            if len(set(names)) != len(names):
                raise ValueError("event_types contains duplicate names")
        return self

    @property
    def max_attempts(self) -> int:
        return len(self.retry_schedule_seconds)

    @property
    def retry_delays_seconds(self) -> list[int]:
        """The Wait before each retry: the table without its immediate first attempt."""
        return self.retry_schedule_seconds[1:]

    def delay_before_attempt(self, attempt_number: int) -> int:
        """Seconds to wait before attempt `attempt_number` (1-based)."""
        return self.retry_schedule_seconds[attempt_number - 1]

    def catalog_names(self) -> set[str] | None:
        return None if self.event_types is None else {t.name for t in self.event_types}


def _format_validation_error(origin: str, error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(profile)"
        problems.append(f"{field}: {item['msg']}")
    return f"invalid profile {origin}: " + "; ".join(problems)


def parse_profile(document: str | bytes, origin: str = "<document>") -> Profile:
    try:
        return Profile.model_validate_json(document)
    except ValidationError as error:
        raise ProfileError(_format_validation_error(origin, error)) from None


def load_profile(name_or_path: str | Path = "standard") -> Profile:
    """A shipped profile by name (`standard`, `miteos`, …) or a profile file by path."""
    return _load_profile_cached(str(name_or_path))


@lru_cache(maxsize=16)
def _load_profile_cached(name_or_path: str) -> Profile:
    try:
        path = profile_path(name_or_path)
    except UnknownProfileError as error:
        raise ProfileError(str(error)) from None
    try:
        document = path.read_bytes()
    except OSError as error:
        raise ProfileError(f"cannot read profile {path}: {error.strerror}") from None
    return parse_profile(document, origin=str(path))


def profile_json(profile: Profile) -> str:
    return json.dumps(profile.model_dump(mode="json"), indent=2) + "\n"
