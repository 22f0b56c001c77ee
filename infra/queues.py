"""The events and deliveries queues, each with its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.constants import MAX_RECEIVE_COUNT
from infra.nag import acknowledge

__all__ = ["MAX_RECEIVE_COUNT", "Queues"]
DLQ_RETENTION = Duration.days(14)
# AWS: a queue's visibility timeout should be at least six times its consumer's timeout,
# plus the event source mapping's batching window.
VISIBILITY_TIMEOUT_FACTOR = 6


def visibility_timeout(consumer_timeout: Duration, batching_window: Duration) -> Duration:
    return Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * consumer_timeout.to_seconds() + batching_window.to_seconds())


class Queues(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        events_consumer_timeout: Duration,
        deliveries_consumer_timeout: Duration,
        batching_window: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.events_dlq = self._dead_letter_queue("EventsDlq", "events")
        self.events = self._queue(
            "Events", visibility_timeout(events_consumer_timeout, batching_window), self.events_dlq
        )
        self.deliveries_dlq = self._dead_letter_queue("DeliveriesDlq", "deliveries")
        self.deliveries = self._queue(
            "Deliveries", visibility_timeout(deliveries_consumer_timeout, batching_window), self.deliveries_dlq
        )

    def _queue(self, construct_id: str, visibility: Duration, dead_letter_queue: sqs.Queue) -> sqs.Queue:
        return sqs.Queue(
            self,
            construct_id,
            # SSE-SQS: encrypted at rest with no KMS key to pay for or grant, and no KMS call per message.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=visibility,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT),
        )

    def _dead_letter_queue(self, construct_id: str, purpose: str) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            f"This is the dead-letter queue of the {purpose} queue; a DLQ of a DLQ would only move the problem.",
        )
        return queue
