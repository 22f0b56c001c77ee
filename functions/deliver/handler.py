"""The deliver function: one Lambda for two kinds of input (functions/pipeline/contract.py).

- An SQS batch from the deliveries queue (`DeliveryMessage`s): attempt 1 of each series,
  all messages of the batch at the same time (a thread each), endpoints and events read
  once per batch, reported with partial batch failures. The deliveries of one endpoint
  still pending after it become one retry group: one execution for all of them. A message whose attempt or
  execution start failed is not acknowledged and comes back; its attempt is then not
  repeated if it was logged, and the execution start is repeated. On the message's last
  receive (functions/core/constants.py MAX_RECEIVE_COUNT) a throttled start ends the
  delivery with the reason in its log, so nothing reaches the dead-letter queue unseen.
- A Step Functions task (`AttemptTask` or `MarkFailedTask`), answered with a `TaskResult`
  (with the members still pending, when their next attempt is due: the next Wait's timestamp).

The walk of one delivery is functions/pipeline/delivery.py; this module parses, calls it
and records metrics.
"""

# ruff: noqa: PLC0415 - imports are deferred to first use to keep the cold start small

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.core import metrics as metric_names
from functions.core.constants import DELIVERIES_BATCH_SIZE
from functions.runtime.lazy import LazyDependencies
from functions.runtime.observability import logger as service_logger
from functions.runtime.observability import metrics as service_metrics
from functions.runtime.observability import traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.pipeline.contract import DeliveryMessage
    from functions.pipeline.delivery import DeliveryWorker, StepResult
    from functions.pipeline.operational import OperationalEvents
    from functions.pipeline.rate_limit import RateLimiter
    from functions.runtime.settings import Settings

MAX_CONCURRENT_ATTEMPTS = DELIVERIES_BATCH_SIZE
"""A whole batch at once: an invocation lasts one attempt timeout at most (infra/functions.py)."""

logger = service_logger()
metrics = service_metrics()


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    worker: DeliveryWorker


def _build() -> Dependencies:
    import functools

    from functions.core.health import EndpointHealth
    from functions.core.models import Attempt, Delivery, Event, Webhook
    from functions.core.schedule import RetrySchedule
    from functions.core.urls import UrlPolicy
    from functions.pipeline.attempt import Attempter
    from functions.pipeline.delivery import DeliveryWorker
    from functions.pipeline.delivery_log import DeliveryLog
    from functions.pipeline.destinations import delivery_sender
    from functions.pipeline.http import HttpSender
    from functions.runtime.clients import aws_client
    from functions.runtime.lazy import built_on_first_use
    from functions.runtime.settings import Settings
    from functions.store.batch_reads import BatchReader
    from functions.store.deliveries import DeliveryStore
    from functions.store.events import EventStore
    from functions.store.executions import RetryExecutions
    from functions.store.queues import Queue
    from functions.store.webhooks import WebhookStore

    # Every batch reads these records on several threads at once: their validators (deferred in
    # functions/core/models.py) are built here, once, before any thread needs them.
    for record in (Webhook, Event, Attempt, Delivery):
        record.model_rebuild()
    settings = Settings.for_function("deliver")
    dynamodb = aws_client("dynamodb")
    profile = settings.profile
    webhooks = WebhookStore(dynamodb, settings.table_name)
    policy = UrlPolicy(https_only=profile.https_only, allow_loopback=settings.allow_http_loopback)
    events = EventStore(dynamodb, settings.table_name)

    def operational_events() -> OperationalEvents:
        from functions.pipeline.operational import OperationalEvents
        from functions.store.event_bus import DefaultEventBus

        return OperationalEvents(
            events=events,
            events_queue=Queue(aws_client("sqs"), settings.events_queue_url),
            bus=DefaultEventBus(aws_client("events")),
            webhooks=webhooks,
            retention_days=profile.event_retention_days,
        )

    def rate_limiter() -> RateLimiter:
        from functions.pipeline.rate_limit import RateLimiter
        from functions.store.rate_limits import RateLimitStore

        return RateLimiter(RateLimitStore(dynamodb, settings.table_name))

    # Failure paths only emit operational events, and only limited endpoints use the rate limiter:
    # both (their modules and their SQS and EventBridge clients) are built when first used.
    operational = built_on_first_use(operational_events)

    def on_disabled(*disabled: Any) -> None:
        operational.on_disabled(*disabled)  # not `operational.on_disabled` at init: reading it builds the events

    schedule = RetrySchedule(
        tuple(delay * settings.time_scale for delay in profile.retry_schedule_seconds), settings.time_scale
    )
    worker = DeliveryWorker(
        log=DeliveryLog(DeliveryStore(dynamodb, settings.table_name)),
        batch_reads=BatchReader(dynamodb, settings.table_name),
        webhooks=webhooks,
        events=events,
        attempter=Attempter(
            sender=delivery_sender(
                HttpSender(
                    policy,
                    profile.attempt_timeout_seconds,
                    retry_after_cap_seconds=max(profile.retry_schedule_seconds),
                ),
                lambda: aws_client("sts"),
            ),
            profile=profile,
            schedule=schedule,
        ),
        health=EndpointHealth(profile.health, webhooks, on_disabled=on_disabled),
        executions=RetryExecutions(aws_client("stepfunctions"), settings.retry_state_machine_arn),
        operational=operational,
        limiter=built_on_first_use(rate_limiter),
        # Built on first use: only batches with deliveries waiting for a rate limit need SQS.
        deferrals=functools.cache(lambda: Queue(aws_client("sqs"), settings.deliveries_queue_url)),
    )
    return Dependencies(settings=settings, worker=worker)


