"""Ingest routes: the HTTP API calls that put messages on the pipeline's queues.

This is the only API function allowed sqs:SendMessage. Each route answers 202 only once
its message is in SQS; when SQS refuses it, nothing is left behind and the answer is 503.

- POST /v1/events: publish. `id` (an evt_ id of your own) or an `Idempotency-Key` header
  makes the call idempotent: a repeat gets the same 202 and queues nothing; reusing one for
  a different event is a 409 (functions/pipeline/publishing.py).
- POST /v1/webhooks/{id}/test: a sample event of the profile's test type, to that endpoint only.
- POST /v1/deliveries/{id}/retry: a new attempt series for a failed or cancelled delivery.
- POST /v1/webhooks/{id}/recover: re-send the endpoint's failed deliveries of events since a
  time, at most 1000 per call (`has_more` says to call again).
"""

# ruff: noqa: PLC0415 - a route imports what only it needs when first called (cold start)

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from functions.api.app import Application, logger
from functions.core.errors import InvalidRequestError, NotFoundError
from functions.core.ids import has_prefix
from functions.ingest.dependencies import dependencies
from functions.ingest.schemas import EventAccepted, PublishEvent, RecoverRequest, RecoveryObject

router = Router()

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        max_length=255,
        description="Publishing again with the same key is answered with the first event and queues nothing.",
    ),
]


def _accepted(model: type[Any], description: str) -> dict[int, Any]:
    return {202: {"description": description, "content": {"application/json": {"model": model}}}}


def _json(status: int, document: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status, content_type="application/json", body=json.dumps(document, separators=(",", ":"))
    )


def _require_id(identifier: str, prefix: str, noun: str) -> str:
    if not has_prefix(identifier, prefix):
        raise NotFoundError(f"no {noun} {identifier[:64]}")
    return identifier


def _accepted_event(event_id: str, event_type: str, created_at: datetime) -> dict[str, Any]:
    from functions.core.models import iso

    return {"id": event_id, "object": "event", "type": event_type, "created_at": iso(created_at)}


def _delivery_schema() -> type[Any]:
    from functions.management.schemas import DeliveryObject

    return DeliveryObject


@router.post(
    "/v1/events",
    status_code=202,
    summary="Publish an event",
    description="Queued for every enabled endpoint subscribed to its type. `id` or `Idempotency-Key` dedupe.",
    operation_id="publishEvent",
    tags=["events"],
    responses=_accepted(EventAccepted, "The event is queued for delivery."),
)
def publish_event(
    body: PublishEvent, application: Application, idempotency_key: IdempotencyKey = None
) -> Response[str]:
    raw = router.current_event.decoded_body
    request_bytes = len(raw.encode("utf-8")) if raw else 0
    event = dependencies().publisher.publish(
        application,
        event_type=body.type,
        data=body.data,
        request_bytes=request_bytes,
        event_id=body.id,
        idempotency_key=idempotency_key,
    )
    logger.append_keys(event_id=event.id)
    return _json(202, _accepted_event(event.id, event.type, event.created_at))


@router.post(
    "/v1/webhooks/<webhook_id>/test",
    status_code=202,
    summary="Send a test event to an endpoint",
    description="A sample event of the profile's test type, delivered to this endpoint only, like any other.",
    operation_id="testWebhook",
    tags=["webhooks"],
    responses=_accepted(EventAccepted, "The test event is queued for delivery."),
)
def test_webhook(webhook_id: str, application: Application) -> Response[str]:
    logger.append_keys(webhook_id=webhook_id)
    event = dependencies().redelivery.send_test(application, _require_id(webhook_id, "wh", "webhook"))
    logger.append_keys(event_id=event.id)
    return _json(202, _accepted_event(event.id, event.type, event.created_at))


@router.post(
    "/v1/deliveries/<delivery_id>/retry",
    status_code=202,
    summary="Retry a failed or cancelled delivery",
    description="Starts a new series of attempts on the retry schedule. A pending or succeeded delivery is a 409.",
    operation_id="retryDelivery",
    tags=["deliveries"],
    responses=_accepted(_delivery_schema(), "The delivery is pending again."),
)
def retry_delivery(delivery_id: str, application: Application) -> Response[str]:
    logger.append_keys(delivery_id=delivery_id)
    delivery = dependencies().redelivery.retry(application, _require_id(delivery_id, "del", "delivery"))
    return _json(202, delivery.public())


@router.post(
    "/v1/webhooks/<webhook_id>/recover",
    status_code=202,
    summary="Re-send an endpoint's failed deliveries since a time",
    description="At most 1000 per call; when `has_more` is true, call again with the same `since`.",
    operation_id="recoverWebhook",
    tags=["webhooks"],
    responses=_accepted(RecoveryObject, "The failed deliveries are queued again."),
)
def recover_webhook(webhook_id: str, body: RecoverRequest, application: Application) -> Response[str]:
    logger.append_keys(webhook_id=webhook_id)
    try:
        since = datetime.fromisoformat(body.since)
    except ValueError:
        raise InvalidRequestError("since: not an ISO-8601 time, e.g. 2026-03-04T12:00:00Z") from None
    recovery = dependencies().redelivery.recover(application, _require_id(webhook_id, "wh", "webhook"), since)
    return _json(202, recovery.public())
