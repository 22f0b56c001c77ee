"""Every way Dovecote writes a moment as text, in one place. All are UTC with a `Z`.

- `iso`: the API's and the queue messages' form, to the millisecond (`2026-03-04T12:45:00.123Z`);
- `envelope_timestamp`: the delivered envelope's, to the second (`2026-03-04T12:45:00Z`, as seed 003 shows);
- `stored_timestamp`: DynamoDB attributes, fixed width to the microsecond, so that stored
  moments compare correctly as strings.

`parse_iso` reads any of them back; `milliseconds` cuts a moment to what `iso` shows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, overload

from pydantic import PlainSerializer, WithJsonSchema


def utc_now() -> datetime:
    return datetime.now(UTC)


@overload
def iso(moment: datetime) -> str: ...


@overload
def iso(moment: None) -> None: ...


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return _utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def milliseconds(moment: datetime) -> datetime:
    """`moment` to the millisecond, the precision `iso` shows: what Dovecote keeps of a moment it hands out."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def parse_iso(text: str) -> datetime:
    """A moment written by `iso` or `stored_timestamp` (or any ISO-8601 text); ValueError otherwise."""
    return datetime.fromisoformat(text)


def envelope_timestamp(moment: datetime) -> str:
    return _utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stored_timestamp(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


StoredTime = Annotated[datetime, PlainSerializer(stored_timestamp, when_used="json")]
"""A record's moment: written to DynamoDB with `stored_timestamp`."""
ApiTime = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A message's or answer's moment: written with `iso`."""