_container: LazyDependencies[Dependencies] = LazyDependencies(_build)
dependencies = _container.get

reset_dependencies = _container.reset
"""Tests: forget the cached clients and settings (or use the replacement given)."""


def _record_metrics(result: StepResult) -> None:
    from functions.core.models import DeliveryStatus

    if result.latency_ms is not None:
        metrics.add_metric(name=metric_names.ATTEMPT_LATENCY, unit=MetricUnit.Milliseconds, value=result.latency_ms)
    if result.retry_scheduled:
        metrics.add_metric(name=metric_names.RETRIES_SCHEDULED, unit=MetricUnit.Count, value=1)
    if result.finished_as is DeliveryStatus.SUCCEEDED:
        metrics.add_metric(name=metric_names.DELIVERIES_SUCCEEDED, unit=MetricUnit.Count, value=1)
    elif result.finished_as is DeliveryStatus.FAILED:
        metrics.add_metric(name=metric_names.DELIVERIES_FAILED, unit=MetricUnit.Count, value=1)
    elif result.finished_as is DeliveryStatus.CANCELLED:
        metrics.add_metric(name=metric_names.DELIVERIES_CANCELLED, unit=MetricUnit.Count, value=1)


def _handle_sqs_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from pydantic import ValidationError

    from functions.core.constants import MAX_RECEIVE_COUNT
    from functions.pipeline.batch_response import partial_batch_response
    from functions.pipeline.contract import DeliveryMessage

    errors: dict[str, BaseException] = {}
    # A delivery named twice in one batch (SQS at-least-once, a repeated fan-out) is attempted once.
    attempts: dict[tuple[str, str, int], list[str]] = {}
    messages: dict[tuple[str, str, int], DeliveryMessage] = {}
    receives: dict[tuple[str, str, int], int] = {}
    for record in event["Records"]:
        try:
            message = DeliveryMessage.model_validate_json(record["body"])
        except ValidationError as error:
            logger.error("not a delivery message", extra={"message_id": record["messageId"], "error": str(error)})
            errors[record["messageId"]] = error
            continue
        key = (message.application_id, message.delivery_id, message.series)
        messages.setdefault(key, message)
        attempts.setdefault(key, []).append(record["messageId"])
        receives[key] = max(receives.get(key, 0), _receive_count(record))
    worker = dependencies().worker
    last_receives = {key for key, count in receives.items() if count >= MAX_RECEIVE_COUNT}
    results, failures = worker.first_attempts(messages, last_receives, MAX_CONCURRENT_ATTEMPTS)
    for result in results:
        _record_metrics(result)
    for key, failure in failures.items():
        logger.error("delivery message failed", extra={"delivery_id": key[1], "error": repr(failure)})
        for message_id in attempts[key]:
            errors[message_id] = failure

    return partial_batch_response(event, context, errors)


def _receive_count(record: dict[str, Any]) -> int:
    try:
        return int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
    except (TypeError, ValueError):
        return 1


def _handle_task(event: dict[str, Any]) -> dict[str, Any]:
    from functions.pipeline.contract import AttemptTask, parse_task

    task = parse_task(event)
    logger.append_keys(webhook_id=task.webhook_id, group_leader=task.members[0].delivery_id)
    worker = dependencies().worker
    step = worker.retry_attempt(task) if isinstance(task, AttemptTask) else worker.mark_failed(task)
    for result in step.steps:
        _record_metrics(result)
    return step.result.model_dump(mode="json")


@logger.inject_lambda_context(clear_state=True)
@traced()
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return _handle_sqs_batch(event, context)
    return _handle_task(event)
