"""Management routes: webhooks, the delivery log, events, the event-type catalog, health, OpenAPI.

Routes are thin: they parse (Powertools validation against functions/management/bodies.py),
call the rules in functions/management/webhooks.py and the stores, and return the response
objects of functions/api/responses.py.
Every lookup is scoped by the caller's application, so another application's id, like a malformed
one, is simply not found (404).

DELETE /v1/webhooks/{id} is idempotent: a deleted webhook leaves a tombstone for the event
retention period, so repeating the DELETE answers 200 `deleted: true` again, while an id this
application never had (another application's included) is 404. Each call also cancels the endpoint's
pending retries, so a DELETE that failed half-way is completed by retrying it.
"""

# ruff: noqa: PLC0415 - a route imports what only it needs when first called (cold start)

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.app import Application, CatalogReader, PlatformCaller, logger, require_id
from functions.api.operations import operation
from functions.api.responses import (
    DeletedEventType,
    DeletedWebhook,
    DeliveryList,
    DeliveryWithAttempts,
    EventObject,
    EventTypeList,
    EventTypeObject,
    Health,
    RotatedWebhook,
    WebhookList,
    WebhookObject,
    WebhookWithSecret,
)
from functions.core.errors import NotFoundError
from functions.core.profile import EVENT_TYPE_PATTERN, MAX_EVENT_TYPE_CHARS
from functions.management.bodies import EventTypeCreate, EventTypeUpdate, WebhookCreate, WebhookUpdate
from functions.management.dependencies import dependencies

if TYPE_CHECKING:
    from functions.core.models import Webhook
    from functions.management.dependencies import ManagementDependencies

router = Router()

PUBLIC: list[dict[str, list[str]]] = [{}]
"""OpenAPI security for routes that need no API key."""
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_CURSOR_CHARS = 512

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Objects per page.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_CHARS,
        description="`next_cursor` of the previous page, as it was given (opaque: any other value is a 422).",
        json_schema_extra={"pattern": "^[A-Za-z0-9_-]*$"},
    ),
]
DeliveryStatusFilter = Annotated[
    Literal["succeeded", "failed", "pending", "cancelled"] | None, Query(description="Only deliveries in this state.")
]
EventTypeFilter = Annotated[
    str | None,
    Query(
        max_length=MAX_EVENT_TYPE_CHARS, pattern=rf"^{EVENT_TYPE_PATTERN.pattern}$", description="Only this event type."
    ),
]


def _webhook(deps: ManagementDependencies, application: str, webhook_id: str) -> Webhook:
    logger.append_keys(webhook_id=webhook_id)
    return deps.webhooks.get(application, require_id(webhook_id, "wh", "webhook"))


def _cancel_pending_retries(deps: ManagementDependencies, application: str, webhook_id: str, reason: str) -> None:
    from functions.pipeline.cancellation import cancel_pending_deliveries

    cancel_pending_deliveries(deps.deliveries, deps.executions, application, webhook_id, reason)


def _now() -> datetime:
    from functions.core.timestamps import utc_now

    return utc_now()


@router.get("/v1/health", **operation("getHealth"), security=PUBLIC)
def get_health() -> Health:
    return Health()


