"""The SQS partial batch response of a handler that processes its whole batch together.

The fan-out and deliver functions work on a batch as a whole (shared reads, shared sends,
concurrent attempts), then report which messages failed; Powertools' batch processor turns
that into `batchItemFailures`, so those messages, and only those, come back.
"""

# ruff: noqa: PLC0415 - the batch utility is imported on first use, like the handlers' other imports

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


def partial_batch_response(
    event: dict[str, Any], context: LambdaContext, failures: Mapping[str, BaseException]
) -> dict[str, Any]:
    """`batchItemFailures` for the messages in `failures` (by message id, with why each failed)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    def report(record: SQSRecord) -> None:
        failure = failures.get(record.message_id)
        if failure is not None:
            raise failure

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event=event, record_handler=report, processor=processor, context=context))
