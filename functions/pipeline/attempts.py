"""One delivery attempt, end to end, and the end of a delivery whose retries ran out.

An attempt reads the delivery, its endpoint and its event; builds the body (the same
bytes every attempt) and signs it with the endpoint's live secrets; POSTs it; and logs
the result with a write that only succeeds while the delivery is pending in the same
series and this (series, attempt) is not logged yet. So a repeated attempt (an SQS
redelivery, a Step Functions retry) never duplicates the log entry, and a delivery that
was cancelled meanwhile stays cancelled. A crash after the POST and before the log write
leaves the attempt unlogged; it runs again (receivers dedupe on the delivery id header).

A delivery from the fan-out is not stored yet: its first attempt stores it, with the
attempt, in one conditional put (so a successful delivery costs one write). A repeated
first attempt finds the row and stops there, or, when two run at once, the second put
loses and leaves the first one's row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from functions.core import health
from functions.core.classify import Verdict, classify
from functions.core.envelope import delivery_body
from functions.core.models import RESPONSE_EXCERPT_BYTES, Attempt, Delivery, DeliveryStatus, Event, Webhook, utc_now
from functions.core.profile import Profile
from functions.core.signing import SigningError, delivery_headers
from functions.pipeline.http import HttpResult, HttpSender
from functions.pipeline.messages import NewDelivery
from functions.store.deliveries import DeliveryStore, attempt_key
from functions.store.events import EventStore
from functions.store.webhooks import WebhookStore

log = Logger(service="dovecote", child=True)

_MAX_REASON_CHARS = 500


class Outcome(StrEnum):
    """What the retry state machine does next: `retry` waits for the next attempt (or ends
    in MarkFailed after the last one); anything else ends the execution."""

    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"
    CANCELLED = "cancelled"


_OUTCOME_OF_STATUS = {
    DeliveryStatus.PENDING: Outcome.RETRY,
    DeliveryStatus.SUCCEEDED: Outcome.SUCCEEDED,
    DeliveryStatus.FAILED: Outcome.FAILED,
    DeliveryStatus.CANCELLED: Outcome.CANCELLED,
}


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    pending: bool = False
    """The delivery is still pending in this series after the call: its retries must run."""
    latency_ms: int | None = None
    """Set when this call sent a request."""
    finished_as: DeliveryStatus | None = None
    """Set when this call ended the delivery."""
    retry_scheduled: bool = False
    webhook_id: str | None = None
    event_id: str | None = None


def _result(
    delivery: Delivery,
    outcome: Outcome,
    *,
    pending: bool = False,
    latency_ms: int | None = None,
    finished_as: DeliveryStatus | None = None,
    retry_scheduled: bool = False,
) -> AttemptResult:
    return AttemptResult(
        outcome,
        pending=pending,
        latency_ms=latency_ms,
        finished_as=finished_as,
        retry_scheduled=retry_scheduled,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
    )


def _excerpt(body_prefix: bytes) -> str:
    return body_prefix[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


def describe_mark_failed_reason(reason: Any, max_attempts: int) -> str:
    """The state machine's MarkFailed `reason` ({"outcome": "retry"} or a Catch's {"Error", "Cause"})."""
    if isinstance(reason, dict):
        if reason.get("outcome") == Outcome.RETRY.value:
            return f"all {max_attempts} attempts failed"
        if "Error" in reason:
            cause = str(reason.get("Cause") or "")
            text = f"the retry schedule stopped on an error: {reason['Error']}"
            return (f"{text}: {cause}" if cause else text)[:_MAX_REASON_CHARS]
    if isinstance(reason, str) and reason:
        return reason[:_MAX_REASON_CHARS]
    return f"all {max_attempts} attempts failed"


class _Memo:
    """Each key loaded at most once, also when threads ask for it at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], Future[Any]] = {}

    def get(self, key: tuple[str, str], load: Callable[[str, str], Any]) -> Any:
        with self._lock:
            future = self._loaded.get(key)
            owner = future is None
            if future is None:
                future = self._loaded[key] = Future()
        if owner:
            try:
                future.set_result(load(*key))
            except BaseException as error:
                future.set_exception(error)
        return future.result()


class SharedReads:
    """Endpoints and events read once for a whole SQS batch, whose deliveries often share them
    (several events to one endpoint, one event to several endpoints). Made per invocation."""

    def __init__(self, webhooks: WebhookStore, events: EventStore) -> None:
        self._webhooks = webhooks
        self._events = events
        self._memo_webhooks = _Memo()
        self._memo_events = _Memo()

    def webhook(self, application_id: str, webhook_id: str) -> Webhook | None:
        return self._memo_webhooks.get((application_id, webhook_id), self._webhooks.find)

    def event(self, application_id: str, event_id: str) -> Event | None:
        return self._memo_events.get((application_id, event_id), self._events.find)


