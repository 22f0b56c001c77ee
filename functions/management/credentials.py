"""Minting credentials: platform keys, application keys and portal sessions.

The plaintext is returned once, to the caller that minted it; only its hash is stored
(functions/store/api_keys.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.core.errors import InvalidRequestError
from functions.core.models import ApiKey, CredentialKind, utc_now
from functions.store.api_keys import ApiKeyStore, generate_api_key, new_api_key

MAX_DESCRIPTION_CHARS = 256
SESSION_TTL_SECONDS = (60, 86_400)
DEFAULT_SESSION_TTL_SECONDS = 3_600


def _checked_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequestError(f"description: longer than {MAX_DESCRIPTION_CHARS} characters")
    return description


def create_api_key(store: ApiKeyStore, application_id: str, description: str = "") -> tuple[ApiKey, str]:
    """A new key of one application, and its plaintext (stored nowhere)."""
    plaintext = generate_api_key(CredentialKind.APPLICATION.value)
    api_key = new_api_key(application_id, plaintext, _checked_description(description))
    store.create(api_key)
    return api_key, plaintext


def create_platform_key(store: ApiKeyStore, description: str = "") -> tuple[ApiKey, str]:
    """A new platform key (every application), and its plaintext."""
    plaintext = generate_api_key(CredentialKind.PLATFORM.value)
    api_key = new_api_key(None, plaintext, _checked_description(description))
    store.create(api_key)
    return api_key, plaintext


def open_portal_session(
    store: ApiKeyStore,
    application_id: str,
    *,
    ttl_seconds: int = DEFAULT_SESSION_TTL_SECONDS,
    read_only: bool = False,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A short-lived credential of one application for its portal, and its token."""
    low, high = SESSION_TTL_SECONDS
    if not low <= ttl_seconds <= high:
        raise InvalidRequestError(f"ttl_seconds: from {low} to {high} seconds")
    expires_at = (now or utc_now()) + timedelta(seconds=ttl_seconds)
    plaintext = generate_api_key(CredentialKind.PORTAL_SESSION.value)
    session = new_api_key(
        application_id, plaintext, "portal session", read_only=read_only, expires_at=expires_at.replace(microsecond=0)
    )
    store.create(session)
    return session, plaintext
