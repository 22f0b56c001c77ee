"""SQS queues: the events queue (ingest → fan-out) and the deliveries queue (→ deliver)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

SQS_BATCH_SIZE = 10


class QueueSendError(RuntimeError):
    """SQS did not accept a message."""


class Queue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, body: str) -> str:
        """Send one message; returns its message id or raises QueueSendError."""
        try:
            response = self._client.send_message(QueueUrl=self._url, MessageBody=body)
        except Exception as error:
            raise QueueSendError(f"SendMessage failed: {type(error).__name__}") from error
        return str(response["MessageId"])

    def send_batch(self, bodies: Sequence[str], delays: Sequence[int] | None = None) -> list[int]:
        """Send up to 10 messages in one call, resending entries SQS rejected once; `delays` gives each
        message's DelaySeconds.

        Returns the positions (in `bodies`) that still failed; an empty list means all were sent.
        """
        if len(bodies) > SQS_BATCH_SIZE:
            raise ValueError(f"at most {SQS_BATCH_SIZE} messages per batch")
        pending = list(range(len(bodies)))
        for _ in range(2):
            if not pending:
                break
            entries: list[dict[str, Any]] = [{"Id": str(p), "MessageBody": bodies[p]} for p in pending]
            if delays is not None:
                for entry, position in zip(entries, pending, strict=True):
                    entry["DelaySeconds"] = delays[position]
            try:
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            except Exception as error:
                log.warning("SendMessageBatch failed: %s", type(error).__name__)
            else:
                pending = sorted(int(failure["Id"]) for failure in response.get("Failed", []))
        return pending

    def send_many(self, bodies: Sequence[str], delays: Sequence[int] | None = None) -> list[int]:
        """Send any number of messages in batches of 10 (each delayed by `delays`, when given); returns the
        positions that failed."""
        failed: list[int] = []
        for start in range(0, len(bodies), SQS_BATCH_SIZE):
            chunk = bodies[start : start + SQS_BATCH_SIZE]
            chunk_delays = None if delays is None else delays[start : start + SQS_BATCH_SIZE]
            failed.extend(start + position for position in self.send_batch(chunk, chunk_delays))
        return failed
