"""Retries run by the synthesized retry state machine (infra/retry_definition.py), executed by moto.

moto runs the real ASL: its Wait states are recorded instead of slept, its Lambda tasks call
the real deliver handler in-process. So these tests see exactly the waits, attempts and
final states a deployment of each profile would produce.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from dovecote.profiles import shipped_profile_names
from functions.core.models import DeliveryStatus
from functions.core.timestamps import iso
from functions.deliver import handler as deliver
from functions.pipeline.attempt import Attempter
from functions.store.executions import execution_name
from tests.integration.pipeline_support import Pipeline, Reply, pipeline_under_moto, receiver

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


def start_delivery(pipeline: Pipeline, url: str) -> Any:
    webhook, _ = pipeline.add_webhook(url)
    event_type = pipeline.profile.event_types[0].name if pipeline.profile.event_types else "user.created"
    assert pipeline.publish(event_type, {"n": 1}).status == 202
    assert pipeline.run_fanout() == {"batchItemFailures": []}
    assert pipeline.run_deliver() == {"batchItemFailures": []}
    return webhook


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_a_failing_endpoint_is_attempted_exactly_on_the_profiles_table(pipeline: Pipeline, profile_name: str) -> None:
    profile = pipeline.use_profile(profile_name)
    with receiver(default=503) as server:
        webhook = start_delivery(pipeline, server.url)
        [execution] = pipeline.wait_for_executions()

    assert pipeline.waits == profile.retry_delays_seconds
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.status_reason == f"all {profile.max_attempts} attempts failed"
    assert [a.number for a in delivery.attempts] == list(range(1, profile.max_attempts + 1))
    assert all(a.response_status == 503 for a in delivery.attempts)
    assert [a.next_retry_at is not None for a in delivery.attempts] == [True] * (profile.max_attempts - 1) + [False]
    assert delivery.next_retry_at is None
    assert execution["name"] == delivery.id
    assert execution["status"] == "SUCCEEDED"  # the last Attempt ends the delivery and the execution
    assert json.loads(execution["output"])["result"] == {"outcome": "failed", "members": [], "next_attempt_at": None}
    assert len(server.requests) == profile.max_attempts
    assert len({r.body for r in server.requests}) == 1  # the same body on every attempt
    if profile.headers.delivery_id:
        assert set(server.delivery_ids(profile.headers.delivery_id)) == {delivery.id}
    assert pipeline.webhooks.get("acme", webhook.id).consecutive_failures == 1  # MarkFailed did not count it again


def test_a_delivery_that_recovers_mid_schedule_ends_succeeded(pipeline: Pipeline) -> None:
    profile = pipeline.use_profile("miteos")
    with receiver(500, Reply(302, body=b"moved"), default=200) as server:
        webhook = start_delivery(pipeline, server.url)
        [execution] = pipeline.wait_for_executions()
    assert pipeline.waits == profile.retry_delays_seconds[:2]
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert [a.response_status for a in delivery.attempts] == [500, 302, 200]  # a redirect is a failure
    assert execution["status"] == "ABORTED"  # its Attempt left no member pending and stopped it (Dovecote.Settled)
    assert pipeline.last_task_result(execution) == {"outcome": "succeeded", "members": [], "next_attempt_at": None}


def test_410_during_retries_stops_them_and_disables_the_endpoint(pipeline: Pipeline) -> None:
    profile = pipeline.use_profile("standard")
    with receiver(503, 410) as server:
        webhook = start_delivery(pipeline, server.url)
        pipeline.wait_for_executions()
    assert pipeline.waits == profile.retry_delays_seconds[:1]
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.FAILED
    assert [a.response_status for a in delivery.attempts] == [503, 410]
    assert not pipeline.webhooks.get("acme", webhook.id).enabled


def test_an_endpoint_deleted_during_retries_ends_the_delivery_cancelled(pipeline: Pipeline) -> None:
    with receiver(default=503) as server, pipeline.waits_held():
        webhook = start_delivery(pipeline, server.url)
        pipeline.wait_until_waiting()
        pipeline.webhooks.delete("acme", webhook.id, remember_seconds=60)
    [execution] = pipeline.wait_for_executions()
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.CANCELLED
    assert delivery.status_reason == "the webhook was deleted"
    assert len(server.requests) == 1
    assert execution["status"] == "ABORTED"  # its Attempt found nothing left to attempt and stopped it
    assert pipeline.last_task_result(execution) == {"outcome": "cancelled", "members": [], "next_attempt_at": None}


def test_an_attempt_that_errors_is_caught_and_the_delivery_marked_failed(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = pipeline.use_profile("standard")
    real_attempt = Attempter.attempt

    def broken_attempt(self: Attempter, delivery: Any, endpoint: Any, event: Any, number: int) -> Any:
        if number == 2:
            raise RuntimeError("DynamoDB is unavailable")
        return real_attempt(self, delivery, endpoint, event, number)

    with receiver(default=503) as server:
        monkeypatch.setattr(Attempter, "attempt", broken_attempt)
        webhook = start_delivery(pipeline, server.url)
        pipeline.wait_for_executions()
    delivery = pipeline.only_delivery(webhook)
    assert delivery.status is DeliveryStatus.FAILED
    assert "the retry schedule stopped on an error" in (delivery.status_reason or "")
    assert len(delivery.attempts) == 1
    assert pipeline.waits == profile.retry_delays_seconds[:1]


def test_mark_failed_is_idempotent_and_attempt_repeats_log_once(pipeline: Pipeline, lambda_context: Any) -> None:
    with receiver(default=503) as server, pipeline.waits_held():
        webhook = start_delivery(pipeline, server.url)
        pipeline.wait_until_waiting()
        delivery = pipeline.only_delivery(webhook)
        ids = {"application_id": "acme", "webhook_id": webhook.id, "members": [{"delivery_id": delivery.id}]}
        repeated = deliver.handler({"action": "attempt", **ids, "attempt": 1}, lambda_context)
        assert repeated == {
            "outcome": "retry",
            "members": [{"delivery_id": delivery.id, "series": 1}],
            "next_attempt_at": iso(delivery.next_retry_at),  # a repeat answers the due time logged
        }
        assert len(server.requests) == 1
        for _ in range(2):
            assert deliver.handler(
                {"action": "mark_failed", **ids, "reason": {"outcome": "retry"}}, lambda_context
            ) == {"outcome": "failed", "members": [], "next_attempt_at": None}
    pipeline.wait_for_executions()
    final = pipeline.only_delivery(webhook)
    assert final.status is DeliveryStatus.FAILED
    assert len(final.attempts) == 1
    assert pipeline.webhooks.get("acme", webhook.id).consecutive_failures == 1  # counted once


def test_execution_names_follow_the_delivery_id_and_series() -> None:
    assert execution_name("del_x", 1) == "del_x"
    assert execution_name("del_x", 3) == "del_x-s3"


@pytest.mark.parametrize("retry_after", ["900", "Sun, 06 Nov 2050 08:49:37 GMT"], ids=["seconds", "http-date"])
def test_a_429_with_retry_after_on_attempt_1_puts_its_due_time_in_the_execution_input_and_the_log(
    pipeline: Pipeline, retry_after: str
) -> None:
    profile = pipeline.use_profile("standard")
    longest = max(profile.retry_schedule_seconds)
    with receiver(Reply(429, headers=(("Retry-After", retry_after),)), default=200) as server:
        webhook = start_delivery(pipeline, server.url)
        [execution] = pipeline.wait_for_executions()

    delivery = pipeline.only_delivery(webhook)
    first, second = delivery.attempts
    asked = first.retry_after_seconds
    assert asked is not None
    assert asked == (900 if retry_after == "900" else longest)  # a date 24 years away: capped at the table's longest
    answered_at = first.attempted_at + timedelta(milliseconds=first.latency_ms)
    assert first.next_retry_at == answered_at + timedelta(seconds=asked)  # no sooner than asked, from the answer
    assert first.next_retry_at > first.attempted_at + timedelta(seconds=profile.retry_delays_seconds[0])
    # The execution's input carries the same due time: Wait 2 waits until then.
    execution_input = json.loads(execution["input"])
    assert execution_input["next_attempt_at"] == iso(first.next_retry_at)
    assert pipeline.waits == [asked]
    assert (second.response_status, delivery.status) == (200, DeliveryStatus.SUCCEEDED)
    assert len(server.requests) == 2
