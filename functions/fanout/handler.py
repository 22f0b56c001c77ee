"""The fan-out function: SQS events queue → one queued delivery per matching endpoint.

Each message is an `EventReference` (functions/pipeline/contract.py). The whole batch is fanned out
together (functions/pipeline/fanout.py); a message that cannot be parsed, or whose
deliveries were not all queued, is reported in `batchItemFailures` and comes back, which
is safe because a repeated fan-out names the same deliveries.
"""

# ruff: noqa: PLC0415 - imports are deferred to first use to keep the cold start small

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.core import metrics as metric_names
from functions.runtime.lazy import LazyDependencies
from functions.runtime.observability import logger as service_logger
from functions.runtime.observability import metrics as service_metrics
from functions.runtime.observability import traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.pipeline.fanout import FanOut

logger = service_logger()
metrics = service_metrics()


@dataclass(frozen=True)
class Dependencies:
    fanout: FanOut


def _build() -> Dependencies:
    from functions.pipeline.fanout import FanOut
    from functions.runtime.clients import aws_clients
    from functions.runtime.settings import Settings
    from functions.store.events import EventStore
    from functions.store.queues import Queue
    from functions.store.webhooks import WebhookStore

    settings = Settings.for_function("fanout")
    clients = aws_clients("dynamodb", "sqs")
    fanout = FanOut(
        webhooks=WebhookStore(clients["dynamodb"], settings.table_name),
        deliveries_queue=Queue(clients["sqs"], settings.deliveries_queue_url),
        profile=settings.profile,
        events=EventStore(clients["dynamodb"], settings.table_name),
    )
    return Dependencies(fanout=fanout)


_container: LazyDependencies[Dependencies] = LazyDependencies(_build)
dependencies = _container.get

reset_dependencies = _container.reset
"""Tests: forget the cached clients and settings (or use the replacement given)."""


def fan_out_batch(records: list[dict[str, Any]]) -> dict[str, BaseException]:
    """Fan out every event of the batch; returns why each failed message failed, by message id."""
    from pydantic import ValidationError

    from functions.pipeline.contract import EventReference
    from functions.pipeline.fanout import FanOutError

    failures: dict[str, BaseException] = {}
    parsed: list[tuple[str, EventReference]] = []
    for record in records:
        try:
            parsed.append((record["messageId"], EventReference.model_validate_json(record["body"])))
        except ValidationError as error:
            failures[record["messageId"]] = error
    try:
        results = dependencies().fanout.fan_out_all([event for _, event in parsed])
    except Exception as error:  # e.g. DynamoDB unavailable: every event of the batch comes back
        logger.exception("fan-out failed")
        return {**failures, **{message_id: error for message_id, _ in parsed}}
    for (message_id, _), result in zip(parsed, results, strict=True):
        if result.complete:
            metrics.add_metric(name=metric_names.DELIVERIES_CREATED, unit=MetricUnit.Count, value=result.queued)
        else:
            unsent = f"{result.matched - result.queued} of {result.matched} deliveries were not queued"
            failures[message_id] = FanOutError(unsent)
    return failures


@logger.inject_lambda_context(clear_state=True)
@traced()
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions.pipeline.batch_response import partial_batch_response

    failures = fan_out_batch(event["Records"])
    for message_id, reason in failures.items():
        logger.error("event message failed", extra={"message_id": message_id, "reason": str(reason)})
    return partial_batch_response(event, context, failures)
