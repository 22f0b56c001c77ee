"""The deliver function: one Lambda for two kinds of input.

- An SQS batch from the deliveries queue, messages `{"application_id", "delivery_id", "series"}`
  (plus `"new"` from the fan-out, functions/pipeline/messages.py): attempt 1 of each
  series, all messages of the batch at the same time (a thread each), endpoints and events
  read once per batch, reported with partial batch failures. A retryable failure starts the retry execution
  (`<delivery id>` or `<delivery id>-s<series>`); a success starts nothing. A message
  whose attempt or execution start failed is not acknowledged and comes back; its
  attempt is then not repeated if it was logged, and the execution start is repeated.
- A Step Functions task: `{"action": "attempt", "application_id", "delivery_id", "series",
  "attempt": n}` returns `{"outcome": "succeeded" | "retry" | "failed" | "cancelled"}`;
  `{"action": "mark_failed", …, "reason"}` ends the delivery as failed (idempotent) and
  returns `{"outcome": "failed"}`.
"""

# ruff: noqa: PLC0415 - imports are deferred to first use to keep the cold start small

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.core import metrics as metric_names
from functions.core.lazy import LazyDependencies
from functions.pipeline.observability import traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.core.settings import Settings
    from functions.pipeline.attempts import AttemptResult, DeliveryAttempter, SharedReads
    from functions.pipeline.messages import DeliveryMessage
    from functions.store.executions import RetryExecutions

SERVICE = metric_names.SERVICE_DIMENSION
MAX_CONCURRENT_ATTEMPTS = 10

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or metric_names.NAMESPACE, service=SERVICE)


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    attempter: DeliveryAttempter
    executions: RetryExecutions


def _build() -> Dependencies:
    from functions.core.settings import Settings
    from functions.core.urls import UrlPolicy
    from functions.pipeline.attempts import DeliveryAttempter
    from functions.pipeline.aws import aws_clients
    from functions.pipeline.http import HttpSender
    from functions.store.deliveries import DeliveryStore
    from functions.store.events import EventStore
    from functions.store.executions import RetryExecutions
    from functions.store.webhooks import WebhookStore

    settings = Settings.from_environment()
    clients = aws_clients("dynamodb", "stepfunctions")
    dynamodb = clients["dynamodb"]
    profile = settings.profile
    policy = UrlPolicy(https_only=profile.https_only, allow_loopback=settings.allow_http_loopback)
    attempter = DeliveryAttempter(
        deliveries=DeliveryStore(dynamodb, settings.table_name),
        webhooks=WebhookStore(dynamodb, settings.table_name),
        events=EventStore(dynamodb, settings.table_name),
        sender=HttpSender(policy, profile.attempt_timeout_seconds),
        profile=profile,
        time_scale=settings.time_scale,
    )
    executions = RetryExecutions(clients["stepfunctions"], settings.retry_state_machine_arn)
    return Dependencies(settings=settings, attempter=attempter, executions=executions)


_container: LazyDependencies[Dependencies] = LazyDependencies(_build)
dependencies = _container.get


def reset_dependencies(replacement: Dependencies | None = None) -> None:
    """Tests: forget the cached clients and settings (or install `replacement`)."""
    if replacement is None:
        _container.reset()
    else:
        _container.install(replacement)


def _record_metrics(result: AttemptResult) -> None:
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


def first_attempt(message: DeliveryMessage, reads: SharedReads | None = None) -> AttemptResult:
    """Attempt 1 of a queued delivery series; starts its retries when it is still pending."""
    deps = dependencies()
    result = deps.attempter.attempt(
        message.application_id, message.delivery_id, message.series, 1, new=message.new, reads=reads
    )
    if result.pending:
        started = deps.executions.start(message.application_id, message.delivery_id, message.series)
        logger.info(
            "retries started" if started else "retries already running",
            extra={"delivery_id": message.delivery_id, "series": message.series, "webhook_id": result.webhook_id},
        )
    return result


def _handle_sqs_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions.pipeline.batch_response import partial_batch_response
    from functions.pipeline.messages import DeliveryMessage

    errors: dict[str, BaseException] = {}
    # A delivery named twice in one batch (SQS at-least-once, a repeated fan-out) is attempted once.
    attempts: dict[tuple[str, str, int], list[str]] = {}
    messages: dict[tuple[str, str, int], DeliveryMessage] = {}
    for record in event["Records"]:
        try:
            message = DeliveryMessage.from_json(record["body"])
        except ValueError as error:
            logger.error("not a delivery message", extra={"message_id": record["messageId"], "error": str(error)})
            errors[record["messageId"]] = error
            continue
        key = (message.application_id, message.delivery_id, message.series)
        messages.setdefault(key, message)
        attempts.setdefault(key, []).append(record["messageId"])
    reads = dependencies().attempter.shared_reads()
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_CONCURRENT_ATTEMPTS, len(messages)))) as pool:
        futures = {key: pool.submit(first_attempt, message, reads) for key, message in messages.items()}
    for key, future in futures.items():
        failure = future.exception()
        if failure is None:
            _record_metrics(future.result())
            continue
        logger.error("delivery message failed", extra={"delivery_id": key[1], "error": repr(failure)})
        for message_id in attempts[key]:
            errors[message_id] = failure

    return partial_batch_response(event, context, errors)


def _handle_task(event: dict[str, Any]) -> dict[str, Any]:
    from functions.pipeline.attempts import describe_mark_failed_reason

    action = event.get("action")
    application_id, delivery_id, series = str(event["application_id"]), str(event["delivery_id"]), int(event["series"])
    logger.append_keys(delivery_id=delivery_id)
    deps = dependencies()
    if action == "attempt":
        result = deps.attempter.attempt(application_id, delivery_id, series, int(event["attempt"]))
    elif action == "mark_failed":
        reason = describe_mark_failed_reason(event.get("reason"), deps.settings.profile.max_attempts)
        result = deps.attempter.mark_failed(application_id, delivery_id, series, reason)
    else:
        raise ValueError(f"unknown action {action!r}")
    _record_metrics(result)
    return {"outcome": "failed" if action == "mark_failed" else result.outcome.value}


@logger.inject_lambda_context(clear_state=True)
@traced(SERVICE)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return _handle_sqs_batch(event, context)
    if "action" in event:
        return _handle_task(event)
    raise ValueError("expected an SQS batch or a Step Functions task with an action")
