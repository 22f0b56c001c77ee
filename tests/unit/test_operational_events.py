"""The operational event publisher (functions/pipeline/operational.py) with fake stores and bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.models import Attempt, Delivery, DeliveryStatus, Event, Webhook
from functions.pipeline.contract import EventReference
from functions.pipeline.operational import (
    OPERATIONAL_APPLICATION,
    OPERATIONAL_WEBHOOK_ID,
    OperationalEvents,
    delivery_exhausted,
    delivery_recovered,
    endpoint_disabled,
    endpoint_enabled,
    recovered_after_failures,
)
from functions.store.events import StoredEvent
from tests.unit.records import delivery_record, webhook_record

NOW = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)


@dataclass
class FakeEvents:
    rows: dict[tuple[str, str], Event] = field(default_factory=dict)

    def put_new(self, event: Event, expires_at_epoch: int, request_hash: str | None = None) -> StoredEvent | None:
        key = (event.application_id, event.id)
        if key in self.rows:
            return StoredEvent(self.rows[key], request_hash)
        self.rows[key] = event
        return None


@dataclass
class FakeQueue:
    sent: list[str] = field(default_factory=list)

    def send(self, body: str) -> str:
        self.sent.append(body)
        return "message"


@dataclass
class FakeBus:
    put_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failing: bool = False

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.failing:
            raise RuntimeError("ThrottlingException")
        self.put_events.append((detail_type, detail))


@dataclass
class FakeWebhooks:
    """The operational webhook is set unless `operational_webhook_set` is False."""

    operational_webhook_set: bool = True

    def find(self, application_id: str, webhook_id: str) -> Webhook | None:
        if (application_id, webhook_id) != (OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID):
            return None
        return webhook(OPERATIONAL_APPLICATION) if self.operational_webhook_set else None


def publisher(*, operational_webhook_set: bool = True) -> tuple[OperationalEvents, FakeEvents, FakeQueue, FakeBus]:
    events, queue, bus = FakeEvents(), FakeQueue(), FakeBus()
    emitter = OperationalEvents(
        events=events,  # type: ignore[arg-type]
        events_queue=queue,  # type: ignore[arg-type]
        bus=bus,
        webhooks=FakeWebhooks(operational_webhook_set),
        retention_days=30,
    )
    return emitter, events, queue, bus


def webhook(application: str = "acme", **changes: Any) -> Webhook:
    return webhook_record(
        id="wh_01jd2q8x4m7n3p5r9t1v6w8y0z",
        application_id=application,
        url="https://hooks.example.com/",
        created_at=NOW,
        updated_at=NOW,
        **changes,
    )


def delivery(application: str = "acme", series: int = 1, attempts: int = 0, **changes: Any) -> Delivery:
    return delivery_record(
        application_id=application,
        created_at=NOW,
        updated_at=NOW,
        series=series,
        attempts=[Attempt(number=n, attempted_at=NOW, latency_ms=1, series=series) for n in range(1, attempts + 1)],
        **changes,
    )


def test_an_event_is_stored_in_the_operational_application_queued_and_put_on_the_bus() -> None:
    emitter, events, queue, bus = publisher()

    assert emitter.emit(endpoint_disabled(webhook(), "the endpoint answered 410 Gone", NOW))

    [(key, stored)] = events.rows.items()
    assert key[0] == OPERATIONAL_APPLICATION
    assert stored.type == "endpoint.disabled"
    assert stored.data["reason"] == "the endpoint answered 410 Gone"
    [reference] = [EventReference.model_validate_json(body) for body in queue.sent]
    assert (reference.application_id, reference.event_id) == (OPERATIONAL_APPLICATION, stored.id)
    [(detail_type, detail)] = bus.put_events
    assert detail_type == "endpoint.disabled"
    assert detail["id"] == stored.id
    assert detail["data"] == stored.data


def test_without_an_operational_webhook_an_event_is_only_put_on_the_bus() -> None:
    emitter, events, queue, bus = publisher(operational_webhook_set=False)

    assert emitter.emit(endpoint_disabled(webhook(), "the endpoint answered 410 Gone", NOW))

    assert (events.rows, queue.sent) == ({}, [])
    [(detail_type, detail)] = bus.put_events
    assert detail_type == "endpoint.disabled"
    assert detail["data"]["reason"] == "the endpoint answered 410 Gone"


def test_events_about_the_operational_application_are_never_emitted() -> None:
    emitter, events, queue, bus = publisher()

    emitted = [
        emitter.emit(endpoint_disabled(webhook(OPERATIONAL_APPLICATION), "the endpoint answered 410 Gone", NOW)),
        emitter.emit(delivery_exhausted(delivery(OPERATIONAL_APPLICATION), "all 8 attempts failed", NOW, 8)),
        emitter.emit(delivery_recovered(delivery(OPERATIONAL_APPLICATION), NOW, 2)),
    ]

    assert emitted == [False, False, False]
    assert (events.rows, queue.sent, bus.put_events) == ({}, [], [])


def test_a_repeat_stores_nothing_new_and_is_sent_again_under_the_same_id() -> None:
    emitter, events, queue, bus = publisher()
    event = endpoint_disabled(webhook(), "the endpoint answered 410 Gone", NOW)

    emitter.emit(event)
    emitter.emit(endpoint_disabled(webhook(), "the endpoint answered 410 Gone", NOW))

    assert len(events.rows) == 1
    assert len({EventReference.model_validate_json(body).event_id for body in queue.sent}) == 1
    assert [detail["id"] for _, detail in bus.put_events] == [event.id, event.id]


def test_a_bus_failure_raises_so_the_emitting_task_is_retried() -> None:
    emitter, _, _, bus = publisher()
    bus.failing = True

    with pytest.raises(RuntimeError, match="Throttling"):
        emitter.emit(delivery_exhausted(delivery(), "all 8 attempts failed", NOW, 8))


def test_ids_are_derived_from_what_the_event_is_about() -> None:
    later = NOW + timedelta(days=1)
    disabled = endpoint_disabled(webhook(), "by hand", NOW)

    assert disabled.id == endpoint_disabled(webhook(), "another wording", NOW).id
    assert disabled.id != endpoint_disabled(webhook(), "by hand", later).id
    assert disabled.id != endpoint_disabled(webhook("globex"), "by hand", NOW).id
    assert delivery_exhausted(delivery(), "a", NOW, 8).id == delivery_exhausted(delivery(), "b", later, 8).id
    assert delivery_exhausted(delivery(), "a", NOW, 8).id != delivery_exhausted(delivery(series=2), "a", NOW, 8).id
    assert delivery_exhausted(delivery(), "a", NOW, 8).id != delivery_recovered(delivery(), NOW, 8).id
    ended = webhook(enabled=False, disabled_at=NOW)
    assert endpoint_enabled(ended, NOW).id == endpoint_enabled(ended, later).id  # a retried PATCH: the same id
    assert endpoint_enabled(ended, NOW).id != endpoint_enabled(webhook(enabled=False, disabled_at=later), NOW).id


def test_only_a_success_after_a_failed_attempt_is_a_recovery() -> None:
    assert not recovered_after_failures(delivery(attempts=1, status=DeliveryStatus.SUCCEEDED))
    assert recovered_after_failures(delivery(attempts=3, status=DeliveryStatus.SUCCEEDED))
    assert not recovered_after_failures(delivery(attempts=3, status=DeliveryStatus.FAILED))