def unstored_delivery(application_id: str, delivery_id: str, new: NewDelivery) -> Delivery:
    return Delivery(
        id=delivery_id,
        application_id=application_id,
        webhook_id=new.webhook_id,
        event_id=new.event_id,
        event_type=new.event_type,
        status=DeliveryStatus.PENDING,
        created_at=new.created_at,
        updated_at=new.created_at,
    )


class DeliveryAttempter:
    def __init__(
        self,
        *,
        deliveries: DeliveryStore,
        webhooks: WebhookStore,
        events: EventStore,
        sender: HttpSender,
        profile: Profile,
        time_scale: float = 1.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._deliveries = deliveries
        self._webhooks = webhooks
        self._events = events
        self._sender = sender
        self._profile = profile
        self._time_scale = time_scale
        self._clock = clock

    def shared_reads(self) -> SharedReads:
        return SharedReads(self._webhooks, self._events)

    def attempt(
        self,
        application_id: str,
        delivery_id: str,
        series: int,
        number: int,
        *,
        new: NewDelivery | None = None,
        reads: SharedReads | None = None,
    ) -> AttemptResult:
        """Attempt `number` of `series`. `new` (from the fan-out) lets attempt 1 store a delivery
        that is not stored yet; `reads` shares endpoint and event reads across a batch."""
        reads = reads or self.shared_reads()
        found = self._deliveries.find_with_attempt_keys(application_id, delivery_id)
        unstored: NewDelivery | None = None
        if found is None:
            if new is None or (series, number) != (1, 1):
                log.warning("delivery not found", extra={"delivery_id": delivery_id})
                return AttemptResult(Outcome.CANCELLED)
            delivery, unstored = unstored_delivery(application_id, delivery_id, new), new
        else:
            delivery, logged = found
            if delivery.series != series:
                return _result(delivery, Outcome.CANCELLED)  # a newer series (a manual retry) took over
            if delivery.status is not DeliveryStatus.PENDING:
                return _result(delivery, _OUTCOME_OF_STATUS[delivery.status])
            if attempt_key(series, number) in logged:
                return _result(delivery, Outcome.RETRY, pending=True)  # logged already: a repeated attempt
        webhook = reads.webhook(application_id, delivery.webhook_id)
        if webhook is None or not webhook.enabled:
            reason = "the webhook was deleted" if webhook is None else "the webhook is disabled"
            return self._finish(delivery, DeliveryStatus.CANCELLED, reason, unstored=unstored)
        event = reads.event(application_id, delivery.event_id)
        if event is None:
            reason = "the event is no longer stored (retention ended)"
            return self._finish(delivery, DeliveryStatus.FAILED, reason, unstored=unstored)
        now = self._clock()
        body = delivery_body(event, self._profile.envelope)
        try:
            headers = delivery_headers(
                self._profile,
                webhook.signing_secrets(now),
                delivery_id=delivery.id,
                event_type=event.type,
                timestamp=int(now.timestamp()),
                body=body,
                user_agent=self._sender.user_agent,
            )
        except SigningError as error:
            return self._finish(delivery, DeliveryStatus.FAILED, f"cannot sign: {error}", unstored=unstored)
        result = self._sender.post(webhook.url, body, headers)
        return self._log_attempt(delivery, webhook, number, now, result, unstored=unstored)

    def mark_failed(self, application_id: str, delivery_id: str, series: int, reason: str) -> AttemptResult:
        delivery = self._deliveries.find(application_id, delivery_id)
        if delivery is None or delivery.series != series:
            return AttemptResult(Outcome.FAILED)
        return self._finish(delivery, DeliveryStatus.FAILED, reason)

    def _log_attempt(
        self,
        delivery: Delivery,
        webhook: Webhook,
        number: int,
        attempted_at: datetime,
        result: HttpResult,
        *,
        unstored: NewDelivery | None,
    ) -> AttemptResult:
        verdict = classify(result.status)
        is_last = number >= self._profile.max_attempts
        next_retry_at = None
        reason = None
        if verdict is Verdict.SUCCEEDED:
            status, outcome = DeliveryStatus.SUCCEEDED, Outcome.SUCCEEDED
        elif verdict is Verdict.GONE:
            status, outcome = DeliveryStatus.FAILED, Outcome.FAILED
            reason = f"{health.GONE_REASON}; the webhook was disabled"
        elif is_last:
            status, outcome = DeliveryStatus.FAILED, Outcome.RETRY  # the state machine ends in MarkFailed
            reason = f"all {self._profile.max_attempts} attempts failed"
        else:
            status, outcome = DeliveryStatus.PENDING, Outcome.RETRY
            delay = self._profile.delay_before_attempt(number + 1) * self._time_scale
            next_retry_at = attempted_at + timedelta(seconds=delay)
        attempt = Attempt(
            number=number,
            series=delivery.series,
            attempted_at=attempted_at,
            response_status=result.status,
            latency_ms=result.latency_ms,
            error=result.error,
            response_excerpt=_excerpt(result.body_prefix),
            next_retry_at=next_retry_at,
        )
        if unstored is None:
            logged = self._deliveries.record_attempt(
                delivery.application_id,
                delivery.id,
                series=delivery.series,
                attempt=attempt,
                status=status,
                status_reason=reason,
            )
        else:
            row = delivery.model_copy(
                update={
                    "status": status,
                    "status_reason": reason,
                    "attempts": [attempt],
                    "updated_at": attempted_at,
                    "next_retry_at": next_retry_at,
                }
            )
            first_key = frozenset({attempt_key(delivery.series, number)})
            logged = self._deliveries.create_with_outcome(
                row, attempt_keys=first_key, expires_at_epoch=unstored.expires_at
            )
        if not logged:
            return self._current_outcome(delivery, latency_ms=result.latency_ms)
        log.info(
            "attempt logged",
            extra={
                "delivery_id": delivery.id,
                "webhook_id": delivery.webhook_id,
                "event_id": delivery.event_id,
                "series": delivery.series,
                "attempt": number,
                "response_status": result.status,
                "latency_ms": result.latency_ms,
                "error": result.error,
                "status": status.value,
            },
        )
        self._update_health(webhook, verdict, status, attempted_at)
        return _result(
            delivery,
            outcome,
            pending=status is DeliveryStatus.PENDING,
            latency_ms=result.latency_ms,
            finished_as=None if status is DeliveryStatus.PENDING else status,
            retry_scheduled=status is DeliveryStatus.PENDING,
        )

    def _current_outcome(self, delivery: Delivery, latency_ms: int | None = None) -> AttemptResult:
        """The outcome after a conditional write lost: someone else changed the delivery."""
        current = self._deliveries.find(delivery.application_id, delivery.id)
        if current is None or current.series != delivery.series:
            return _result(delivery, Outcome.CANCELLED, latency_ms=latency_ms)
        pending = current.status is DeliveryStatus.PENDING
        return _result(delivery, _OUTCOME_OF_STATUS[current.status], pending=pending, latency_ms=latency_ms)

    def _finish(
        self, delivery: Delivery, status: DeliveryStatus, reason: str, *, unstored: NewDelivery | None = None
    ) -> AttemptResult:
        now = self._clock()
        if unstored is None:
            changed = self._deliveries.finish(
                delivery.application_id, delivery.id, series=delivery.series, status=status, reason=reason, now=now
            )
        else:
            row = delivery.model_copy(update={"status": status, "status_reason": reason, "updated_at": now})
            changed = self._deliveries.create_with_outcome(
                row, attempt_keys=frozenset(), expires_at_epoch=unstored.expires_at
            )
        if not changed:
            return self._current_outcome(delivery)
        log.info(
            "delivery finished",
            extra={
                "delivery_id": delivery.id,
                "webhook_id": delivery.webhook_id,
                "event_id": delivery.event_id,
                "status": status.value,
                "reason": reason,
            },
        )
        if status is DeliveryStatus.FAILED:
            self._count_exhausted(delivery.application_id, delivery.webhook_id, now)
        return _result(delivery, _OUTCOME_OF_STATUS[status], finished_as=status)

    def _update_health(self, webhook: Webhook, verdict: Verdict, status: DeliveryStatus, now: datetime) -> None:
        """Write the webhook only when its health counters change (nothing on a healthy success)."""
        state = health.HealthState.of(webhook)
        if verdict is Verdict.SUCCEEDED:
            if not state.healthy:
                self._webhooks.reset_health(webhook.application_id, webhook.id)
            return
        if verdict is Verdict.GONE:
            self._disable(webhook, health.GONE_REASON, now)
            return
        if status is DeliveryStatus.FAILED:
            self._count_exhausted(webhook.application_id, webhook.id, now)
            return
        if state.failing_since is None:
            self._webhooks.record_failing_since(webhook.application_id, webhook.id, now)
        reason = health.disable_reason(self._profile.health, health.after_failed_attempt(state, now), now)
        if reason:
            self._disable(webhook, reason, now)

    def _count_exhausted(self, application_id: str, webhook_id: str, now: datetime) -> None:
        updated = self._webhooks.record_exhausted_delivery(application_id, webhook_id, now)
        if updated is None or not updated.enabled:
            return
        reason = health.disable_reason(self._profile.health, health.HealthState.of(updated), now)
        if reason:
            self._disable(updated, reason, now)

    def _disable(self, webhook: Webhook, reason: str, now: datetime) -> None:
        if self._webhooks.disable(webhook.application_id, webhook.id, reason, now):
            log.warning("webhook disabled", extra={"webhook_id": webhook.id, "reason": reason})
