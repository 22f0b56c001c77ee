"""The operational webhook (platform key only): where operational events are delivered.

It is the one webhook of the reserved operational application (functions/pipeline/operational.py),
so its deliveries are signed, retried and logged like any other; `PUT` sets it (creating it with
its signing secret, or replacing its URL and event types and enabling it again), `GET` shows it
(with why it was disabled, if it was), `DELETE` removes it.
"""

# ruff: noqa: PLC0415 - a route imports what only it needs when first called (cold start)

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.api.app import PlatformCaller, logger
from functions.api.operations import operation
from functions.api.responses import DeletedOperationalWebhook, OperationalWebhookObject, OperationalWebhookWithSecret
from functions.core.errors import NotFoundError
from functions.management.bodies import OperationalWebhookRequest
from functions.management.dependencies import dependencies

router = Router()

OPERATIONAL_WEBHOOK_PATH = "/v1/operational-webhook"
_NONE = "no operational webhook is set (PUT /v1/operational-webhook sets one)"


@router.put(OPERATIONAL_WEBHOOK_PATH, **operation("setOperationalWebhook"))
def set_operational_webhook(body: OperationalWebhookRequest, caller: PlatformCaller) -> OperationalWebhookWithSecret:
    from functions.core.models import SigningSecret, Webhook
    from functions.core.timestamps import utc_now
    from functions.management.secrets import generate_secret, validate_caller_secret
    from functions.pipeline.operational import OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID

    deps = dependencies()
    profile = deps.settings.profile
    url = deps.endpoint_rules.check_url(body.url)
    secret = validate_caller_secret(body.secret, profile) if body.secret is not None else None
    events = list(dict.fromkeys(body.events))
    now = utc_now()
    existing = deps.webhooks.find(OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID)
    if existing is None:
        secret = secret or generate_secret(profile.secret)
        webhook = Webhook(
            id=OPERATIONAL_WEBHOOK_ID,
            application_id=OPERATIONAL_APPLICATION,
            url=url,
            events=events,
            description="the platform's operational webhook",
            secrets=[SigningSecret(value=secret)],
            created_at=now,
            updated_at=now,
        )
        deps.webhooks.create(webhook)
        logger.info("operational webhook created")
        return OperationalWebhookWithSecret.with_secret(webhook, secret)
    changes: dict[str, object] = {
        "url": url,
        "events": events,
        "enabled": True,
        "disabled_reason": None,
        "disabled_at": None,
        "consecutive_failures": 0,
        "failing_since": None,
        "updated_at": now,
    }
    if secret is not None:
        changes["secrets"] = [SigningSecret(value=secret)]
    webhook = existing.model_copy(update=changes)
    deps.webhooks.save(webhook, fields=set(changes))
    logger.info("operational webhook replaced", extra={"new_secret": secret is not None})
    return OperationalWebhookWithSecret.with_secret(webhook, secret)


@router.get(OPERATIONAL_WEBHOOK_PATH, **operation("getOperationalWebhook"))
def get_operational_webhook(caller: PlatformCaller) -> OperationalWebhookObject:
    from functions.pipeline.operational import OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID

    webhook = dependencies().webhooks.find(OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID)
    if webhook is None:
        raise NotFoundError(_NONE)
    return OperationalWebhookObject.from_record(webhook)


@router.delete(OPERATIONAL_WEBHOOK_PATH, **operation("deleteOperationalWebhook"))
def delete_operational_webhook(caller: PlatformCaller) -> DeletedOperationalWebhook:
    from functions.pipeline.operational import OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID

    deps = dependencies()
    if deps.webhooks.find(OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID) is None:
        raise NotFoundError(_NONE)
    retention_seconds = deps.settings.profile.event_retention_days * 86_400
    deps.webhooks.delete(OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID, remember_seconds=retention_seconds)
    logger.info("operational webhook deleted")
    return DeletedOperationalWebhook(id=OPERATIONAL_WEBHOOK_ID)
