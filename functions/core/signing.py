"""Request signing for each profile scheme, and the headers of a delivery.

- `standard-webhooks`: `v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`, keyed
  with the base64-decoded secret after its prefix (`whsec_`). During a secret rotation
  every live secret signs and the signatures are space-separated, as the specification
  allows; receivers accept any of them.
- `hmac-sha256-hex`: `<prefix><hex HMAC-SHA256 of body>`, keyed with the secret string's
  UTF-8 bytes (the seeds' snippets use the secret string as given).
- `hmac-sha256-hex-timestamped`: `<prefix><hex HMAC-SHA256 of "{timestamp}.{body}">`, same key,
  with the Unix timestamp in its own header.

The two hex schemes carry exactly one signature: the seeds' receivers compare the whole
header with one expected value (`timingSafeEqual`), so a second signature would make every
delivery fail. During a rotation the OLDEST live secret signs, so receivers that still hold
it keep working until the grace period ends; they switch to the new secret (or accept both,
as `dovecote.verify` does) within that period, after which the new secret signs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from functions.core.profile import Profile, SigningScheme

STANDARD_WEBHOOKS_VERSION = "v1,"
STANDARD_SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
CONTENT_TYPE = "application/json"


class SigningError(ValueError):
    """A secret that cannot be used with the profile's scheme."""


def standard_webhooks_key(secret: str) -> bytes:
    encoded = secret.removeprefix(STANDARD_SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SigningError("a standard-webhooks secret must be whsec_ followed by base64") from None


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = _hmac_sha256(standard_webhooks_key(secret), signed)
    return STANDARD_WEBHOOKS_VERSION + base64.b64encode(digest).decode("ascii")


def hex_signature(secret: str, body: bytes, prefix: str = "") -> str:
    return prefix + _hmac_sha256(secret.encode("utf-8"), body).hex()


def timestamped_hex_signature(secret: str, timestamp: int, body: bytes, prefix: str = "") -> str:
    return prefix + _hmac_sha256(secret.encode("utf-8"), f"{timestamp}.".encode() + body).hex()


def signature_header_value(
    profile: Profile, secrets: Sequence[str], *, msg_id: str, timestamp: int, body: bytes
) -> str:
    """The signature header's value; `secrets` lists the live secrets, the current one first."""
    if not secrets:
        raise SigningError("the webhook has no signing secret")
    scheme = profile.signing.scheme
    prefix = profile.signing.signature_prefix
    if scheme is SigningScheme.STANDARD_WEBHOOKS:
        return " ".join(standard_webhooks_signature(s, msg_id, timestamp, body) for s in secrets)
    oldest_live = secrets[-1]
    if scheme is SigningScheme.HMAC_SHA256_HEX:
        return hex_signature(oldest_live, body, prefix)
    return timestamped_hex_signature(oldest_live, timestamp, body, prefix)


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
