"""Operational events: what the platform hears about its own deployment.

- `endpoint.disabled`: an endpoint was disabled (a 410, the health rule, or by hand), with the reason;
- `endpoint.enabled`: a disabled endpoint was enabled again (by hand);
- `delivery.exhausted`: a delivery ended failed (its retry table ran out, or an error stopped it);
- `delivery.recovered`: a delivery succeeded on a later attempt, after failed ones.

Each goes two ways, both on failure, disable and recover paths only (a delivery whose first attempt
succeeds emits nothing):
(a) when the platform has set an operational webhook (one consistent read per emission): stored as
    an event of the reserved operational application (`OPERATIONAL_APPLICATION`, an id no API route
    accepts, so no customer can reach or list it) and queued on the events queue, so that fan-out
    and deliver send it, signed on the profile and retried like any delivery, to that application's
    one webhook: the operational webhook the platform sets with `PUT /v1/operational-webhook`;
(b) put on the deployer's EventBridge default bus (source `dovecote`, detail-type the event type).

Nothing is lost: a failure to store, queue or put raises, so the task or message that emitted it
is retried; each event's id is derived from what it is about (webhook id and disabled_at, delivery
id and series), so a repeat stores nothing new, fan-out names the same delivery, and EventBridge
consumers deduplicate on `detail.id`. Nothing recurses: events about the operational application
itself (its webhook failing, disabled or exhausted) are never emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from functions.core.ids import keyed_id
from functions.core.models import Delivery, DeliveryStatus, Event, Webhook
from functions.core.timestamps import envelope_timestamp, iso, stored_timestamp
from functions.pipeline.contract import EventReference
from functions.runtime.observability import logger as service_logger
from functions.store.events import EventStore
from functions.store.queues import Queue
from functions.store.table import retention_expiry

log = service_logger(child=True)

OPERATIONAL_APPLICATION = "dovecote:operational"
"""The reserved application of operational events. The `:` keeps it out of every route
(functions/core/ids.py APPLICATION_ID_PATTERN): it cannot be created, listed, read or published to."""
OPERATIONAL_WEBHOOK_ID = keyed_id("wh", "dovecote operational webhook")
"""The operational application's one webhook: the platform's operational webhook."""


class OperationalEventType(StrEnum):
    ENDPOINT_DISABLED = "endpoint.disabled"
    ENDPOINT_ENABLED = "endpoint.enabled"
    DELIVERY_EXHAUSTED = "delivery.exhausted"
    DELIVERY_RECOVERED = "delivery.recovered"


OPERATIONAL_EVENT_TYPES = tuple(kind.value for kind in OperationalEventType)


@dataclass(frozen=True)
class OperationalEvent:
    id: str
    type: OperationalEventType
    subject_application: str
    """The application the event is about (never the operational application: see `OperationalEvents.emit`)."""
    occurred_at: datetime
    data: dict[str, Any]

    def detail(self) -> dict[str, Any]:
        """The EventBridge detail: the same id, type, timestamp and data the operational webhook receives."""
        return {
            "id": self.id,
            "type": self.type.value,
            "timestamp": envelope_timestamp(self.occurred_at),
            "data": self.data,
        }


def operational_event_id(kind: OperationalEventType, *about: str) -> str:
    """The same id for the same occurrence, however often it is emitted."""
    return keyed_id("evt", "\n".join(("operational", kind.value, *about)))


def _endpoint(webhook: Webhook) -> dict[str, Any]:
    return {"application_id": webhook.application_id, "webhook_id": webhook.id, "url": webhook.url}


def endpoint_disabled(webhook: Webhook, reason: str, disabled_at: datetime) -> OperationalEvent:
    kind = OperationalEventType.ENDPOINT_DISABLED
    return OperationalEvent(
        id=operational_event_id(kind, webhook.application_id, webhook.id, stored_timestamp(disabled_at)),
        type=kind,
        subject_application=webhook.application_id,
        occurred_at=disabled_at,
        data={**_endpoint(webhook), "reason": reason, "disabled_at": iso(disabled_at)},
    )


def endpoint_enabled(webhook: Webhook, enabled_at: datetime) -> OperationalEvent:
    """`webhook` is the endpoint while still disabled: the id names the disabled period the enabling
    ends (its `disabled_at`), so an emission repeated before the change is saved keeps the same id."""
    kind = OperationalEventType.ENDPOINT_ENABLED
    ended = stored_timestamp(webhook.disabled_at) if webhook.disabled_at else ""
    return OperationalEvent(
        id=operational_event_id(kind, webhook.application_id, webhook.id, ended),
        type=kind,
        subject_application=webhook.application_id,
        occurred_at=enabled_at,
        data={**_endpoint(webhook), "enabled_at": iso(enabled_at)},
    )


def _delivery(delivery: Delivery, attempts: int) -> dict[str, Any]:
    return {
        "application_id": delivery.application_id,
        "webhook_id": delivery.webhook_id,
        "delivery_id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "series": delivery.series,
        "attempts": attempts,
    }


def series_attempts(delivery: Delivery) -> int:
    return sum(1 for attempt in delivery.attempts if attempt.series == delivery.series)


def _delivery_event(
    kind: OperationalEventType, delivery: Delivery, at: datetime, attempts: int, **details: str
) -> OperationalEvent:
    """One event per delivery series and kind: the id names the delivery and its series."""
    return OperationalEvent(
        id=operational_event_id(kind, delivery.application_id, delivery.id, str(delivery.series)),
        type=kind,
        subject_application=delivery.application_id,
        occurred_at=at,
        data={**_delivery(delivery, attempts), **details},
    )


def delivery_exhausted(delivery: Delivery, reason: str, failed_at: datetime, attempts: int) -> OperationalEvent:
    kind = OperationalEventType.DELIVERY_EXHAUSTED
    return _delivery_event(kind, delivery, failed_at, attempts, reason=reason, failed_at=iso(failed_at))


def delivery_recovered(delivery: Delivery, succeeded_at: datetime, attempts: int) -> OperationalEvent:
    kind = OperationalEventType.DELIVERY_RECOVERED
    return _delivery_event(kind, delivery, succeeded_at, attempts, succeeded_at=iso(succeeded_at))


def recovered_after_failures(delivery: Delivery) -> bool:
    """The delivery succeeded, and some attempt before the last one (of any series) had failed."""
    return delivery.status is DeliveryStatus.SUCCEEDED and len(delivery.attempts) > 1


class EventBus(Protocol):
    def put(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class WebhookLookup(Protocol):
    def find(self, application_id: str, webhook_id: str) -> Webhook | None: ...


@dataclass(frozen=True, kw_only=True)
class OperationalEvents:
    """Emits operational events: stored and queued for the operational webhook, and put on the bus."""

    events: EventStore
    events_queue: Queue
    bus: EventBus
    webhooks: WebhookLookup
    """Where the operational webhook is looked up: without one, an event goes to the bus only (storing
    and queueing it would cost a write, a message and a fan-out for a delivery no one receives)."""
    retention_days: int

    def emit(self, event: OperationalEvent) -> bool:
        """Put `event` on the bus, stored and queued first when an operational webhook is set; False
        (and nothing done) when it is about the operational application itself. Raises when any step
        fails: the caller's task or message is retried."""
        if event.subject_application == OPERATIONAL_APPLICATION:
            log.info("no operational event about the operational webhook", extra={"event_type": event.type.value})
            return False
        queued = self._store_and_queue(event)
        self.bus.put(event.type.value, event.detail())
        log.info(
            "operational event emitted",
            extra={"event_id": event.id, "event_type": event.type.value, "queued_for_the_operational_webhook": queued},
        )
        return True

    def _store_and_queue(self, event: OperationalEvent) -> bool:
        """Store and queue `event` for the operational webhook; False when none is set. A webhook set
        later receives the events emitted after it, as any new endpoint does."""
        if self.webhooks.find(OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID) is None:
            return False
        stored = Event(
            id=event.id,
            application_id=OPERATIONAL_APPLICATION,
            type=event.type.value,
            data=event.data,
            created_at=event.occurred_at,
        )
        existing = self.events.put_new(stored, retention_expiry(event.occurred_at, self.retention_days))
        if existing is not None:
            stored = existing.event  # a repeat: the first emission's row (and so its envelope) wins
        reference = EventReference(
            application_id=stored.application_id,
            event_id=stored.id,
            event_type=stored.type,
            created_at=stored.created_at,
        )
        self.events_queue.send(reference.to_json())
        return True

    def on_disabled(self, webhook: Webhook, reason: str, disabled_at: datetime) -> None:
        """The `EndpointHealth` hook: an endpoint was just disabled by the pipeline."""
        log.warning("webhook disabled", extra={"webhook_id": webhook.id, "reason": reason})
        self.emit(endpoint_disabled(webhook, reason, disabled_at))
