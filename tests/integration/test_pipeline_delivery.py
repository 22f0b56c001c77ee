"""Publish → fan out → deliver, through the real handlers, to real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from dovecote.verify import verify
from functions.core.models import DeliveryStatus, utc_now
from functions.store.deliveries import DeliveryStore
from tests.integration.pipeline_support import (
    Pipeline,
    Reply,
    custom_profile,
    dynamodb_calls,
    pipeline_under_moto,
    receiver,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


def publish_and_fan_out(pipeline: Pipeline, event_type: str = "user.created", data: Any = None) -> str:
    response = pipeline.publish(event_type, data)
    assert response.status == 202, response.body
    assert pipeline.run_fanout() == {"batchItemFailures": []}
    return str(response.body["id"])


def test_a_delivery_that_succeeds_at_once_is_signed_logged_and_starts_no_execution(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook, secret = pipeline.add_webhook(server.url)
        event_id = publish_and_fan_out(pipeline, data={"amount": 12.5, "note": "café"})
        assert pipeline.run_deliver() == {"batchItemFailures": []}

    [request] = server.requests
    payload = StandardWebhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "user.created"
    assert payload["data"] == {"amount": 12.5, "note": "café"}
    assert request.header("User-Agent") == "Dovecote/0.1.0"
    assert request.header("Content-Type") == "application/json"
    delivery = pipeline.only_delivery(webhook)
    assert request.header("webhook-id") == delivery.id
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert delivery.event_id == event_id
    assert [(a.number, a.response_status) for a in delivery.attempts] == [(1, 200)]
    assert delivery.next_retry_at is None
    assert pipeline.executions() == []
    assert pipeline.events.get("acme", event_id).data == {"amount": 12.5, "note": "café"}


def test_a_delivery_for_a_seed_profile_verifies_with_the_receiver_library(pipeline: Pipeline) -> None:
    pipeline.use_profile("meetloyd")
    with receiver(200) as server:
        _, secret = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline, "task.completed", {"task_id": "t1"})
        pipeline.run_deliver()
    [request] = server.requests
    assert verify("meetloyd", request.body, request.headers, secret)
    assert request.header("X-MeetLoyd-Event") == "task.completed"
    assert json.loads(request.body)["data"] == {"task_id": "t1"}


def test_a_delivery_is_stored_once_with_the_outcome_of_its_first_attempt(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        assert pipeline.deliveries.list_for_webhook("acme", webhook.id, limit=5).items == []  # queued only
        with dynamodb_calls() as calls:
            assert pipeline.run_deliver() == {"batchItemFailures": []}
    writes = [c for c in calls if c not in {"GetItem", "Query", "BatchGetItem"}]
    assert writes == ["PutItem"]
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert len(server.requests) == 1


def test_a_batch_reads_a_shared_endpoint_and_event_once(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        pipeline.add_webhook(server.url)
        pipeline.add_webhook(server.url)
        for n in range(3):
            assert pipeline.publish("user.created", {"n": n}).status == 202
        assert pipeline.run_fanout() == {"batchItemFailures": []}
        batch = pipeline.receive(pipeline.aws.deliveries_queue_url)
        assert len(batch) == 6
        with dynamodb_calls() as calls:
            assert pipeline.run_deliver(batch) == {"batchItemFailures": []}
    assert len(server.requests) == 6
    # the six deliveries and two endpoints in one request, the three events in another: no read of its own
    assert calls.count("BatchGetItem") == 2
    assert calls.count("GetItem") == 0
    assert calls.count("PutItem") == 6


def test_a_pending_delivery_always_carries_its_next_retry_time(pipeline: Pipeline) -> None:
    with receiver(default=500) as server, pipeline.waits_held():
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        pipeline.run_deliver()
        pipeline.wait_until_waiting()
        delivery = pipeline.only_delivery(webhook)
        assert delivery.status is DeliveryStatus.PENDING
        [attempt] = delivery.attempts
        assert attempt.response_status == 500
        assert attempt.next_retry_at is not None
        assert delivery.next_retry_at == attempt.next_retry_at
        assert (attempt.next_retry_at - attempt.attempted_at).total_seconds() == pipeline.profile.retry_delays_seconds[
            0
        ]
        pipeline.webhooks.disable("acme", webhook.id, "test over", attempt.attempted_at)


def test_410_gone_fails_the_delivery_at_once_and_disables_the_endpoint(pipeline: Pipeline) -> None:
    with receiver(410) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        pipeline.run_deliver()
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.FAILED
    assert "410" in (delivery.status_reason or "")
    stored = pipeline.webhooks.get("acme", webhook.id)
    assert not stored.enabled
    assert stored.disabled_reason == "the endpoint answered 410 Gone"
    assert stored.disabled_at is not None
    assert pipeline.executions() == []
    assert len(server.requests) == 1


def test_a_crash_after_the_post_before_the_log_write_sends_again_and_logs_once(pipeline: Pipeline) -> None:
    real_create = DeliveryStore.create_with_outcome
    crashes = iter([True])

    def crash_once(self: DeliveryStore, *args: Any, **kwargs: Any) -> bool:
        if next(crashes, False):
            raise RuntimeError("Lambda was killed between the POST and the log write")
        return real_create(self, *args, **kwargs)

    with receiver(200) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        with mock.patch.object(DeliveryStore, "create_with_outcome", crash_once):
            first = pipeline.run_deliver()
            assert len(first["batchItemFailures"]) == 1  # not acknowledged: SQS delivers it again
            assert pipeline.run_deliver() == {"batchItemFailures": []}

    delivery = pipeline.only_delivery(webhook)
    assert server.delivery_ids("webhook-id") == [delivery.id, delivery.id]  # the receiver dedupes on this
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert len(delivery.attempts) == 1


def test_a_redelivered_delivery_message_does_not_send_again(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        [message] = pipeline.receive(pipeline.aws.deliveries_queue_url)
        pipeline.run_deliver([message])
        pipeline.run_deliver([message])
    assert len(server.requests) == 1
    assert len(pipeline.only_delivery(webhook).attempts) == 1


def test_a_batch_of_ten_is_sent_concurrently(pipeline: Pipeline) -> None:
    with receiver(default=Reply(200, delay_seconds=0.2), gather=10) as server:
        pipeline.add_webhook(server.url)
        for n in range(10):
            assert pipeline.publish("user.created", {"n": n}).status == 202
        while pipeline.queued(pipeline.aws.events_queue_url):
            pipeline.run_fanout()
        batch = pipeline.receive(pipeline.aws.deliveries_queue_url)
        assert len(batch) == 10
        assert pipeline.run_deliver(batch) == {"batchItemFailures": []}
    assert len(server.requests) == 10
    assert server.max_in_flight == 10  # all ten were open at the receiver at the same moment


def test_a_delivery_to_a_webhook_disabled_before_its_attempt_is_cancelled(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        pipeline.webhooks.disable("acme", webhook.id, "paused", utc_now())
        pipeline.run_deliver()
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.CANCELLED
    assert delivery.status_reason == "the webhook is disabled"
    assert server.requests == []


def test_a_private_address_at_send_time_is_refused_and_retried(pipeline: Pipeline, monkeypatch: Any) -> None:
    monkeypatch.delenv("DOVECOTE_ALLOW_HTTP_LOOPBACK")
    pipeline.use_profile(pipeline.profile.name)
    with receiver(200) as server, pipeline.waits_held():
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        pipeline.run_deliver()
        pipeline.wait_until_waiting()
        delivery = pipeline.only_delivery(webhook)
        pipeline.webhooks.disable("acme", webhook.id, "test over", delivery.created_at)
    assert server.requests == []
    [attempt] = delivery.attempts
    assert attempt.response_status is None
    assert attempt.error is not None
    assert attempt.error.startswith("refused at send time")
    assert delivery.status is DeliveryStatus.PENDING


def test_health_rule_disables_an_endpoint_after_consecutive_exhausted_deliveries(
    pipeline: Pipeline, tmp_path: Any
) -> None:
    pipeline.use_profile(
        custom_profile(
            tmp_path,
            retry_schedule_seconds=[0],
            health={"disable_after_consecutive_failures": 2, "disable_after_failing_days": 5},
        )
    )
    with receiver(default=500) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        pipeline.run_deliver()
        after_one = pipeline.webhooks.get("acme", webhook.id)
        assert after_one.enabled
        assert after_one.consecutive_failures == 1
        assert after_one.failing_since is not None
        publish_and_fan_out(pipeline)
        pipeline.run_deliver()
    disabled = pipeline.webhooks.get("acme", webhook.id)
    assert not disabled.enabled
    assert disabled.disabled_reason == "disabled automatically: 2 deliveries in a row failed every attempt"
    assert disabled.disabled_at is not None
    assert pipeline.executions() == []  # a one-row table has no retries


def test_a_success_resets_the_health_counters_and_a_healthy_success_writes_nothing(pipeline: Pipeline) -> None:
    with receiver(500, 200, 200) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        publish_and_fan_out(pipeline)
        pipeline.run_deliver()
        pipeline.wait_for_executions()
        assert pipeline.webhooks.get("acme", webhook.id).failing_since is None  # reset by attempt 2
        publish_and_fan_out(pipeline)
        with mock.patch.object(type(pipeline.webhooks), "reset_health") as reset_health:
            pipeline.run_deliver()
        reset_health.assert_not_called()
    stored = pipeline.webhooks.get("acme", webhook.id)
    assert (stored.consecutive_failures, stored.failing_since) == (0, None)


def test_a_batch_of_failures_to_one_endpoint_starts_its_failing_period_with_one_write(pipeline: Pipeline) -> None:
    store = type(pipeline.webhooks)
    with receiver(default=500) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        for _ in range(5):
            publish_and_fan_out(pipeline)
        with mock.patch.object(
            store, "record_failing_since", autospec=True, side_effect=store.record_failing_since
        ) as spy:
            assert pipeline.run_deliver() == {"batchItemFailures": []}
    assert spy.call_count == 1  # the five members share one read of the endpoint, and one health write
    assert pipeline.webhooks.get("acme", webhook.id).failing_since is not None
    assert len(pipeline.deliveries.list_for_webhook("acme", webhook.id, limit=10).items) == 5
