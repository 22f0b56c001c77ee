"""The delivery rows as the pipeline sees them: open one for an attempt, record what happened.

A delivery from the fan-out is not stored yet: its first attempt stores it, with the
attempt, in one conditional put (`DraftDelivery`), so a successful delivery costs one
write. A stored delivery (`StoredDelivery`) takes each later attempt with a write that
only succeeds while it is pending in the same series and this (series, attempt) is not
logged yet. So a repeated attempt (an SQS redelivery, a Step Functions retry) never
duplicates a log entry, a delivery cancelled meanwhile stays cancelled, and a repeated
first attempt finds the row, or loses the put to the one that wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from functions.core.models import Delivery, DeliveryStatus
from functions.pipeline.attempt import AttemptOutcome
from functions.pipeline.contract import DeliveryRef, NewDelivery
from functions.pipeline.reads import Prefetched
from functions.store.deliveries import DeliveryStore, attempt_key


@dataclass(frozen=True)
class Settled:
    """There is no attempt to make: the delivery is as `delivery` (None: it does not exist)."""

    delivery: Delivery | None
    already_logged: bool = False
    """This attempt is in the log already: a repeat of one that was made."""
    newer_series: bool = False
    """A manual retry started a newer series, which took over."""


class OpenDelivery(Protocol):
    """A pending delivery an attempt may be logged on."""

    @property
    def delivery(self) -> Delivery: ...

    def record(self, outcome: AttemptOutcome) -> bool:
        """Log the attempt and the status it leads to; False when another writer changed the row first."""
        ...

    def end(self, status: DeliveryStatus, reason: str, now: datetime) -> bool:
        """End the delivery unattempted (failed or cancelled); False when another writer changed it first."""
        ...


@dataclass(frozen=True)
class StoredDelivery:
    store: DeliveryStore
    delivery: Delivery

    def record(self, outcome: AttemptOutcome) -> bool:
        return self.store.record_attempt(
            self.delivery.application_id,
            self.delivery.id,
            series=self.delivery.series,
            attempt=outcome.attempt,
            status=outcome.status,
            status_reason=outcome.reason,
        )

    def end(self, status: DeliveryStatus, reason: str, now: datetime) -> bool:
        return self.store.finish(
            self.delivery.application_id,
            self.delivery.id,
            series=self.delivery.series,
            status=status,
            reason=reason,
            now=now,
        )


@dataclass(frozen=True)
class DraftDelivery:
    store: DeliveryStore
    delivery: Delivery
    expires_at_epoch: int

    def record(self, outcome: AttemptOutcome) -> bool:
        attempt = outcome.attempt
        row = self.delivery.model_copy(
            update={
                "status": outcome.status,
                "status_reason": outcome.reason,
                "attempts": [attempt],
                "updated_at": attempt.attempted_at,
                "next_retry_at": attempt.next_retry_at,
            }
        )
        keys = frozenset({attempt_key(attempt.series, attempt.number)})
        return self.store.create_with_outcome(row, attempt_keys=keys, expires_at_epoch=self.expires_at_epoch)

    def end(self, status: DeliveryStatus, reason: str, now: datetime) -> bool:
        row = self.delivery.model_copy(update={"status": status, "status_reason": reason, "updated_at": now})
        return self.store.create_with_outcome(row, attempt_keys=frozenset(), expires_at_epoch=self.expires_at_epoch)


def draft_delivery(ref: DeliveryRef, new: NewDelivery) -> Delivery:
    """The row of a delivery the fan-out described: pending, with the event's fields (its TTL is stored apart)."""
    return Delivery(
        **new.model_dump(exclude={"expires_at"}),
        id=ref.delivery_id,
        application_id=ref.application_id,
        status=DeliveryStatus.PENDING,
        updated_at=new.created_at,
    )


class DeliveryLog:
    def __init__(self, store: DeliveryStore) -> None:
        self._store = store

    def open(
        self,
        ref: DeliveryRef,
        number: int,
        new: NewDelivery | None = None,
        found: Prefetched | None = None,
    ) -> OpenDelivery | Settled:
        """The delivery, ready for attempt `number` of `ref.series`, or why no attempt is to be made.

        `new` (from the fan-out) lets attempt 1 store a delivery that is not stored yet. `found`: its
        row as this invocation's batch read it (else it is read here). Every write that follows is
        conditional, so a row changed since it was read loses nothing: the write fails."""
        if found is None:
            found = Prefetched(self._store.find_with_attempt_keys(ref.application_id, ref.delivery_id))
        if found.found is None:
            if new is None or (ref.series, number) != (1, 1):
                return Settled(None)
            return DraftDelivery(self._store, draft_delivery(ref, new), new.expires_at)
        delivery, logged = found.found
        if delivery.series != ref.series:
            return Settled(delivery, newer_series=True)
        if delivery.status is not DeliveryStatus.PENDING:
            return Settled(delivery)
        if attempt_key(ref.series, number) in logged:
            return Settled(delivery, already_logged=True)
        return StoredDelivery(self._store, delivery)

    def open_to_end(self, ref: DeliveryRef) -> StoredDelivery | Settled:
        """The delivery, to be ended as failed by the state machine, unless a newer series took over."""
        delivery = self._store.find(ref.application_id, ref.delivery_id)
        if delivery is None or delivery.series != ref.series:
            return Settled(delivery, newer_series=delivery is not None)
        return StoredDelivery(self._store, delivery)

    def current(self, delivery: Delivery) -> Settled:
        """How the delivery stands after a conditional write lost: someone else changed it."""
        current = self._store.find(delivery.application_id, delivery.id)
        if current is None or current.series != delivery.series:
            return Settled(current, newer_series=current is not None)
        return Settled(current)
