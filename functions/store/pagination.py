"""Opaque list cursors: the id of the last object on the previous page."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from functions.core.errors import InvalidRequestError

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, prefix: str | None = None) -> str:
    """The last id of the previous page; `prefix` (e.g. `wh`) when the list's ids all have one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_id = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequestError("cursor: not a cursor returned by this list") from None
    if not last_id or (prefix is not None and not last_id.startswith(f"{prefix}_")):
        raise InvalidRequestError("cursor: not a cursor returned by this list")
    return last_id
