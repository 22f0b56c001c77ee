"""Hostile input that gets past a validator must not wedge the pipeline.

Validators anchored with `$` accept a value with one trailing newline (Python's `$` matches
before a final "\\n"). An event type "user.created\\n" is then accepted, fanned out to `*`
subscribers, and under a profile that sends the type in a header (mynd: `Mynd-Event`) its
deliveries can never be sent: building the request raises, every attempt crashes the
deliver function, the message ends in the dead-letter queue and the delivery stays pending
with no attempt logged. These tests pin the behaviour the design asks for: refuse such input
at the edge (422), and let a delivery that cannot be sent end like any other failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.core.models import DeliveryStatus, Event, utc_now
from functions.management import handler as management
from functions.pipeline.publishing import event_reference
from tests.integration.pipeline_support import Pipeline, pipeline_under_moto, receiver
from tests.reliability.reliability_support import report_figures

NEWLINE_TYPES = ["user.created\n", "user.created\r\n"]


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


@pytest.mark.parametrize("profile_name", ["standard", "mynd"])
@pytest.mark.parametrize("event_type", NEWLINE_TYPES, ids=["LF", "CRLF"])
def test_an_event_type_with_a_trailing_line_break_is_refused_at_publish(
    pipeline: Pipeline, profile_name: str, event_type: str
) -> None:
    pipeline.use_profile(profile_name)
    response = pipeline.publish(event_type, {"n": 1})
    assert response.status == 422, (response.status, response.body)
    report_figures("hostile-input", case=f"publish {event_type!r} under {profile_name}", accepted=0)


def test_a_subscription_pattern_with_a_trailing_newline_is_refused(pipeline: Pipeline, call_api: Any) -> None:
    pipeline.use_profile("standard")
    for pattern in ("user.created\n", "user.*\n", "*\n"):
        response = call_api(
            management.handler,
            "POST",
            "/v1/webhooks",
            application="acme",
            body={"url": "https://hooks.example.com/x", "events": [pattern]},
        )
        assert response.status == 422, (pattern, response.status, response.body)


def test_a_delivery_whose_request_cannot_be_built_still_ends(pipeline: Pipeline) -> None:
    """An event already in the pipeline whose type cannot go in a header (it was accepted before a
    validator was fixed, or by another route): its delivery must be logged and end, not crash forever."""
    pipeline.use_profile("mynd")
    with receiver(200) as server:
        webhook, _ = pipeline.add_webhook(server.url, events=["*"])
        event = Event(id="evt_01jd2q8x4m7n3p5r9t1v6w8y0z", application_id="acme", type="user.created\n",
                      data={"n": 1}, created_at=utc_now())  # fmt: skip
        pipeline.events.put_new(event, expires_at_epoch=int(utc_now().timestamp()) + 3600)  # as published
        pipeline.aws.sqs.send_message(
            QueueUrl=pipeline.aws.events_queue_url, MessageBody=event_reference(event).to_json()
        )
        assert pipeline.run_fanout() == {"batchItemFailures": []}
        outcomes = [pipeline.run_deliver()]  # a crash here would come back up to 5 times, then dead-letter it
        pipeline.wait_for_executions()
    delivery = pipeline.only_delivery(webhook)
    assert outcomes[0] == {"batchItemFailures": []}, (
        f"the deliver function crashed on every receive: {json.dumps(outcomes)}; "
        f"the delivery is {delivery.status.value} with {len(delivery.attempts)} attempts"
    )
    assert delivery.attempts, "no attempt was logged"
    assert delivery.status is not DeliveryStatus.PENDING or delivery.next_retry_at is not None