@router.get(
    "/v1/openapi.json",
    **operation("getOpenApi"),
    security=PUBLIC,
    cache_control="public, max-age=300",
    responses={
        200: {
            "description": "The OpenAPI 3.1 document of the Dovecote API.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def get_openapi() -> Response[str]:
    from functions.management.openapi import openapi_json

    return Response(status_code=200, content_type="application/json", body=openapi_json())


@router.get("/v1/event-types", **operation("listEventTypes"))
def list_event_types(reader: CatalogReader) -> EventTypeList:
    catalog = dependencies().catalog
    return EventTypeList.from_catalog(catalog.list(), closed=catalog.closed, url="/v1/event-types")


@router.get("/v1/event-types/<name>", **operation("getEventType"))
def get_event_type(name: str, reader: CatalogReader) -> EventTypeObject:
    return EventTypeObject.from_record(dependencies().catalog.get(name))


@router.post("/v1/event-types", **operation("createEventType"))
def create_event_type(body: EventTypeCreate, caller: PlatformCaller) -> EventTypeObject:
    entry = dependencies().catalog.create(body.event_type())
    logger.info("event type registered", extra={"event_type": entry.event_type.name})
    return EventTypeObject.from_record(entry)


@router.patch("/v1/event-types/<name>", **operation("updateEventType"))
def update_event_type(name: str, body: EventTypeUpdate, caller: PlatformCaller) -> EventTypeObject:
    entry = dependencies().catalog.update(name, body.changes())
    logger.info("event type changed", extra={"event_type": name})
    return EventTypeObject.from_record(entry)


@router.delete("/v1/event-types/<name>", **operation("deleteEventType"))
def delete_event_type(name: str, caller: PlatformCaller) -> DeletedEventType:
    dependencies().catalog.delete(name)
    logger.info("event type deleted", extra={"event_type": name})
    return DeletedEventType(name=name)


@router.post("/v1/webhooks", **operation("createWebhook"))
def create_webhook(body: WebhookCreate, application: Application) -> WebhookWithSecret:
    from functions.management.webhooks import new_webhook

    deps = dependencies()
    default_limit = _application_rate_limit(deps, application)
    webhook, secret = new_webhook(application, body, deps.endpoint_rules, _now(), default_limit)
    deps.webhooks.create(webhook)
    # An application's default changed meanwhile has either found this webhook, or is seen here.
    if (current := _application_rate_limit(deps, application)) != default_limit:
        deps.webhooks.set_application_rate_limit(application, webhook.id, current)
        webhook = webhook.model_copy(update={"application_rate_limit_per_second": current})
    logger.info("webhook created", extra={"webhook_id": webhook.id})
    return WebhookWithSecret.with_secret(webhook, secret)


def _application_rate_limit(deps: ManagementDependencies, application_id: str) -> int | None:
    found = deps.applications.find(application_id)
    return None if found is None else found.rate_limit_per_second


@router.get("/v1/webhooks", **operation("listWebhooks"))
def list_webhooks(application: Application, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None) -> WebhookList:
    page = dependencies().webhooks.list(application, limit=limit, cursor=cursor)
    return WebhookList.from_page(page, url="/v1/webhooks")


@router.get("/v1/webhooks/<webhook_id>", **operation("getWebhook"))
def get_webhook(webhook_id: str, application: Application) -> WebhookObject:
    return WebhookObject.from_record(_webhook(dependencies(), application, webhook_id))


@router.patch("/v1/webhooks/<webhook_id>", **operation("updateWebhook"))
def update_webhook(webhook_id: str, body: WebhookUpdate, application: Application) -> WebhookObject:
    from functions.management.webhooks import updated_webhook

    deps = dependencies()
    webhook = _webhook(deps, application, webhook_id)
    updated = updated_webhook(webhook, body, deps.endpoint_rules, _now())
    if body.enabled and not webhook.enabled:  # told before it is saved: a retried request tells it again
        from functions.pipeline.operational import endpoint_enabled

        deps.operational.emit(endpoint_enabled(webhook, updated.updated_at))
    if updated is not webhook:
        changed = {name for name in type(webhook).model_fields if getattr(updated, name) != getattr(webhook, name)}
        deps.webhooks.save(updated, fields=changed)
        logger.info("webhook updated", extra={"fields": sorted(body.model_fields_set)})
    if body.enabled is False:
        _cancel_pending_retries(deps, application, webhook_id, "webhook disabled")
        if updated.disabled_at is not None:  # told after it is saved, from what is stored: a retry repeats its id
            from functions.pipeline.operational import endpoint_disabled

            deps.operational.emit(endpoint_disabled(updated, updated.disabled_reason or "", updated.disabled_at))
    return WebhookObject.from_record(updated)


@router.delete("/v1/webhooks/<webhook_id>", **operation("deleteWebhook"))
def delete_webhook(webhook_id: str, application: Application) -> DeletedWebhook:
    logger.append_keys(webhook_id=webhook_id)
    require_id(webhook_id, "wh", "webhook")
    deps = dependencies()
    retention_seconds = deps.settings.profile.event_retention_days * 86_400
    if not deps.webhooks.delete(application, webhook_id, remember_seconds=retention_seconds):
        raise NotFoundError(f"no webhook {webhook_id}")
    logger.info("webhook deleted")
    _cancel_pending_retries(deps, application, webhook_id, "webhook deleted")
    return DeletedWebhook.of(webhook_id)


@router.post("/v1/webhooks/<webhook_id>/rotate-secret", **operation("rotateWebhookSecret"))
def rotate_webhook_secret(webhook_id: str, application: Application) -> RotatedWebhook:
    from functions.management.webhooks import with_rotated_secret

    deps = dependencies()
    webhook = _webhook(deps, application, webhook_id)
    rotated, secret, previous_expires_at = with_rotated_secret(webhook, deps.settings.profile, _now())
    deps.webhooks.save(rotated, fields={"secrets"})
    logger.info("webhook secret rotated")
    return RotatedWebhook.rotated(rotated, secret, previous_expires_at)


@router.get("/v1/webhooks/<webhook_id>/deliveries", **operation("listWebhookDeliveries"))
def list_webhook_deliveries(
    webhook_id: str,
    *,
    application: Application,
    status: DeliveryStatusFilter = None,
    event: EventTypeFilter = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> DeliveryList:
    from functions.core.models import DeliveryStatus

    deps = dependencies()
    webhook = _webhook(deps, application, webhook_id)
    page = deps.deliveries.list_for_webhook(
        application,
        webhook.id,
        limit=limit,
        cursor=cursor,
        status=DeliveryStatus(status) if status else None,
        event_type=event,
    )
    return DeliveryList.from_page(page, url=f"/v1/webhooks/{webhook.id}/deliveries")


@router.get("/v1/deliveries/<delivery_id>", **operation("getDelivery"))
def get_delivery(delivery_id: str, application: Application) -> DeliveryWithAttempts:
    delivery = dependencies().deliveries.get(application, require_id(delivery_id, "del", "delivery"))
    return DeliveryWithAttempts.from_record(delivery)


@router.get("/v1/events/<event_id>", **operation("getEvent"))
def get_event(event_id: str, application: Application) -> EventObject:
    from functions.core.ids import is_event_id

    if not is_event_id(event_id):
        raise NotFoundError(f"no event {event_id[:64]}")
    return EventObject.from_record(dependencies().events.get(application, event_id))
