"""Verify a Dovecote delivery on the receiving side. Standard library only (a profile name loads the profile).

    from dovecote.verify import verify, WebhookVerificationError

    try:
        verify("standard", request_body_bytes, request.headers, "whsec_...")
    except WebhookVerificationError:
        return 401

The first argument says how the deployment signs: the name of a shipped profile
("standard", "miteos", "mynd", "meetloyd", "delegated", "mutx"), a Profile, or a scheme
name ("standard-webhooks", "hmac-sha256-hex", "hmac-sha256-hex-timestamped") together with
the header names (`signature_header`, `timestamp_header`, `id_header`) and the
`signature_prefix` (e.g. "sha256="). Pass the raw request body, exactly as received.

- Every comparison is constant-time (`hmac.compare_digest`).
- Where a timestamp is signed, it must be within `tolerance` seconds (default 5 minutes)
  of now, in either direction, which stops replays of old deliveries.
- The signature header may carry several signatures (space-separated) and you may pass
  several secrets (during a rotation): one match of any secret with any signature passes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "SigningContract", "WebhookVerificationError", "contract_for", "verify"]

DEFAULT_TOLERANCE_SECONDS = 300
STANDARD_WEBHOOKS = "standard-webhooks"
HMAC_SHA256_HEX = "hmac-sha256-hex"
HMAC_SHA256_HEX_TIMESTAMPED = "hmac-sha256-hex-timestamped"
_SCHEMES = (STANDARD_WEBHOOKS, HMAC_SHA256_HEX, HMAC_SHA256_HEX_TIMESTAMPED)
_STANDARD_VERSION = "v1"
_STANDARD_SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh delivery: reject it (e.g. answer 401)."""


@dataclass(frozen=True)
class SigningContract:
    """How a deployment signs: the scheme, its header names and the signature prefix."""

    scheme: str
    signature_header: str
    timestamp_header: str | None = None
    id_header: str | None = None
    signature_prefix: str = ""

    def __post_init__(self) -> None:
        if self.scheme not in _SCHEMES:
            raise ValueError(f"unknown signing scheme {self.scheme!r}; use one of {', '.join(_SCHEMES)}")
        if self.scheme != HMAC_SHA256_HEX and not self.timestamp_header:
            raise ValueError(f"the {self.scheme} scheme needs timestamp_header")
        if self.scheme == STANDARD_WEBHOOKS and not self.id_header:
            raise ValueError("the standard-webhooks scheme needs id_header")


def _contract_of_profile(profile: Any) -> SigningContract:
    scheme = getattr(profile.signing.scheme, "value", profile.signing.scheme)
    return SigningContract(
        scheme=scheme,
        signature_header=profile.headers.signature,
        timestamp_header=profile.headers.timestamp,
        id_header=profile.headers.delivery_id,
        signature_prefix=profile.signing.signature_prefix,
    )


def contract_for(
    scheme_or_profile: Any,
    *,
    signature_header: str | None = None,
    timestamp_header: str | None = None,
    id_header: str | None = None,
    signature_prefix: str | None = None,
) -> SigningContract:
    """The contract from a profile name, a Profile or a scheme name; explicit arguments win."""
    if isinstance(scheme_or_profile, SigningContract):
        base = scheme_or_profile
    elif hasattr(scheme_or_profile, "signing") and hasattr(scheme_or_profile, "headers"):
        base = _contract_of_profile(scheme_or_profile)
    elif scheme_or_profile in _SCHEMES:
        standard = scheme_or_profile == STANDARD_WEBHOOKS
        base_signature = signature_header or ("webhook-signature" if standard else "")
        if not base_signature:
            raise ValueError(f"the {scheme_or_profile} scheme needs signature_header (e.g. X-Webhook-Signature)")
        return SigningContract(
            scheme=scheme_or_profile,
            signature_header=base_signature,
            timestamp_header=timestamp_header or ("webhook-timestamp" if standard else None),
            id_header=id_header or ("webhook-id" if standard else None),
            signature_prefix=signature_prefix or "",
        )
    elif isinstance(scheme_or_profile, str):
        from functions.core.profile import load_profile  # noqa: PLC0415 - only for profile names

        base = _contract_of_profile(load_profile(scheme_or_profile))
    else:
        raise TypeError("pass a profile name, a Profile, a SigningContract or a signing scheme name")
    return SigningContract(
        scheme=base.scheme,
        signature_header=signature_header or base.signature_header,
        timestamp_header=timestamp_header or base.timestamp_header,
        id_header=id_header or base.id_header,
        signature_prefix=base.signature_prefix if signature_prefix is None else signature_prefix,
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    raise WebhookVerificationError(f"missing header {name}")


def _check_timestamp(raw: str, tolerance: int, now: float) -> None:
    try:
        timestamp = int(raw)
    except ValueError:
        raise WebhookVerificationError("the timestamp header is not a Unix time in seconds") from None
    if abs(now - timestamp) > tolerance:
        raise WebhookVerificationError("the timestamp is outside the tolerance (an old or replayed delivery?)")


def _standard_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(_STANDARD_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a standard-webhooks secret is whsec_ followed by base64") from None


def _digest(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _any_equal(candidates: Iterable[str], expected: Iterable[str]) -> bool:
    expected_list = list(expected)
    matched = False
    for candidate in candidates:
        for value in expected_list:
            matched |= hmac.compare_digest(candidate.encode(), value.encode())
    return matched


def verify(
    scheme_or_profile: Any,
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    signature_header: str | None = None,
    timestamp_header: str | None = None,
    id_header: str | None = None,
    signature_prefix: str | None = None,
    now: float | None = None,
) -> bool:
    """Return True for a genuine delivery; raise WebhookVerificationError otherwise."""
    contract = contract_for(
        scheme_or_profile,
        signature_header=signature_header,
        timestamp_header=timestamp_header,
        id_header=id_header,
        signature_prefix=signature_prefix,
    )
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("pass at least one secret")
    received = _header(headers, contract.signature_header).split()
    current_time = time.time() if now is None else now
    if contract.scheme == STANDARD_WEBHOOKS:
        msg_id = _header(headers, contract.id_header or "")
        timestamp = _header(headers, contract.timestamp_header or "")
        _check_timestamp(timestamp, tolerance, current_time)
        signed = f"{msg_id}.{timestamp}.".encode() + body
        candidates = [
            value for version, _, value in (s.partition(",") for s in received) if version == _STANDARD_VERSION
        ]
        expected = (base64.b64encode(_digest(_standard_key(s), signed)).decode() for s in secrets)
    elif contract.scheme == HMAC_SHA256_HEX_TIMESTAMPED:
        timestamp = _header(headers, contract.timestamp_header or "")
        _check_timestamp(timestamp, tolerance, current_time)
        signed = f"{timestamp}.".encode() + body
        candidates = [s.lower() for s in received]
        expected = (contract.signature_prefix.lower() + _digest(s.encode(), signed).hex() for s in secrets)
    else:
        candidates = [s.lower() for s in received]
        expected = (contract.signature_prefix.lower() + _digest(s.encode(), body).hex() for s in secrets)
    if not candidates or not _any_equal(candidates, expected):
        raise WebhookVerificationError("no signature matches (wrong secret, or the body was changed)")
    return True
