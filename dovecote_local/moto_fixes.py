"""Fixes to moto's speed that change none of its behaviour, for the local stack and the tests.

moto 5's SQS checks each message it hands out against the queue's retention period by
computing *every* queue attribute (`get_queue_attributes`), and three of those scan every
message in the queue: a receive from a queue holding n messages costs O(n) per message
returned, so a backlog of a few thousand messages slows every poller to a crawl. The
replacement reads the one attribute it needs.
"""

from __future__ import annotations

from moto.core.utils import unix_time
from moto.sqs.models import Message, SQSBackend

_applied = False


def _retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_seconds = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return retention_seconds + message.sent_timestamp / 1000 > unix_time()  # type: ignore[operator]


def apply_moto_fixes() -> None:
    """Idempotent; the same answers as moto's own code, without the quadratic scans."""
    global _applied  # noqa: PLW0603 - one patch per process
    if not _applied:
        SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign]
        _applied = True
