"""Sending again on request (test, retry, recover) and cancelling when an endpoint goes away."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from functions.core.models import DeliveryStatus, iso, utc_now
from functions.core.timestamps import parse_iso
from functions.ingest.dependencies import dependencies as ingest_dependencies
from functions.management import handler as management
from functions.pipeline import redelivery
from functions.pipeline.cancellation import cancel_pending_deliveries
from functions.pipeline.fanout import delivery_id_for
from functions.store.executions import RetryExecutions
from functions.store.queues import Queue, QueueSendError
from tests.integration.conftest import reset_all_dependencies
from tests.integration.pipeline_support import Pipeline, custom_profile, pipeline_under_moto, receiver

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


@pytest.fixture
def single_attempt(pipeline: Pipeline, tmp_path: Any) -> Pipeline:
    """A profile whose table has one row: a failed first attempt fails the delivery."""
    pipeline.use_profile(custom_profile(tmp_path, retry_schedule_seconds=[0]))
    return pipeline


# Test events -------------------------------------------------------------------------------


def test_a_test_event_of_another_application_or_a_malformed_id_is_404(pipeline: Pipeline) -> None:
    webhook, _ = pipeline.add_webhook("http://127.0.0.1:9/hooks", application="globex")
    assert pipeline.api("POST", f"/v1/webhooks/{webhook.id}/test").status == 404
    assert pipeline.api("POST", "/v1/webhooks/not-an-id/test").status == 404
    assert pipeline.queued(pipeline.aws.events_queue_url) == 0


def test_a_disabled_endpoint_cannot_be_tested(pipeline: Pipeline) -> None:
    webhook, _ = pipeline.add_webhook("http://127.0.0.1:9/hooks", enabled=False)
    response = pipeline.api("POST", f"/v1/webhooks/{webhook.id}/test")
    assert response.status == 409
    assert response.error_type == "conflict"


# Manual retry ------------------------------------------------------------------------------


def test_retrying_a_failed_delivery_starts_a_new_series_that_can_succeed(single_attempt: Pipeline) -> None:
    pipeline = single_attempt
    with receiver(500, default=200) as server:
        webhook = pipeline.first_attempt(server.url)
        failed = pipeline.only_delivery(webhook)
        assert failed.status is DeliveryStatus.FAILED
        response = pipeline.api("POST", f"/v1/deliveries/{failed.id}/retry")
        assert response.status == 202
        assert response.body["object"] == "delivery"
        assert response.body["status"] == "pending"
        assert [json.loads(m["Body"])["series"] for m in pipeline.receive(pipeline.aws.deliveries_queue_url)] == [2]
        pipeline.aws.sqs.purge_queue(QueueUrl=pipeline.aws.deliveries_queue_url)
        pipeline.aws.sqs.send_message(
            QueueUrl=pipeline.aws.deliveries_queue_url,
            MessageBody=json.dumps({"application_id": "acme", "delivery_id": failed.id, "series": 2}),
        )
        pipeline.run_deliver()
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert delivery.series == 2
    assert [a.response_status for a in delivery.attempts] == [500, 200]
    assert server.delivery_ids("webhook-id") == [delivery.id, delivery.id]


def test_a_retried_series_that_fails_again_runs_its_own_execution(pipeline: Pipeline) -> None:
    with receiver(default=503) as server:
        webhook = pipeline.first_attempt(server.url)
        pipeline.wait_for_executions()
        delivery = pipeline.only_delivery(webhook)
        assert delivery.status is DeliveryStatus.FAILED
        assert pipeline.api("POST", f"/v1/deliveries/{delivery.id}/retry").status == 202
        pipeline.run_deliver()
        executions = pipeline.wait_for_executions()
    assert sorted(e["name"] for e in executions) == sorted([delivery.id, f"{delivery.id}-s2"])
    final = pipeline.only_delivery(webhook)
    assert final.status is DeliveryStatus.FAILED
    assert len(final.attempts) == 2 * pipeline.profile.max_attempts
    assert pipeline.waits == pipeline.profile.retry_delays_seconds * 2


def test_only_failed_or_cancelled_deliveries_can_be_retried(pipeline: Pipeline) -> None:
    with receiver(500, default=200) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        published = pipeline.publish("order.created").body
        pipeline.run_fanout()
        queued_id = delivery_id_for(published["id"], webhook.id, parse_iso(published["created_at"]))
        assert pipeline.api("POST", f"/v1/deliveries/{queued_id}/retry").status == 404  # not attempted yet
        with pipeline.waits_held():
            pipeline.run_deliver()
            pipeline.wait_until_waiting()
            pending = pipeline.only_delivery(webhook)
            assert pending.status is DeliveryStatus.PENDING
            assert pipeline.api("POST", f"/v1/deliveries/{pending.id}/retry").status == 409
        pipeline.wait_for_executions()
    assert pipeline.only_delivery(webhook).status is DeliveryStatus.SUCCEEDED
    conflict = pipeline.api("POST", f"/v1/deliveries/{pending.id}/retry")
    assert conflict.status == 409
    assert "succeeded" in conflict.body["error"]["message"]
    assert pipeline.api("POST", f"/v1/deliveries/{pending.id}/retry", application="globex").status == 404
    assert pipeline.api("POST", "/v1/deliveries/del_nope/retry").status == 404


def test_a_retry_that_cannot_be_queued_is_503_and_leaves_the_delivery_failed(single_attempt: Pipeline) -> None:
    pipeline = single_attempt
    with receiver(default=500) as server:
        webhook = pipeline.first_attempt(server.url)
    failed = pipeline.only_delivery(webhook)
    with mock.patch.object(Queue, "send", side_effect=QueueSendError("SQS is down")):
        response = pipeline.api("POST", f"/v1/deliveries/{failed.id}/retry")
    assert response.status == 503
    after = pipeline.only_delivery(webhook)
    assert (after.status, after.series, after.status_reason) == (DeliveryStatus.FAILED, 1, failed.status_reason)


# Recovery ----------------------------------------------------------------------------------


@contextmanager
def publishing_at(moment: datetime) -> Iterator[None]:
    """Events published meanwhile are stored as published at `moment` (the publisher's clock)."""
    publisher = ingest_dependencies().publisher
    original = publisher.clock
    object.__setattr__(publisher, "clock", lambda: moment)  # a frozen dataclass: the test's clock only
    try:
        yield
    finally:
        object.__setattr__(publisher, "clock", original)


def seed_failed_deliveries(
    pipeline: Pipeline, url: str, ages: list[timedelta], event_ids: list[str | None] | None = None
) -> Any:
    """One failed delivery per age: events published that long ago (with the caller's ids, if given)."""
    webhook, _ = pipeline.add_webhook(url)
    now = utc_now()
    for age, event_id in zip(ages, event_ids or [None] * len(ages), strict=True):
        options = {} if event_id is None else {"id": event_id}
        with publishing_at(now - age):
            assert pipeline.publish("order.created", {"age_s": age.total_seconds()}, **options).status == 202
    while pipeline.queued(pipeline.aws.events_queue_url):
        pipeline.run_fanout()
    pipeline.run_all_deliveries()
    return webhook


@pytest.mark.parametrize(
    "event_id",
    [
        "order-42",
        "evt_00000000000000000000000000",
        "evt_zzzzzzzzzzzzzzzzzzzzzzzzzz",
        "3f2b8c1e-7d4a-4b9e-9a0c-1d2e3f4a5b6c",
    ],
)
def test_recover_since_after_a_caller_id_publish_redelivers_it_whatever_time_its_id_suggests(
    single_attempt: Pipeline, event_id: str
) -> None:
    pipeline = single_attempt
    with receiver(default=500) as server:
        webhook = seed_failed_deliveries(pipeline, server.url, [timedelta(minutes=5)], [event_id])
        [failed] = pipeline.deliveries.list_for_webhook("acme", webhook.id, limit=10).items
        assert (failed.event_id, failed.status) == (event_id, DeliveryStatus.FAILED)
        server.default = server.default.__class__(200)
        since = iso(utc_now() - timedelta(minutes=10))
        response = pipeline.api("POST", f"/v1/webhooks/{webhook.id}/recover", body={"since": since})
        assert (response.status, response.body["deliveries_requeued"]) == (202, 1)
        pipeline.run_all_deliveries()
    [recovered] = pipeline.deliveries.list_for_webhook("acme", webhook.id, limit=10).items
    assert (recovered.id, recovered.status) == (failed.id, DeliveryStatus.SUCCEEDED)
    assert len(server.requests) == 2  # the failed attempt, then the recovered one


def test_recover_since_after_a_caller_id_publish_leaves_out_events_published_before(single_attempt: Pipeline) -> None:
    pipeline = single_attempt
    with receiver(default=500) as server:
        webhook = seed_failed_deliveries(pipeline, server.url, [timedelta(hours=2)], ["evt_zzzzzzzzzzzzzzzzzzzzzzzzzz"])
        server.default = server.default.__class__(200)
        since = iso(utc_now() - timedelta(hours=1))
        response = pipeline.api("POST", f"/v1/webhooks/{webhook.id}/recover", body={"since": since})
    assert (response.status, response.body["deliveries_requeued"]) == (202, 0)


def test_recover_requeues_the_failed_deliveries_since_a_time(single_attempt: Pipeline) -> None:
    pipeline = single_attempt
    with receiver(default=500) as server:
        hours = [timedelta(hours=3), timedelta(hours=2), timedelta(minutes=30)]
        webhook = seed_failed_deliveries(pipeline, server.url, hours)
        server.default = server.default.__class__(200)
        since = iso(utc_now() - timedelta(hours=2, minutes=30))
        response = pipeline.api("POST", f"/v1/webhooks/{webhook.id}/recover", body={"since": since})
        assert response.status == 202
        assert response.body == {
            "object": "recovery",
            "webhook_id": webhook.id,
            "since": since,
            "deliveries_requeued": 2,
            "has_more": False,
        }
        pipeline.run_all_deliveries()
    statuses = sorted(d.status.value for d in pipeline.deliveries.list_for_webhook("acme", webhook.id, limit=10).items)
    assert statuses == ["failed", "succeeded", "succeeded"]


def test_recover_is_bounded_per_call_and_says_when_more_remain(
    single_attempt: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = single_attempt
    monkeypatch.setattr(redelivery, "MAX_RECOVERED_PER_CALL", 2)
    with receiver(default=500) as server:
        webhook = seed_failed_deliveries(pipeline, server.url, [timedelta(minutes=m) for m in (30, 20, 10)])
    body = {"since": iso(utc_now() - timedelta(hours=1))}
    first = pipeline.api("POST", f"/v1/webhooks/{webhook.id}/recover", body=body)
    second = pipeline.api("POST", f"/v1/webhooks/{webhook.id}/recover", body=body)
    assert (first.body["deliveries_requeued"], first.body["has_more"]) == (2, True)
    assert (second.body["deliveries_requeued"], second.body["has_more"]) == (1, False)
    assert pipeline.queued(pipeline.aws.deliveries_queue_url) == 3


@pytest.mark.parametrize(
    ("since", "fragment"),
    [
        (lambda: iso(utc_now() + timedelta(minutes=5)), "future"),
        (lambda: iso(utc_now() - timedelta(days=31)), "within the last 30 days"),
        (lambda: "2026-03-04T12:00:00", "time zone"),
        (lambda: "yesterday", "ISO-8601"),
    ],
)
def test_recover_refuses_a_since_in_the_future_beyond_retention_or_unclear(
    pipeline: Pipeline, since: Any, fragment: str
) -> None:
    webhook, _ = pipeline.add_webhook("http://127.0.0.1:9/hooks")
    response = pipeline.api("POST", f"/v1/webhooks/{webhook.id}/recover", body={"since": since()})
    assert response.status == 422
    assert fragment in response.body["error"]["message"]


def test_recover_on_another_applications_endpoint_is_404(pipeline: Pipeline) -> None:
    webhook, _ = pipeline.add_webhook("http://127.0.0.1:9/hooks", application="globex")
    body = {"since": iso(utc_now() - timedelta(hours=1))}
    assert pipeline.api("POST", f"/v1/webhooks/{webhook.id}/recover", body=body).status == 404


# Cancellation ------------------------------------------------------------------------------


def test_cancelling_stops_the_running_execution_and_marks_the_delivery_cancelled(pipeline: Pipeline) -> None:
    with receiver(default=503) as server, pipeline.waits_held():
        webhook = pipeline.first_attempt(server.url)
        pipeline.wait_until_waiting()
        [running] = pipeline.executions()
        assert running["status"] == "RUNNING"
        executions = RetryExecutions(pipeline.aws.stepfunctions, pipeline.state_machine_arn)
        cancelled = cancel_pending_deliveries(pipeline.deliveries, executions, "acme", webhook.id, "webhook disabled")
        assert cancelled == 1
        [stopped] = pipeline.wait_for_executions()
        assert stopped["status"] == "ABORTED"
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.CANCELLED
    assert delivery.status_reason == "webhook disabled"
    assert delivery.next_retry_at is None
    assert len(server.requests) == 1
    assert cancel_pending_deliveries(pipeline.deliveries, executions, "acme", webhook.id, "again") == 0


def test_cancelling_stops_a_retry_group_and_cancels_every_member(pipeline: Pipeline) -> None:
    with receiver(default=503) as server, pipeline.waits_held():
        webhook, _ = pipeline.add_webhook(server.url)
        for n in range(3):
            pipeline.publish("order.created", {"n": n})
        pipeline.run_fanout()
        pipeline.run_deliver()
        pipeline.wait_until_waiting()
        [running] = pipeline.executions()  # one execution for the endpoint's three deliveries
        assert (
            len(
                json.loads(
                    pipeline.aws.stepfunctions.describe_execution(executionArn=running["executionArn"])["input"]
                )["members"]
            )
            == 3
        )
        executions = RetryExecutions(pipeline.aws.stepfunctions, pipeline.state_machine_arn)
        cancelled = cancel_pending_deliveries(pipeline.deliveries, executions, "acme", webhook.id, "webhook deleted")
        assert cancelled == 3
        [stopped] = pipeline.wait_for_executions()
        assert stopped["status"] == "ABORTED"
    page = pipeline.deliveries.list_for_webhook("acme", webhook.id, limit=10)
    assert len(page.items) == 3
    for item in page.items:
        delivery = pipeline.delivery(item.id)
        assert delivery.status is DeliveryStatus.CANCELLED
        assert delivery.next_retry_at is None
        assert len(delivery.attempts) == 1
    assert len(server.requests) == 3


def test_deleting_a_webhook_through_the_management_api_cancels_its_retries(pipeline: Pipeline, call_api: Any) -> None:
    with receiver(default=503) as server, pipeline.waits_held():
        webhook = pipeline.first_attempt(server.url)
        pipeline.wait_until_waiting()
        reset_all_dependencies()
        deleted = call_api(management.handler, "DELETE", f"/v1/webhooks/{webhook.id}", application="acme")
        assert deleted.status == 200
        [execution] = pipeline.wait_for_executions()
        assert execution["status"] == "ABORTED"
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.CANCELLED
    assert delivery.status_reason == "webhook deleted"
