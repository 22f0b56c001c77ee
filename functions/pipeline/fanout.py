"""Fan-out: turn a stored event into one queued delivery per matching endpoint.

The fan-out writes nothing to DynamoDB. Each delivery gets an id derived from (event id,
webhook id) and goes to the deliveries queue with what its row needs; the deliver function
stores the row once, together with the outcome of the first attempt. So every step is
safe to repeat (an SQS redelivery of the event, a repeated publish): a repeated message
names the same delivery, and the deliver function does not attempt a delivery again once
its first attempt is logged.

A batch of events is fanned out together: each application's subscriptions are read once per
batch (id, patterns, payload filter and enabled only: never URLs or secrets), and the
deliveries of all its events share SendMessageBatch calls (10 messages each). An event is
read (one GetItem) only when an endpoint it matches by type has a payload filter; an event
the filter refuses gets no delivery at all for that endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from functions.core.filters import matches
from functions.core.ids import derived_id
from functions.core.matching import matches_any
from functions.core.models import utc_now
from functions.core.profile import Profile
from functions.core.timestamps import envelope_timestamp
from functions.pipeline.contract import DeliveryMessage, EventReference, NewDelivery
from functions.runtime.observability import logger as service_logger
from functions.store.events import EventStore
from functions.store.queues import SQS_BATCH_SIZE, Queue
from functions.store.table import retention_expiry
from functions.store.webhooks import Subscription, WebhookStore

log = service_logger(child=True)

MAX_PARALLEL_CALLS = 16


class FanOutError(RuntimeError):
    """Some deliveries could not be queued; the event message is retried (which is safe)."""


@dataclass(frozen=True)
class FanOutResult:
    matched: int
    queued: int

    @property
    def complete(self) -> bool:
        return self.queued == self.matched


def delivery_id_for(event_id: str, webhook_id: str, published_at: datetime) -> str:
    """The one delivery of an event to an endpoint; it sorts at the event's stored publish time
    (never a time read from the event id, which may be the platform's own)."""
    return derived_id("del", at=published_at, seed=f"{event_id}:{webhook_id}")


@dataclass(frozen=True, kw_only=True)
class FanOut:
    webhooks: WebhookStore
    deliveries_queue: Queue
    profile: Profile
    events: EventStore
    clock: Callable[[], datetime] = utc_now

    def fan_out(self, event: EventReference) -> FanOutResult:
        [result] = self.fan_out_all([event])
        if not result.complete:
            raise FanOutError(f"{result.matched - result.queued} of {result.matched} delivery messages were not queued")
        return result

    def fan_out_all(self, events: Sequence[EventReference]) -> list[FanOutResult]:
        """Queue the deliveries of every event; a result with `complete` False is to be retried."""
        endpoints = self._endpoints_by_application({e.application_id for e in events if e.webhook_id is None})
        now = self.clock()
        messages: list[str] = []
        owners: list[int] = []
        for position, event in enumerate(events):
            for webhook_id in self._target_ids(event, endpoints.get(event.application_id, [])):
                messages.append(self._message(event, webhook_id, now))
                owners.append(position)
        unsent = self._send_all(messages)
        matched = [0] * len(events)
        queued = [0] * len(events)
        for index, owner in enumerate(owners):
            matched[owner] += 1
            queued[owner] += index not in unsent
        results = [FanOutResult(matched[i], queued[i]) for i in range(len(events))]
        for event, result in zip(events, results, strict=True):
            log.info(
                "event fanned out",
                extra={
                    "event_id": event.event_id,
                    "event_type": event.event_type,
                    "matched": result.matched,
                    "queued": result.queued,
                },
            )
        return results

    def _message(self, event: EventReference, webhook_id: str, now: datetime) -> str:
        new = NewDelivery(
            webhook_id=webhook_id,
            event_id=event.event_id,
            event_type=event.event_type,
            created_at=now,
            expires_at=retention_expiry(event.created_at, self.profile.event_retention_days),
        )
        delivery_id = delivery_id_for(event.event_id, webhook_id, event.created_at)
        return DeliveryMessage(application_id=event.application_id, delivery_id=delivery_id, new=new).to_json()

    def _endpoints_by_application(self, applications: Iterable[str]) -> dict[str, list[Subscription]]:
        ordered = sorted(applications)
        if len(ordered) <= 1:
            return {application: list(self.webhooks.iter_subscriptions(application)) for application in ordered}
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CALLS, len(ordered))) as pool:
            listed = pool.map(lambda application: list(self.webhooks.iter_subscriptions(application)), ordered)
            return dict(zip(ordered, listed, strict=True))

    def _target_ids(self, event: EventReference, subscriptions: list[Subscription]) -> list[str]:
        if event.webhook_id is not None:  # a test event: that endpoint only
            webhook = self.webhooks.find(event.application_id, event.webhook_id)
            return [webhook.id] if webhook is not None and webhook.enabled else []
        matched = [s for s in subscriptions if s.enabled and matches_any(s.events, event.event_type)]
        if not any(s.filter is not None for s in matched):
            return [s.id for s in matched]
        envelope = self._envelope(event)
        return [s.id for s in matched if s.filter is None or (envelope is not None and matches(s.filter, envelope))]

    def _envelope(self, event: EventReference) -> dict[str, object] | None:
        """What payload filters are matched against: the envelope's fields, under their standard names."""
        stored = self.events.find(event.application_id, event.event_id)
        if stored is None:
            return None
        return {
            "id": stored.id,
            "type": stored.type,
            "timestamp": envelope_timestamp(stored.created_at),
            "data": stored.data,
        }

    def _send_all(self, messages: list[str]) -> set[int]:
        """Positions of the messages that could not be sent."""
        starts = range(0, len(messages), SQS_BATCH_SIZE)

        def send(start: int) -> list[int]:
            return [
                start + position
                for position in self.deliveries_queue.send_batch(messages[start : start + SQS_BATCH_SIZE])
            ]

        if len(starts) <= 1:
            return {position for start in starts for position in send(start)}
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CALLS, len(starts))) as pool:
            return {position for failed in pool.map(send, starts) for position in failed}
