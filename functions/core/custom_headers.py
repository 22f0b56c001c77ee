"""Custom headers: what an endpoint may ask Dovecote to send with every delivery.

Refused: the headers Dovecote sets itself (the profile's signature, timestamp, delivery id
and event type headers, Content-Type, Content-Length, User-Agent), hop-by-hop and
connection-level headers, names that are not HTTP tokens, values with control characters
or outside printable ASCII, more than MAX_CUSTOM_HEADERS headers, or more than
MAX_CUSTOM_HEADER_BYTES of names and values in all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from functions.core.profile import Profile

HEADER_NAME_PATTERN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An HTTP token (RFC 9110 section 5.6.2)."""
MAX_CUSTOM_HEADERS = 20
MAX_CUSTOM_HEADER_BYTES = 4096
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "user-agent",
        "host",
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
"""Set by Dovecote or by HTTP itself, whatever the profile."""


class CustomHeaderError(ValueError):
    """An invalid custom header; `path` locates it (`headers.X-Customer`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def _profile_headers(profile: Profile) -> set[str]:
    names = (
        profile.headers.signature,
        profile.headers.timestamp,
        profile.headers.delivery_id,
        profile.headers.event_type,
    )
    return {name.lower() for name in names if name}


def validate_custom_headers(headers: Mapping[str, str], profile: Profile) -> dict[str, str]:
    """The headers if every one may be sent; CustomHeaderError naming the first that may not."""
    if len(headers) > MAX_CUSTOM_HEADERS:
        raise CustomHeaderError("headers", f"at most {MAX_CUSTOM_HEADERS} headers")
    reserved = RESERVED_HEADERS | _profile_headers(profile)
    seen: set[str] = set()
    total = 0
    for name, value in headers.items():
        path = f"headers.{name}"
        if not HEADER_NAME_PATTERN.fullmatch(name):
            raise CustomHeaderError(path, "not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)")
        if name.lower() in reserved:
            raise CustomHeaderError(path, "Dovecote or HTTP sets this header itself")
        if name.lower() in seen:
            raise CustomHeaderError(path, "given twice (header names are case-insensitive)")
        seen.add(name.lower())
        if not isinstance(value, str) or not all(" " <= char <= "~" for char in value):
            raise CustomHeaderError(path, "a value is printable ASCII text, without control characters")
        total += len(name) + len(value)
    if total > MAX_CUSTOM_HEADER_BYTES:
        raise CustomHeaderError("headers", f"at most {MAX_CUSTOM_HEADER_BYTES} bytes of names and values in all")
    return dict(headers)
