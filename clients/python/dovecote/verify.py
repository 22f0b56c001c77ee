"""Verify a Dovecote delivery on the receiving side. Standard library only.

    from dovecote.verify import verify, WebhookVerificationError

    try:
        verify("standard", request_body_bytes, request.headers, "whsec_...")
    except WebhookVerificationError:
        return 401

The first argument says how the deployment signs: the name of a shipped profile
("standard", "miteos", "mynd", "meetloyd", "delegated", "mutx"), a Profile, or a scheme
name ("standard-webhooks", "standard-webhooks-v1a", "hmac-sha256-hex",
"hmac-sha256-hex-timestamped"; the Standard Webhooks ones know their header names) together with
the header names (`signature_header`, `timestamp_header`, `id_header`) and the
`signature_prefix` (e.g. "sha256="). Pass the raw request body, exactly as received.

- Every comparison is constant-time (`hmac.compare_digest`); dovecote/schemes.py holds
  each scheme's signing and checking.
- Where a timestamp is signed, it must be within `tolerance` seconds (default 5 minutes)
  of now, in either direction, which stops replays of old deliveries.
- The signature header may carry several signatures (space-separated) and you may pass
  several secrets (during a rotation): one match of any secret with any signature passes.
- `standard-webhooks-v1a` (Ed25519): pass the endpoint's public key (`whpk_...`) instead of
  a secret: `verify("standard-webhooks-v1a", body, headers, "whpk_...")`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dovecote.profiles import profile_document
from dovecote.schemes import (
    DEFAULT_TOLERANCE_SECONDS,
    SCHEMES,
    Scheme,
    SignedContent,
    StandardWebhooks,
    StandardWebhooksAsymmetric,
    WebhookVerificationError,
    scheme_named,
)

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "SigningContract", "WebhookVerificationError", "contract_for", "verify"]


@dataclass(frozen=True)
class SigningContract:
    """How a deployment signs: the scheme, its header names and the signature prefix."""

    scheme: str
    signature_header: str
    timestamp_header: str | None = None
    id_header: str | None = None
    signature_prefix: str = ""

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown signing scheme {self.scheme!r}; use one of {', '.join(SCHEMES)}")
        implementation = SCHEMES[self.scheme]
        if implementation.signs_timestamp and not self.timestamp_header:
            raise ValueError(f"the {self.scheme} scheme needs timestamp_header")
        if implementation.signs_message_id and not self.id_header:
            raise ValueError(f"the {self.scheme} scheme needs id_header")

    def implementation(self) -> Scheme:
        return scheme_named(self.scheme, self.signature_prefix)


_STANDARD_WEBHOOKS = SigningContract(
    StandardWebhooks.name, "webhook-signature", timestamp_header="webhook-timestamp", id_header="webhook-id"
)
"""The Standard Webhooks specification's header names: the default for its scheme."""


def _contract_of_profile(profile: Any) -> SigningContract:
    """From a validated Profile (the server's), or a profile's JSON document."""
    if isinstance(profile, Mapping):
        signing, headers = profile["signing"], profile["headers"]
        return SigningContract(
            scheme=signing["scheme"],
            signature_header=headers["signature"],
            timestamp_header=headers.get("timestamp"),
            id_header=headers.get("delivery_id"),
            signature_prefix=signing.get("signature_prefix", ""),
        )
    return SigningContract(
        scheme=str(profile.signing.scheme),
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
    elif scheme_or_profile in (StandardWebhooks.name, StandardWebhooksAsymmetric.name):
        base = replace(_STANDARD_WEBHOOKS, scheme=scheme_or_profile)
    elif scheme_or_profile in SCHEMES:
        if not signature_header:
            raise ValueError(f"the {scheme_or_profile} scheme needs signature_header (e.g. X-Webhook-Signature)")
        return SigningContract(
            scheme_or_profile, signature_header, timestamp_header, id_header, signature_prefix=signature_prefix or ""
        )
    elif isinstance(scheme_or_profile, str):
        base = _contract_of_profile(profile_document(scheme_or_profile))
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


def _timestamp(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise WebhookVerificationError("the timestamp header is not a Unix time in seconds") from None


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
    scheme = contract.implementation()
    secrets = [secret] if isinstance(secret, str) else list(secret)
    received = _header(headers, contract.signature_header)
    content = SignedContent(
        body=payload.encode("utf-8") if isinstance(payload, str) else bytes(payload),
        message_id=_header(headers, contract.id_header or "") if scheme.signs_message_id else "",
        timestamp=_timestamp(_header(headers, contract.timestamp_header or "")) if scheme.signs_timestamp else None,
    )
    scheme.verify(received, secrets, content, now=time.time() if now is None else now, tolerance=tolerance)
    return True
