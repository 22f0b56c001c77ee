"""The headers of a delivery, signed by the profile's scheme (dovecote/schemes.py says how each scheme signs)."""

from __future__ import annotations

from collections.abc import Sequence

from dovecote.schemes import SignedContent
from functions.core.profile import Profile

CONTENT_TYPE = "application/json"


def signature_header_value(
    profile: Profile, secrets: Sequence[str], *, msg_id: str, timestamp: int, body: bytes
) -> str:
    """The signature header's value; `secrets` lists the live secrets, the current one first."""
    content = SignedContent(body=body, message_id=msg_id, timestamp=timestamp)
    return profile.signing.implementation().sign(secrets, content)


def delivery_headers(
    profile: Profile,
    secrets: Sequence[str],
    *,
    delivery_id: str,
    event_type: str,
    timestamp: int,
    body: bytes,
    user_agent: str,
) -> dict[str, str]:
    """Every header of a delivery request except Host and Content-Length."""
    names = profile.headers
    headers = {"Content-Type": CONTENT_TYPE, "User-Agent": user_agent}
    if names.delivery_id:
        headers[names.delivery_id] = delivery_id
    if names.timestamp:
        headers[names.timestamp] = str(timestamp)
    if names.event_type:
        headers[names.event_type] = event_type
    headers[names.signature] = signature_header_value(
        profile, secrets, msg_id=delivery_id, timestamp=timestamp, body=body
    )
    return headers
