"""Webhook endpoint rules, independent of HTTP and storage.

Routes parse the request, call these functions to build or change a `Webhook`, and store
the result. Everything a caller can get wrong raises InvalidRequestError naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dovecote.schemes import StandardWebhooks, StandardWebhooksAsymmetric
from functions.core.custom_headers import CustomHeaderError, validate_custom_headers
from functions.core.destinations import (
    DEFAULT_ROLE_PATTERN,
    AwsDestination,
    DestinationType,
    new_external_id,
    parse_target,
    validate_message_group_id,
    validate_role_arn,
    validate_source,
)
from functions.core.errors import InvalidRequestError
from functions.core.filters import FilterError, validate_filter
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
    role_pattern: str = DEFAULT_ROLE_PATTERN
    """The roles this deployment may assume for AWS destinations (its deliver function's IAM policy)."""
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
    application_id: str,
    request: WebhookCreate,
    rules: EndpointRules,
    now: datetime,
    application_rate_limit: int | None = None,
) -> tuple[Webhook, str]:
    """A webhook for `request`, and its signing secret (the caller's, or a generated one);
    `application_rate_limit` is its application's default rate limit."""
    kind = DestinationType(request.type)
    url, destination = _destination(kind, request, rules)
    events = validate_event_patterns(request.events, rules.profile, rules.catalog_names)
    secret = _first_secret(request, rules.profile)
    webhook = Webhook.model_validate(
        {
            "id": new_id("wh"),
            "application_id": application_id,
            "type": kind,
            "url": url,
            "destination": destination,
            "events": events,
            "description": request.description,
            "enabled": request.enabled,
            "disabled_reason": None if request.enabled else DISABLED_BY_API,
            "disabled_at": None if request.enabled else now,
            "secrets": [{"value": secret}],
            "headers": _custom_headers(request.headers, rules.profile, kind),
            "filter": _filter(request.filter),
            "rate_limit_per_second": request.rate_limit_per_second,
            "application_rate_limit_per_second": application_rate_limit,
            "created_at": now,
            "updated_at": now,
        }
    )
    return webhook, secret


def _first_secret(request: WebhookCreate, profile: Profile) -> str:
    """The caller's secret, or a generated one: an Ed25519 key (whsk_) when the endpoint signs `v1a`."""
    asymmetric = _signs_v1a(request.signature_version, profile)
    if request.secret is None:
        return StandardWebhooksAsymmetric.new_secret_key() if asymmetric else generate_secret(profile.secret)
    secret = validate_caller_secret(request.secret, profile)
    if asymmetric != secret.startswith(StandardWebhooksAsymmetric.secret_prefix):
        raise InvalidRequestError("secret: v1a signs with a whsk_ secret key, v1 with an HMAC secret (whsec_)")
    return secret


def _signs_v1a(requested: str | None, profile: Profile) -> bool:
    """Whether the endpoint signs Standard Webhooks `v1a` (Ed25519): as asked, or as its profile does."""
    scheme = profile.signing.scheme
    if scheme == StandardWebhooksAsymmetric.name:
        if requested == "v1":
            raise InvalidRequestError(
                f"signature_version: this profile signs {scheme} (v1a, Ed25519); v1 needs a profile signing with HMAC"
            )
        return True
    if requested == "v1a" and scheme != StandardWebhooks.name:
        raise InvalidRequestError(
            f"signature_version: v1a (Ed25519) needs a Standard Webhooks profile; this one signs {scheme}"
        )
    return requested == "v1a"


def _custom_headers(headers: dict[str, str], profile: Profile, kind: DestinationType) -> dict[str, str]:
    if headers and kind.is_aws:
        raise InvalidRequestError(f"headers: HTTP headers are for https endpoints only ({kind} endpoint)")
    try:
        return validate_custom_headers(headers, profile)
    except CustomHeaderError as error:
        raise InvalidRequestError(str(error)) from None


def _filter(document: dict[str, object] | None) -> dict[str, object] | None:
    """A valid filter; None for none, and for {} (it matches every event: nothing to filter)."""
    if not document:
        return None
    try:
        return validate_filter(document)
    except FilterError as error:
        raise InvalidRequestError(str(error)) from None


def _refuse(field: str, value: object, kind: DestinationType, why: str) -> None:
    if value is not None:
        raise InvalidRequestError(f"{field}: {why} ({kind} endpoint)")


