"""Sending again on request: a test event, a manual retry, a recovery of failed deliveries.

A manual retry (or a recovery, which is many of them) starts a new attempt series on a
finished delivery: the series number goes up, the delivery is pending again, and attempt
1 of the new series is queued on the deliveries queue, exactly like a fresh delivery.
Its retries run in their own execution (`<delivery id>-s<series>`), and anything still
running for an older series sees the new series and stops. The delivery is only reported
as requeued once its message is in SQS; when SendMessage fails, it is put back as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.core.errors import ConflictError, InvalidRequestError, ServiceUnavailableError
from functions.core.ids import new_id
from functions.core.models import Delivery, DeliveryStatus, Event, Webhook
from functions.core.profile import Profile
from functions.core.timestamps import milliseconds, utc_now
from functions.pipeline.contract import DeliveryMessage
from functions.pipeline.publishing import EventPublisher
from functions.runtime.observability import logger as service_logger
from functions.store.deliveries import DeliveryStore
from functions.store.queues import Queue, QueueSendError
from functions.store.table import retention_expiry
from functions.store.webhooks import WebhookStore

log = service_logger(child=True)

MAX_RECOVERED_PER_CALL = 1000
_RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.CANCELLED)
_PARALLEL_WRITES = 8
_ID_RANDOM_CHARS = 16


@dataclass(frozen=True)
class Recovery:
    webhook_id: str
    since: datetime
    deliveries_requeued: int
    has_more: bool


def earliest_id_at(prefix: str, moment: datetime) -> str:
    """The smallest id of `prefix` created at `moment`: a lower bound for ids from then on."""
    sample = new_id(prefix, now_ms=int(moment.timestamp() * 1000))
    return sample[:-_ID_RANDOM_CHARS] + "0" * _ID_RANDOM_CHARS


def test_event(application_id: str, webhook: Webhook, profile: Profile, now: datetime) -> Event:
    created_at = milliseconds(now)
    return Event(
        id=new_id("evt", now_ms=int(created_at.timestamp() * 1000)),
        application_id=application_id,
        type=profile.test_event_type,
        data={"message": "This is a test event sent by Dovecote.", "webhook_id": webhook.id},
        created_at=created_at,
        webhook_id=webhook.id,
    )


@dataclass(frozen=True, kw_only=True)
class Redelivery:
    deliveries: DeliveryStore
    webhooks: WebhookStore
    publisher: EventPublisher
    deliveries_queue: Queue
    profile: Profile
    clock: Callable[[], datetime] = utc_now

    def send_test(self, application_id: str, webhook_id: str) -> Event:
        webhook = self._enabled_webhook(application_id, webhook_id)
        event = test_event(application_id, webhook, self.profile, self.clock())
        self.publisher.store_and_enqueue(event, retention_expiry(event.created_at, self.profile.event_retention_days))
        log.info("test event queued", extra={"event_id": event.id, "webhook_id": webhook_id})
        return event

    def retry(self, application_id: str, delivery_id: str) -> Delivery:
        delivery = self.deliveries.get(application_id, delivery_id)
        if delivery.status not in _RETRYABLE:
            raise ConflictError(
                f"delivery {delivery_id} is {delivery.status.value}; only failed or cancelled deliveries can be retried"
            )
        self._enabled_webhook(application_id, delivery.webhook_id, for_delivery=True)
        restarted = self.deliveries.start_series(delivery, self.clock())
        if restarted is None:
            raise ConflictError(f"delivery {delivery_id} changed while it was being retried; reload it and try again")
        message = DeliveryMessage(
            application_id=application_id,
            delivery_id=restarted.id,
            series=restarted.series,
            webhook_id=delivery.webhook_id,
        )
        try:
            self.deliveries_queue.send(message.to_json())
        except QueueSendError:
            self.deliveries.undo_series(delivery, self.clock())
            raise ServiceUnavailableError("the retry could not be queued; retry the request") from None
        log.info("delivery retried", extra={"delivery_id": delivery_id, "series": restarted.series})
        return restarted

    def recover(self, application_id: str, webhook_id: str, since: datetime) -> Recovery:
        now = self.clock()
        if since.tzinfo is None:
            raise InvalidRequestError("since: include a time zone, e.g. 2026-03-04T12:00:00Z")
        if since > now:
            raise InvalidRequestError("since: must not be in the future")
        if since < now - timedelta(days=self.profile.event_retention_days):
            raise InvalidRequestError(
                f"since: must be within the last {self.profile.event_retention_days} days (the event retention)"
            )
        self._enabled_webhook(application_id, webhook_id)
        page = self.deliveries.list_for_webhook(
            application_id,
            webhook_id,
            limit=MAX_RECOVERED_PER_CALL,
            status=DeliveryStatus.FAILED,
            since_id=earliest_id_at("del", since),
        )
        restarted = self._restart_all(page.items)
        messages = [
            DeliveryMessage(
                application_id=application_id, delivery_id=d.id, series=d.series, webhook_id=webhook_id
            ).to_json()
            for d in restarted
        ]
        unsent = set(self.deliveries_queue.send_many(messages))
        if unsent:
            unsent_ids = {restarted[position].id for position in unsent}
            self._undo_all([d for d in page.items if d.id in unsent_ids])
            if len(unsent) == len(messages):
                raise ServiceUnavailableError("the deliveries could not be queued; retry the request")
        requeued = len(restarted) - len(unsent)
        log.info("deliveries recovered", extra={"webhook_id": webhook_id, "requeued": requeued})
        has_more = page.has_more or bool(unsent)
        return Recovery(webhook_id=webhook_id, since=since, deliveries_requeued=requeued, has_more=has_more)

    def _restart_all(self, deliveries: list[Delivery]) -> list[Delivery]:
        now = self.clock()
        with ThreadPoolExecutor(max_workers=_PARALLEL_WRITES) as pool:
            restarted = list(pool.map(lambda d: self.deliveries.start_series(d, now), deliveries))
        return [d for d in restarted if d is not None]

    def _undo_all(self, previous: list[Delivery]) -> None:
        now = self.clock()
        for delivery in previous:
            self.deliveries.undo_series(delivery, now)

    def _enabled_webhook(self, application_id: str, webhook_id: str, *, for_delivery: bool = False) -> Webhook:
        if for_delivery:
            webhook = self.webhooks.find(application_id, webhook_id)
            if webhook is None:
                raise ConflictError(f"the delivery's webhook {webhook_id} was deleted")
        else:
            webhook = self.webhooks.get(application_id, webhook_id)
        if not webhook.enabled:
            raise ConflictError(f"webhook {webhook_id} is disabled; enable it first")
        return webhook
