"""The fan-out function: SQS events queue → stored event → one delivery per matching endpoint.

Each message is an event (functions/pipeline/messages.py); a message that fails is
reported in `batchItemFailures` and comes back, which is safe because every write of the
fan-out is idempotent (functions/pipeline/fanout.py).
"""

# ruff: noqa: PLC0415 - imports are deferred to first use to keep the cold start small

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.core import metrics as metric_names
from functions.core.lazy import LazyDependencies
from functions.pipeline.observability import traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.pipeline.fanout import FanOut

SERVICE = metric_names.SERVICE_DIMENSION

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or metric_names.NAMESPACE, service=SERVICE)


@dataclass(frozen=True)
class Dependencies:
    fanout: FanOut


def _build() -> Dependencies:
    from functions.core.settings import Settings
    from functions.pipeline.aws import aws_clients
    from functions.pipeline.fanout import FanOut
    from functions.store.deliveries import DeliveryStore
    from functions.store.events import EventStore
    from functions.store.queues import Queue
    from functions.store.webhooks import WebhookStore

    settings = Settings.from_environment()
    clients = aws_clients("dynamodb", "sqs")
    dynamodb = clients["dynamodb"]
    fanout = FanOut(
        events=EventStore(dynamodb, settings.table_name),
        webhooks=WebhookStore(dynamodb, settings.table_name),
        deliveries=DeliveryStore(dynamodb, settings.table_name),
        deliveries_queue=Queue(clients["sqs"], settings.deliveries_queue_url),
        profile=settings.profile,
    )
    return Dependencies(fanout=fanout)


_container: LazyDependencies[Dependencies] = LazyDependencies(_build)
dependencies = _container.get


def reset_dependencies(replacement: Dependencies | None = None) -> None:
    """Tests: forget the cached clients and settings (or install `replacement`)."""
    if replacement is None:
        _container.reset()
    else:
        _container.install(replacement)


def fan_out_record(record: SQSRecord) -> None:
    from functions.pipeline.messages import parse_event_message

    event = parse_event_message(record.body)
    result = dependencies().fanout.fan_out(event)
    metrics.add_metric(name=metric_names.DELIVERIES_CREATED, unit=MetricUnit.Count, value=result.created)


@logger.inject_lambda_context(clear_state=True)
@traced(SERVICE)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(event=event, record_handler=fan_out_record, processor=processor, context=context)
    )
