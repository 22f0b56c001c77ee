"""One attempt, without AWS: prepare and sign the message, hand it to the sender, classify the answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dovecote.verify import verify
from functions.core.classify import Verdict
from functions.core.models import Delivery, DeliveryStatus, Event, SigningSecret, Webhook
from functions.core.profile import load_profile
from functions.core.schedule import RetrySchedule
from functions.pipeline.attempt import Attempter, AttemptOutcome, Unsendable
from functions.pipeline.sender import SendResult, SignedMessage
from tests.unit.records import webhook_record

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SCHEDULE = RetrySchedule((0, 5, 300))


class RecordingSender:
    """A destination of any type: it records what it was given and answers with a fixed verdict."""

    def __init__(self, verdict: Verdict, status: int | None = 200) -> None:
        self.verdict = verdict
        self.status = status
        self.sent: list[tuple[Webhook, SignedMessage]] = []

    def send(self, endpoint: Webhook, message: SignedMessage) -> SendResult:
        self.sent.append((endpoint, message))
        return SendResult(verdict=self.verdict, latency_ms=12, status=self.status, response_excerpt="ok")


def endpoint(secret: str = SECRET) -> Webhook:
    return webhook_record(secrets=[SigningSecret(value=secret)])


DELIVERY = Delivery(
    id="del_1",
    application_id="acme",
    webhook_id="wh_1",
    event_id="evt_1",
    event_type="task.completed",
    created_at=NOW,
    updated_at=NOW,
)
EVENT = Event(id="evt_1", application_id="acme", type="task.completed", data={"n": 1}, created_at=NOW)


def attempt(sender: RecordingSender, number: int, secret: str = SECRET) -> AttemptOutcome | Unsendable:
    attempter = Attempter(sender=sender, profile=load_profile("standard"), schedule=SCHEDULE, clock=lambda: NOW)
    return attempter.attempt(DELIVERY, endpoint(secret), EVENT, number)


def test_the_sender_gets_a_signed_message_a_receiver_can_verify() -> None:
    sender = RecordingSender(Verdict.SUCCEEDED)
    attempt(sender, 1)
    [(target, message)] = sender.sent
    assert target.id == "wh_1"
    assert message.delivery_id == "del_1"
    headers = dict(message.headers)
    assert verify("standard", message.body, headers, SECRET, now=NOW.timestamp())


def test_every_attempt_sends_the_same_body() -> None:
    sender = RecordingSender(Verdict.RETRY, status=503)
    attempt(sender, 1)
    attempt(sender, 2)
    assert sender.sent[0][1].body == sender.sent[1][1].body


@pytest.mark.parametrize(
    ("verdict", "number", "status", "reason"),
    [
        (Verdict.SUCCEEDED, 1, DeliveryStatus.SUCCEEDED, None),
        (Verdict.RETRY, 1, DeliveryStatus.PENDING, None),
        (Verdict.RETRY, 3, DeliveryStatus.FAILED, "all 3 attempts failed"),
        (Verdict.GONE, 1, DeliveryStatus.FAILED, "the endpoint answered 410 Gone; the webhook was disabled"),
    ],
)
def test_the_verdict_and_the_table_decide_the_delivery_status(
    verdict: Verdict, number: int, status: DeliveryStatus, reason: str | None
) -> None:
    outcome = attempt(RecordingSender(verdict), number)
    assert isinstance(outcome, AttemptOutcome)
    assert (outcome.status, outcome.reason) == (status, reason)
    assert outcome.attempt.number == number
    assert outcome.attempt.latency_ms == 12
    assert outcome.attempt.response_excerpt == "ok"


def test_a_pending_delivery_is_due_again_after_the_tables_next_delay() -> None:
    first = attempt(RecordingSender(Verdict.RETRY, status=500), 1)
    second = attempt(RecordingSender(Verdict.RETRY, status=500), 2)
    assert isinstance(first, AttemptOutcome)
    assert isinstance(second, AttemptOutcome)
    assert first.attempt.next_retry_at == NOW + timedelta(seconds=5)
    assert second.attempt.next_retry_at == NOW + timedelta(seconds=300)


def test_a_secret_the_scheme_cannot_use_ends_the_delivery_without_sending() -> None:
    sender = RecordingSender(Verdict.SUCCEEDED)
    outcome = attempt(sender, 1, secret="not-base64!")
    assert isinstance(outcome, Unsendable)
    assert outcome.status is DeliveryStatus.FAILED
    assert outcome.reason.startswith("cannot sign:")
    assert sender.sent == []
