"""Signing secrets: generated in the profile's format, caller-supplied ones checked, rotation.

A webhook keeps its current secret first in `Webhook.secrets`; rotation moves it behind the
new one with an expiry (the profile's grace period) so receivers can switch over while
deliveries carry signatures for both.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from dovecote.schemes import SigningError
from functions.core.errors import InvalidRequestError
from functions.core.models import SigningSecret
from functions.core.profile import Profile, SecretEncoding, SecretFormat

MAX_SECRETS_PER_WEBHOOK = 10
"""The current secret and at most nine rotated-out ones still in their grace period."""


def generate_secret(secret_format: SecretFormat) -> str:
    key = secrets.token_bytes(secret_format.random_bytes)
    body = key.hex() if secret_format.encoding is SecretEncoding.HEX else base64.b64encode(key).decode()
    return f"{secret_format.prefix}{body}"


def validate_caller_secret(secret: str, profile: Profile) -> str:
    """A secret chosen by the caller: printable ASCII without spaces, in a form the scheme can sign with."""
    if not all("!" <= char <= "~" for char in secret):
        raise InvalidRequestError("secret: only printable ASCII characters without spaces are allowed")
    try:
        profile.signing.implementation().check_secret(secret)
    except SigningError as error:
        raise InvalidRequestError(f"secret: {error}") from None
    return secret


def rotated_secrets(
    current: list[SigningSecret], new_secret: str, now: datetime, grace_seconds: int
) -> list[SigningSecret]:
    """The new secret first, then the outgoing one until now + grace, then earlier ones not yet expired."""
    rotated = [SigningSecret(value=new_secret)]
    if current and grace_seconds > 0:
        outgoing = current[0]
        rotated.append(SigningSecret(value=outgoing.value, expires_at=now + timedelta(seconds=grace_seconds)))
    rotated.extend(s for s in current[1:] if s.expires_at is not None and s.expires_at > now)
    return rotated[:MAX_SECRETS_PER_WEBHOOK]