def _destination(
    kind: DestinationType, request: WebhookCreate, rules: EndpointRules
) -> tuple[str, AwsDestination | None]:
    """The endpoint's address (its `url`) and, for the AWS types, what is needed to reach it."""
    if not kind.is_aws:
        for field in ("target", "role_arn", "message_group_id", "source"):
            _refuse(field, getattr(request, field), kind, "only for sqs, sns and eventbridge endpoints")
        if request.url is None:
            raise InvalidRequestError("url: required for an https endpoint")
        return rules.check_url(request.url), None
    _refuse("url", request.url, kind, "not used: the destination is `target`")
    if request.target is None:
        raise InvalidRequestError(f"target: required for an {kind} endpoint")
    if request.role_arn is None:
        raise InvalidRequestError(f"role_arn: required for an {kind} endpoint")
    target = parse_target(kind, request.target)
    destination = AwsDestination(
        role_arn=validate_role_arn(request.role_arn, rules.role_pattern),
        external_id=new_external_id(),
        region=target.region,
        account=target.account,
        message_group_id=validate_message_group_id(request.message_group_id, kind, target),
        source=validate_source(request.source, kind),
    )
    return target.address, destination


def _changed_destination(webhook: Webhook, request: WebhookUpdate, rules: EndpointRules) -> dict[str, object]:
    """The url and destination after a PATCH's `url`, `target`, `role_arn` (the ExternalId is kept)."""
    changes: dict[str, object] = {}
    if not webhook.type.is_aws or webhook.destination is None:
        _refuse("target", request.target, webhook.type, "only for sqs, sns and eventbridge endpoints")
        _refuse("role_arn", request.role_arn, webhook.type, "only for sqs, sns and eventbridge endpoints")
        if request.url is not None:
            changes["url"] = rules.check_url(request.url)
        return changes
    _refuse("url", request.url, webhook.type, "not used: the destination is `target`")
    destination = webhook.destination
    if request.target is not None:
        target = parse_target(webhook.type, request.target)
        validate_message_group_id(destination.message_group_id, webhook.type, target)
        changes["url"] = target.address
        destination = destination.model_copy(update={"region": target.region, "account": target.account})
    if request.role_arn is not None:
        destination = destination.model_copy(
            update={"role_arn": validate_role_arn(request.role_arn, rules.role_pattern)}
        )
    if destination != webhook.destination:
        changes["destination"] = destination
    return changes


def updated_webhook(webhook: Webhook, request: WebhookUpdate, rules: EndpointRules, now: datetime) -> Webhook:
    """The webhook with the fields present in `request` changed; unchanged (same object) when nothing differs."""
    changes = _changed_destination(webhook, request, rules)
    if request.events is not None:
        changes["events"] = validate_event_patterns(request.events, rules.profile, rules.catalog_names)
    if "description" in request.model_fields_set:
        changes["description"] = request.description or ""
    if request.headers is not None:
        changes["headers"] = _custom_headers(request.headers, rules.profile, webhook.type)
    if "filter" in request.model_fields_set:
        changes["filter"] = _filter(request.filter)
    if "rate_limit_per_second" in request.model_fields_set:
        changes["rate_limit_per_second"] = request.rate_limit_per_second
    if request.enabled is True and not webhook.enabled:
        changes.update(enabled=True, disabled_reason=None, disabled_at=None, consecutive_failures=0, failing_since=None)
    elif request.enabled is False and webhook.enabled:
        changes.update(enabled=False, disabled_reason=DISABLED_BY_API, disabled_at=now)
    changes = {name: value for name, value in changes.items() if getattr(webhook, name) != value}
    if not changes:
        return webhook
    return webhook.model_copy(update={**changes, "updated_at": now})


def with_rotated_secret(webhook: Webhook, profile: Profile, now: datetime) -> tuple[Webhook, str, datetime | None]:
    """The webhook signing with a new secret of the same kind, the secret, and until when the old one still signs."""
    current = webhook.secrets[0].value if webhook.secrets else ""
    if current.startswith(StandardWebhooksAsymmetric.secret_prefix):
        secret = StandardWebhooksAsymmetric.new_secret_key()
    else:
        secret = generate_secret(profile.secret)
    grace = profile.rotation_grace_seconds
    rotated = webhook.model_copy(
        update={"secrets": rotated_secrets(webhook.secrets, secret, now, grace), "updated_at": now}
    )
    previous_expires_at = now + timedelta(seconds=grace) if grace > 0 else None
    return rotated, secret, previous_expires_at
