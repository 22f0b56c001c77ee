"""Ingest routes: the HTTP API calls that put messages on the pipeline's queues.

This is the only API function allowed sqs:SendMessage. Each route answers 202 only once
its message is in SQS; when SQS refuses it, nothing is left behind and the answer is 503.

- POST /v1/events: publish. `id` (the platform's own id, e.g. order-42) or an `Idempotency-Key` header
  makes the call idempotent: a repeat gets the same 202 and queues nothing; reusing one for
  a different event is a 409 (functions/pipeline/publishing.py).
- POST /v1/events/batch: up to 100 events in one request, each idempotent as above, with one
  result per event (queued, a repeat, or that event's own 409/413/422/503).
- POST /v1/webhooks/{id}/test: a sample event of the profile's test type, to that endpoint only.
- POST /v1/deliveries/{id}/retry: a new attempt series for a failed or cancelled delivery.
- POST /v1/webhooks/{id}/recover: re-send the endpoint's failed deliveries of events since a
  time, at most 1000 per call (`has_more` says to call again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from functions.api.app import Application, logger, require_id
from functions.api.operations import operation
from functions.api.responses import (
    BatchItemResult,
    DeliveryObject,
    ErrorDetail,
    EventAccepted,
    EventBatchAccepted,
    RecoveryObject,
)
from functions.core.constants import IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_CHARS
from functions.core.errors import DovecoteError, InvalidRequestError, PayloadTooLargeError
from functions.core.timestamps import parse_iso
from functions.ingest.bodies import BatchEvent, PublishBatch, PublishEvent, RecoverRequest
from functions.ingest.dependencies import dependencies

if TYPE_CHECKING:
    from functions.pipeline.publishing import EventPublisher, PreparedEvent, Published

router = Router()

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        max_length=MAX_IDEMPOTENCY_KEY_CHARS,
        description="Publishing again with the same key is answered with the first event and queues nothing.",
        json_schema_extra={"pattern": f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$"},
    ),
]


@router.post("/v1/events", **operation("publishEvent"))
def publish_event(
    body: PublishEvent, application: Application, idempotency_key: IdempotencyKey = None
) -> EventAccepted:
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
    return EventAccepted.from_record(event)


@router.post("/v1/events/batch", **operation("publishEventBatch"))
def publish_event_batch(body: PublishBatch, application: Application) -> EventBatchAccepted:
    publisher = dependencies().publisher
    outcomes = publisher.publish_batch([_prepared(publisher, application, item) for item in body.events])
    logger.append_keys(events=len(outcomes))
    return EventBatchAccepted.of([_batch_result(index, outcome) for index, outcome in enumerate(outcomes)])


def _prepared(publisher: EventPublisher, application: str, item: BatchEvent) -> PreparedEvent | DovecoteError:
    try:
        prepared = publisher.prepare(application, item.type, item.data, item.id, item.idempotency_key)
    except DovecoteError as error:
        return error
    limit = publisher.profile.max_payload_bytes
    if prepared.data_bytes > limit:
        return PayloadTooLargeError(f"data: the event exceeds this deployment's {limit} bytes")
    return prepared


def _batch_result(index: int, outcome: Published | DovecoteError) -> BatchItemResult:
    if isinstance(outcome, DovecoteError):
        error = ErrorDetail(type=outcome.error_type, message=outcome.message)
        return BatchItemResult(
            index=index, status=outcome.status_code, id=None, type=None, created_at=None, repeat=False, error=error
        )
    event = outcome.event
    return BatchItemResult(
        index=index, status=202, id=event.id, type=event.type, created_at=event.created_at, repeat=outcome.repeat,
        error=None,
    )  # fmt: skip


@router.post("/v1/webhooks/<webhook_id>/test", **operation("testWebhook"))
def test_webhook(webhook_id: str, application: Application) -> EventAccepted:
    logger.append_keys(webhook_id=webhook_id)
    event = dependencies().redelivery.send_test(application, require_id(webhook_id, "wh", "webhook"))
    logger.append_keys(event_id=event.id)
    return EventAccepted.from_record(event)


@router.post("/v1/deliveries/<delivery_id>/retry", **operation("retryDelivery"))
def retry_delivery(delivery_id: str, application: Application) -> DeliveryObject:
    logger.append_keys(delivery_id=delivery_id)
    delivery = dependencies().redelivery.retry(application, require_id(delivery_id, "del", "delivery"))
    return DeliveryObject.from_record(delivery)


@router.post("/v1/webhooks/<webhook_id>/recover", **operation("recoverWebhook"))
def recover_webhook(webhook_id: str, body: RecoverRequest, application: Application) -> RecoveryObject:
    logger.append_keys(webhook_id=webhook_id)
    try:
        since = parse_iso(body.since)
    except ValueError:
        raise InvalidRequestError("since: not an ISO-8601 time, e.g. 2026-03-04T12:00:00Z") from None
    recovery = dependencies().redelivery.recover(application, require_id(webhook_id, "wh", "webhook"), since)
    return RecoveryObject.from_record(recovery)
