"""Webhook endpoint rules, independent of HTTP and storage.

Routes parse the request, call these functions to build or change a `Webhook`, and store
the result. Everything a caller can get wrong raises InvalidRequestError naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.core.errors import InvalidRequestError
from functions.core.ids import new_id
from functions.core.matching import MATCH_ALL, is_valid_pattern, pattern_covers_catalog
from functions.core.models import Webhook
from functions.core.profile import MAX_EVENT_TYPE_CHARS, Profile
from functions.management.bodies import WebhookCreate, WebhookUpdate
from functions.management.secrets import generate_secret, rotated_secrets, validate_caller_secret

DISABLED_BY_API = "disabled through the API"

UrlCheck = Callable[[str], str]
"""Validates an endpoint URL (SSRF rules included) and returns it; raises UnsafeUrlError."""


@dataclass(frozen=True)
class EndpointRules:
    """What a deployment allows: its profile and the URL check bound to its policy and resolver."""

    profile: Profile
    check_url: UrlCheck
    catalog_names: Callable[[], set[str]] | None = None
    """Every type of a closed catalog, the platform's registered ones included (None: the profile's only);
    only called when the profile has a catalog."""


def _pattern_problem(pattern: str, catalog: set[str] | None) -> str | None:
    if not is_valid_pattern(pattern):
        return f'{pattern[:MAX_EVENT_TYPE_CHARS]!r} is not an event type, "prefix.*" or "*" (dotted lower-case names)'
    if catalog is None or pattern == MATCH_ALL:
        return None
    if not pattern_covers_catalog(pattern, catalog):
        return f"{pattern!r} matches no event type of the catalog (GET /v1/event-types)"
    return None


def validate_event_patterns(
    patterns: list[str], profile: Profile, catalog_names: Callable[[], set[str]] | None = None
) -> list[str]:
    """The patterns, duplicates removed, when each is valid under the deployment's catalog."""
    if not patterns:
        raise InvalidRequestError("events: subscribe to at least one event type")
    catalog = profile.catalog_names()
    if catalog is not None and catalog_names is not None:
        catalog = catalog_names()
    for index, pattern in enumerate(patterns):
        problem = _pattern_problem(pattern, catalog)
        if problem:
            raise InvalidRequestError(f"events[{index}]: {problem}")
    return list(dict.fromkeys(patterns))


def new_webhook(
    application_id: str, request: WebhookCreate, rules: EndpointRules, now: datetime
) -> tuple[Webhook, str]:
    """A webhook for `request`, and its signing secret (the caller's, or a generated one)."""
    url = rules.check_url(request.url)
    events = validate_event_patterns(request.events, rules.profile, rules.catalog_names)
    if request.secret is None:
        secret = generate_secret(rules.profile.secret)
    else:
        secret = validate_caller_secret(request.secret, rules.profile)
    webhook = Webhook.model_validate(
        {
            "id": new_id("wh"),
            "application_id": application_id,
            "url": url,
            "events": events,
            "description": request.description,
            "enabled": request.enabled,
            "disabled_reason": None if request.enabled else DISABLED_BY_API,
            "secrets": [{"value": secret}],
            "created_at": now,
            "updated_at": now,
        }
    )
    return webhook, secret


def updated_webhook(webhook: Webhook, request: WebhookUpdate, rules: EndpointRules, now: datetime) -> Webhook:
    """The webhook with the fields present in `request` changed; unchanged (same object) when nothing differs."""
    changes: dict[str, object] = {}
    if request.url is not None:
        changes["url"] = rules.check_url(request.url)
    if request.events is not None:
        changes["events"] = validate_event_patterns(request.events, rules.profile, rules.catalog_names)
    if "description" in request.model_fields_set:
        changes["description"] = request.description or ""
    if request.enabled is True and not webhook.enabled:
        changes.update(enabled=True, disabled_reason=None, consecutive_failures=0, failing_since=None)
    elif request.enabled is False and webhook.enabled:
        changes.update(enabled=False, disabled_reason=DISABLED_BY_API)
    changes = {name: value for name, value in changes.items() if getattr(webhook, name) != value}
    if not changes:
        return webhook
    return webhook.model_copy(update={**changes, "updated_at": now})


def with_rotated_secret(webhook: Webhook, profile: Profile, now: datetime) -> tuple[Webhook, str, datetime | None]:
    """The webhook signing with a new secret, the secret, and until when the previous one still signs."""
    secret = generate_secret(profile.secret)
    grace = profile.rotation_grace_seconds
    rotated = webhook.model_copy(
        update={"secrets": rotated_secrets(webhook.secrets, secret, now, grace), "updated_at": now}
    )
    previous_expires_at = now + timedelta(seconds=grace) if grace > 0 else None
    return rotated, secret, previous_expires_at
