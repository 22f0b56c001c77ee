"""One delivery attempt, end to end, and the end of a delivery whose retries ran out.

An attempt reads the delivery, its endpoint and its event; builds the body (the same
bytes every attempt) and signs it with the endpoint's live secrets; POSTs it; and logs
the result with a write that only succeeds while the delivery is pending in the same
series and this (series, attempt) is not logged yet. So a repeated attempt (an SQS
redelivery, a Step Functions retry) never duplicates the log entry, and a delivery that
was cancelled meanwhile stays cancelled. A crash after the POST and before the log write
leaves the attempt unlogged; it runs again (receivers dedupe on the delivery id header).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from functions.core import health
from functions.core.classify import Verdict, classify
from functions.core.envelope import delivery_body
from functions.core.models import RESPONSE_EXCERPT_BYTES, Attempt, Delivery, DeliveryStatus, Webhook, utc_now
from functions.core.profile import Profile
from functions.core.signing import SigningError, delivery_headers
from functions.pipeline.http import HttpResult, HttpSender
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

    def attempt(self, tenant_id: str, delivery_id: str, series: int, number: int) -> AttemptResult:
        found = self._deliveries.find_with_attempt_keys(tenant_id, delivery_id)
        if found is None:
            log.warning("delivery not found", extra={"delivery_id": delivery_id})
            return AttemptResult(Outcome.CANCELLED)
        delivery, logged = found
        if delivery.series != series:
            return _result(delivery, Outcome.CANCELLED)  # a newer series (a manual retry) took over
        if delivery.status is not DeliveryStatus.PENDING:
            return _result(delivery, _OUTCOME_OF_STATUS[delivery.status])
        if attempt_key(series, number) in logged:
            return _result(delivery, Outcome.RETRY, pending=True)  # logged already: a repeated attempt
        webhook = self._webhooks.find(tenant_id, delivery.webhook_id)
        if webhook is None or not webhook.enabled:
            reason = "the webhook was deleted" if webhook is None else "the webhook is disabled"
            return self._finish(delivery, DeliveryStatus.CANCELLED, reason)
        event = self._events.find(tenant_id, delivery.event_id)
        if event is None:
            return self._finish(delivery, DeliveryStatus.FAILED, "the event is no longer stored (retention ended)")
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
            return self._finish(delivery, DeliveryStatus.FAILED, f"cannot sign: {error}")
        result = self._sender.post(webhook.url, body, headers)
        return self._log_attempt(delivery, webhook, number, now, result)

    def mark_failed(self, tenant_id: str, delivery_id: str, series: int, reason: str) -> AttemptResult:
        delivery = self._deliveries.find(tenant_id, delivery_id)
        if delivery is None or delivery.series != series:
            return AttemptResult(Outcome.FAILED)
        return self._finish(delivery, DeliveryStatus.FAILED, reason)

    def _log_attempt(
        self, delivery: Delivery, webhook: Webhook, number: int, attempted_at: datetime, result: HttpResult
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
            attempted_at=attempted_at,
            response_status=result.status,
            latency_ms=result.latency_ms,
            error=result.error,
            response_excerpt=_excerpt(result.body_prefix),
            next_retry_at=next_retry_at,
        )
        logged = self._deliveries.record_attempt(
            delivery.tenant_id,
            delivery.id,
            series=delivery.series,
            attempt=attempt,
            status=status,
            status_reason=reason,
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
        current = self._deliveries.find(delivery.tenant_id, delivery.id)
        if current is None or current.series != delivery.series:
            return _result(delivery, Outcome.CANCELLED, latency_ms=latency_ms)
        pending = current.status is DeliveryStatus.PENDING
        return _result(delivery, _OUTCOME_OF_STATUS[current.status], pending=pending, latency_ms=latency_ms)

    def _finish(self, delivery: Delivery, status: DeliveryStatus, reason: str) -> AttemptResult:
        now = self._clock()
        changed = self._deliveries.finish(
            delivery.tenant_id, delivery.id, series=delivery.series, status=status, reason=reason, now=now
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
            self._count_exhausted(delivery.tenant_id, delivery.webhook_id, now)
        return _result(delivery, _OUTCOME_OF_STATUS[status], finished_as=status)

    def _update_health(self, webhook: Webhook, verdict: Verdict, status: DeliveryStatus, now: datetime) -> None:
        """Write the webhook only when its health counters change (nothing on a healthy success)."""
        state = health.HealthState.of(webhook)
        if verdict is Verdict.SUCCEEDED:
            if not state.healthy:
                self._webhooks.reset_health(webhook.tenant_id, webhook.id)
            return
        if verdict is Verdict.GONE:
            self._disable(webhook, health.GONE_REASON, now)
            return
        if status is DeliveryStatus.FAILED:
            self._count_exhausted(webhook.tenant_id, webhook.id, now)
            return
        if state.failing_since is None:
            self._webhooks.record_failing_since(webhook.tenant_id, webhook.id, now)
        reason = health.disable_reason(self._profile.health, health.after_failed_attempt(state, now), now)
        if reason:
            self._disable(webhook, reason, now)

    def _count_exhausted(self, tenant_id: str, webhook_id: str, now: datetime) -> None:
        updated = self._webhooks.record_exhausted_delivery(tenant_id, webhook_id, now)
        if updated is None or not updated.enabled:
            return
        reason = health.disable_reason(self._profile.health, health.HealthState.of(updated), now)
        if reason:
            self._disable(updated, reason, now)

    def _disable(self, webhook: Webhook, reason: str, now: datetime) -> None:
        if self._webhooks.disable(webhook.tenant_id, webhook.id, reason, now):
            log.warning("webhook disabled", extra={"webhook_id": webhook.id, "reason": reason})
