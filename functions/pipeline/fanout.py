"""Fan-out: store an event once and turn it into one delivery per matching endpoint.

Every step is safe to repeat (an SQS redelivery of the same event): the event is put only
if absent; delivery ids are derived from (event id, webhook id), and a delivery is put
only if absent, so an existing one (perhaps already delivered) is left alone; and a
delivery that exists but has no attempt yet is queued again, because a crash may have
come between the write and the send (an existing delivery with attempts was queued
already). The deliver function ignores a queued attempt that already ran.

Conditional puts cannot go through BatchWriteItem, and a TransactWriteItems batch costs
twice the writes and fails as a whole when one delivery exists, so each delivery is its
own conditional PutItem, issued concurrently. Queue messages go in batches of 10.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from functions.core.ids import derived_id
from functions.core.matching import matches_any
from functions.core.models import Delivery, DeliveryStatus, Event, Webhook, utc_now
from functions.core.profile import Profile
from functions.pipeline.messages import DeliveryMessage
from functions.store.deliveries import DeliveryStore
from functions.store.events import EventStore
from functions.store.queues import Queue
from functions.store.webhooks import WebhookStore

log = Logger(service="dovecote", child=True)

MAX_PARALLEL_WRITES = 16


class FanOutError(RuntimeError):
    """Some deliveries could not be queued; the event message is retried (which is safe)."""


@dataclass(frozen=True)
class FanOutResult:
    matched: int
    created: int
    event_stored: bool


def delivery_id_for(event_id: str, webhook_id: str) -> str:
    return derived_id("del", time_source_id=event_id, seed=f"{event_id}:{webhook_id}")


def retention_expiry(created_at: datetime, retention_days: int) -> int:
    """Epoch seconds when an event (and its deliveries) expire from the table."""
    return int((created_at + timedelta(days=retention_days)).timestamp())


def _may_not_be_queued(existing: Delivery | None) -> bool:
    """New, or stored by an earlier run that may have crashed before queueing it (no attempt yet)."""
    return existing is None or (existing.status is DeliveryStatus.PENDING and not existing.attempts)


class FanOut:
    def __init__(
        self,
        *,
        events: EventStore,
        webhooks: WebhookStore,
        deliveries: DeliveryStore,
        deliveries_queue: Queue,
        profile: Profile,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._events = events
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._queue = deliveries_queue
        self._profile = profile
        self._clock = clock

    def fan_out(self, event: Event) -> FanOutResult:
        expires = retention_expiry(event.created_at, self._profile.event_retention_days)
        stored = self._events.put(event, expires)
        targets = self._targets(event)
        now = self._clock()
        deliveries = [
            Delivery(
                id=delivery_id_for(event.id, webhook.id),
                tenant_id=event.tenant_id,
                webhook_id=webhook.id,
                event_id=event.id,
                event_type=event.type,
                status=DeliveryStatus.PENDING,
                created_at=now,
                updated_at=now,
                next_retry_at=now,
            )
            for webhook in targets
        ]
        outcomes = self._create_all(deliveries, expires)
        created = sum(existing is None for existing in outcomes)
        unsent = [d for d, existing in zip(deliveries, outcomes, strict=True) if _may_not_be_queued(existing)]
        messages = [DeliveryMessage(event.tenant_id, d.id, d.series).to_json() for d in unsent]
        failed = self._send_all(messages)
        log.info(
            "event fanned out",
            extra={
                "event_id": event.id,
                "event_type": event.type,
                "matched": len(deliveries),
                "deliveries_created": created,
                "event_stored": stored,
            },
        )
        if failed:
            raise FanOutError(f"{failed} of {len(messages)} delivery messages were not queued")
        return FanOutResult(matched=len(deliveries), created=created, event_stored=stored)

    def _targets(self, event: Event) -> list[Webhook]:
        if event.webhook_id is not None:  # a test event: that endpoint only
            webhook = self._webhooks.find(event.tenant_id, event.webhook_id)
            return [webhook] if webhook is not None and webhook.enabled else []
        return [
            webhook
            for webhook in self._webhooks.iter_all(event.tenant_id)
            if webhook.enabled and matches_any(webhook.events, event.type)
        ]

    def _create_all(self, deliveries: list[Delivery], expires: int) -> list[Delivery | None]:
        """For each delivery: None when this call created it, else the delivery already stored."""
        if len(deliveries) <= 1:
            return [self._deliveries.create_or_find(d, expires) for d in deliveries]
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_WRITES, len(deliveries))) as pool:
            return list(pool.map(lambda d: self._deliveries.create_or_find(d, expires), deliveries))

    def _send_all(self, messages: list[str]) -> int:
        chunks = [messages[start : start + 10] for start in range(0, len(messages), 10)]
        if len(chunks) <= 1:
            return sum(len(self._queue.send_batch(chunk)) for chunk in chunks)
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_WRITES, len(chunks))) as pool:
            return sum(len(failed) for failed in pool.map(self._queue.send_batch, chunks))
