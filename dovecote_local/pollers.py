"""SQS event source mappings, emulated: one thread per mapping polls its queue and calls its function.

Like Lambda's poller: batches of up to `batch_size` messages, an SQS event per batch, the
successful messages deleted, the failed ones (`batchItemFailures`, or the whole batch when
the function raises) left to reappear after the visibility timeout. moto moves a message
to the queue's dead-letter queue after `maxReceiveCount` receives (its redrive policy).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from dovecote_local.lambdas import FunctionError, LambdaRuntime

log = logging.getLogger("dovecote-local")

SQS_MAX_MESSAGES_PER_RECEIVE = 10
LONG_POLL_SECONDS = 1
_PAUSE_AFTER_ERROR_SECONDS = 1.0


@dataclass(frozen=True)
class EventSourceMapping:
    queue_url: str
    queue_arn: str
    function_name: str
    batch_size: int = 10
    report_batch_item_failures: bool = False


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_message_ids(result: Any, message_ids: set[str]) -> set[str]:
    """The ids a ReportBatchItemFailures response marks failed; an invalid response fails the batch."""
    if result is None:
        return set()
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed = set()
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if item not in message_ids:
            return set(message_ids)  # Lambda treats an unknown or empty identifier as a failed batch
        failed.add(item)
    return failed


class QueuePoller(threading.Thread):
    def __init__(
        self,
        mapping: EventSourceMapping,
        sqs: Any,
        runtime: LambdaRuntime,
        region: str,
        stopping: threading.Event,
    ) -> None:
        super().__init__(name=f"poller:{mapping.function_name}", daemon=True)
        self.mapping = mapping
        self._sqs = sqs
        self._runtime = runtime
        self._region = region
        self._stopping = stopping

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("poller for %s failed; polling again", self.mapping.function_name)
                self._stopping.wait(_PAUSE_AFTER_ERROR_SECONDS)

    def poll_once(self) -> int:
        """Receive one batch and process it; returns the number of messages received."""
        response = self._sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=min(self.mapping.batch_size, SQS_MAX_MESSAGES_PER_RECEIVE),
            WaitTimeSeconds=LONG_POLL_SECONDS,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if messages:
            self._process(messages)
        return len(messages)

    def _process(self, messages: list[dict[str, Any]]) -> None:
        ids = {m["MessageId"] for m in messages}
        started = time.monotonic()
        try:
            result = self._runtime.invoke(
                self.mapping.function_name, sqs_event(messages, self.mapping.queue_arn, self._region)
            )
        except FunctionError as error:
            log.warning("%s failed a batch of %d: %s", self.mapping.function_name, len(messages), error)
            return
        failed = failed_message_ids(result, ids) if self.mapping.report_batch_item_failures else set()
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        log.debug(
            "%s: %d done, %d failed in %.0f ms",
            self.mapping.function_name,
            len(done),
            len(failed),
            (time.monotonic() - started) * 1000,
        )
