"""One attempt: prepare the message (envelope, signature), send it, classify the result.

Nothing here reads or writes the table: the delivery, its endpoint and its event come in,
an `AttemptOutcome` (the attempt's log entry and the delivery's status after it) goes out,
and functions/pipeline/delivery.py records it. The body depends only on the stored
event, so every attempt sends the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dovecote.schemes import SigningError
from functions.core import health
from functions.core.classify import Verdict
from functions.core.envelope import delivery_body
from functions.core.models import Attempt, Delivery, DeliveryStatus, Event, Webhook, utc_now
from functions.core.profile import Profile
from functions.core.schedule import RetrySchedule
from functions.core.signing import delivery_headers
from functions.core.timestamps import milliseconds
from functions.pipeline.http import USER_AGENT
from functions.pipeline.sender import Sender, SendResult, SignedMessage


@dataclass(frozen=True)
class AttemptOutcome:
    """An attempt that was made: what the sender reported, its log entry and what it means for the delivery."""

    sent: SendResult
    attempt: Attempt
    status: DeliveryStatus
    """The delivery's status after this attempt: pending while retries remain."""
    reason: str | None = None
    """Why the delivery ended, when it did."""

    @property
    def pending(self) -> bool:
        return self.status is DeliveryStatus.PENDING


@dataclass(frozen=True)
class Unsendable:
    """The delivery cannot be attempted at all; it ends with this status and reason."""

    status: DeliveryStatus
    reason: str


def status_after(
    verdict: Verdict, number: int, schedule: RetrySchedule, gone_reason: str | None = None
) -> tuple[DeliveryStatus, str | None]:
    """The delivery's status after attempt `number` with this verdict, and why it ended."""
    if verdict is Verdict.SUCCEEDED:
        return DeliveryStatus.SUCCEEDED, None
    if verdict is Verdict.GONE:
        return DeliveryStatus.FAILED, f"{gone_reason or health.GONE_REASON}; the webhook was disabled"
    if schedule.is_last(number):
        return DeliveryStatus.FAILED, f"all {schedule.max_attempts} attempts failed"
    return DeliveryStatus.PENDING, None


@dataclass(frozen=True, kw_only=True)
class Attempter:
    sender: Sender
    profile: Profile
    schedule: RetrySchedule
    clock: Callable[[], datetime] = utc_now

    def attempt(self, delivery: Delivery, endpoint: Webhook, event: Event, number: int) -> AttemptOutcome | Unsendable:
        now = milliseconds(self.clock())  # as the log shows it: due times counted from it are exact
        message = self._prepare(delivery, endpoint, event, now)
        if isinstance(message, Unsendable):
            return message
        result = self.sender.send(endpoint, message)
        return self._outcome(delivery, number, now, result)

    def _prepare(
        self, delivery: Delivery, endpoint: Webhook, event: Event, now: datetime
    ) -> SignedMessage | Unsendable:
        body = delivery_body(event, self.profile.envelope)
        try:
            headers = delivery_headers(
                self.profile,
                endpoint.signing_secrets(now),
                delivery_id=delivery.id,
                event_type=event.type,
                timestamp=int(now.timestamp()),
                body=body,
                user_agent=USER_AGENT,
            )
        except SigningError as error:
            return Unsendable(DeliveryStatus.FAILED, f"cannot sign: {error}")
        # The endpoint's custom headers first: the contract's own headers always win.
        return SignedMessage(
            delivery_id=delivery.id, event_type=event.type, body=body, headers={**endpoint.headers, **headers}
        )

    def _outcome(self, delivery: Delivery, number: int, attempted_at: datetime, result: SendResult) -> AttemptOutcome:
        status, reason = status_after(result.verdict, number, self.schedule, result.gone_reason)
        attempt = Attempt(
            number=number,
            series=delivery.series,
            attempted_at=attempted_at,
            response_status=result.status,
            latency_ms=result.latency_ms,
            error=result.error,
            response_excerpt=result.response_excerpt,
            retry_after_seconds=result.retry_after_seconds,
        )
        if status is DeliveryStatus.PENDING:
            # Its own due time; attempted in a group, a Retry-After among the group's answers may delay it
            # (functions/pipeline/delivery.py).
            [next_attempt_at] = self.schedule.next_attempts_at(number, [attempt])
            attempt = attempt.model_copy(update={"next_retry_at": next_attempt_at})
        return AttemptOutcome(sent=result, attempt=attempt, status=status, reason=reason)
