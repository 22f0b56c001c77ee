"""Rate limits through the management API and the deliver function under moto: bad limits are refused naming
the field, an application's default reaches its endpoints, and a batch beyond an endpoint's limit sends what
fits, each at its own slot, and requeues the rest with a delay, logging no attempt for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from functions.core.constants import MAX_RATE_LIMIT_PER_SECOND
from functions.deliver import handler as deliver
from functions.pipeline import rate_limit
from functions.pipeline.contract import DeliveryMessage
from functions.pipeline.rate_limit import LEAD_SECONDS, RateLimiter, interval_us
from functions.store.queues import Queue
from functions.store.rate_limits import RateLimitStore
from functions.store.webhooks import WebhookStore
from tests.integration.conftest import APPLICATION, FakeLambdaContext, reset_all_dependencies
from tests.integration.pipeline_support import Pipeline, pipeline_under_moto, receiver
from tests.integration.test_delivery_controls import deliver_all, manage, register
from tests.integration.test_platform_routes import Platform
from tests.unit.test_rate_limit import ManualClock

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

START = 1_900_000_000.0
BAD_LIMITS = [0, -1, 1.5, "10", True, MAX_RATE_LIMIT_PER_SECOND + 1]


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


@dataclass
class Spies:
    reservations: list[dict[str, Any]] = field(default_factory=list)
    requeued: list[tuple[str, int]] = field(default_factory=list)


@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> Spies:
    seen = Spies()
    reserve, send_batch = RateLimitStore.reserve, Queue.send_batch

    def spy_reserve(self: RateLimitStore, application_id: str, webhook_id: str, **options: Any) -> int | None:
        seen.reservations.append({"webhook_id": webhook_id, **options})
        return reserve(self, application_id, webhook_id, **options)

    def spy_send_batch(self: Queue, bodies: Any, delays: Any = None) -> list[int]:
        seen.requeued.extend(zip(bodies, delays, strict=True) if delays is not None else [])
        return send_batch(self, bodies, delays)

    # A thread this busy machine wakes late would take a new slot (unit-tested): not what these tests count.
    monkeypatch.setattr(rate_limit, "LATE_SECONDS", 3600.0)
    monkeypatch.setattr(RateLimitStore, "reserve", spy_reserve)
    monkeypatch.setattr(Queue, "send_batch", spy_send_batch)
    return seen


def frozen_deliver(clock: ManualClock) -> None:
    """The deliver function's dependencies, its limiter on `clock`."""
    reset_all_dependencies()
    dependencies = deliver.dependencies()
    worker = dependencies.worker
    assert worker.limiter is not None
    limiter = RateLimiter(worker.limiter.store, now=clock.time)
    deliver.reset_dependencies(replace(dependencies, worker=replace(worker, limiter=limiter, sleep=clock.sleep)))


def fan_out(pipeline: Pipeline) -> None:
    while batch := pipeline.receive(pipeline.aws.events_queue_url):
        pipeline.run_fanout(batch)


def deliver_records(bodies: list[str]) -> dict[str, Any]:
    """An SQS event of `bodies`, as the event source mapping would hand the requeued messages back."""
    return {
        "Records": [
            {"messageId": f"m{n}", "receiptHandle": f"r{n}", "body": body, "attributes": {}}
            for n, body in enumerate(bodies)
        ]
    }


# The API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_LIMITS, ids=repr)
def test_a_bad_endpoint_limit_is_refused_naming_the_field(pipeline: Pipeline, value: Any) -> None:
    created = manage(
        pipeline,
        "POST",
        "/v1/webhooks",
        body={"url": "https://example.com/h", "events": ["*"], "rate_limit_per_second": value},
    )
    assert created.status == 422, created.body
    assert created.body["error"]["message"].startswith("rate_limit_per_second")

    webhook = register(pipeline, "https://example.com/h")
    patched = manage(pipeline, "PATCH", f"/v1/webhooks/{webhook['id']}", body={"rate_limit_per_second": value})
    assert patched.status == 422, patched.body
    assert patched.body["error"]["message"].startswith("rate_limit_per_second")


@pytest.mark.parametrize("value", BAD_LIMITS, ids=repr)
def test_a_bad_application_default_is_refused_naming_the_field(platform: Platform, value: Any) -> None:
    created = platform("POST", "/v1/applications", body={"id": "acme", "name": "Acme", "rate_limit_per_second": value})
    assert created.status == 422, created.body
    assert created.body["error"]["message"].startswith("rate_limit_per_second")

    platform.create("acme")
    patched = platform("PATCH", "/v1/applications/acme", body={"rate_limit_per_second": value})
    assert patched.status == 422, patched.body
    assert patched.body["error"]["message"].startswith("rate_limit_per_second")


@pytest.fixture
def platform(aws: Any, call_api: Any, management_api: Any) -> Platform:
    return Platform(aws, call_api)


def test_an_endpoint_limit_is_set_changed_and_removed(pipeline: Pipeline) -> None:
    webhook = register(pipeline, "https://example.com/h", rate_limit_per_second=10)
    assert webhook["rate_limit_per_second"] == 10

    changed = manage(pipeline, "PATCH", f"/v1/webhooks/{webhook['id']}", body={"rate_limit_per_second": 3})
    assert changed.body["rate_limit_per_second"] == 3
    removed = manage(pipeline, "PATCH", f"/v1/webhooks/{webhook['id']}", body={"rate_limit_per_second": None})
    assert removed.body["rate_limit_per_second"] is None
    assert pipeline.webhooks.get(APPLICATION, webhook["id"]).effective_rate_limit is None


def test_an_applications_default_reaches_its_endpoints_old_and_new_and_yields_to_their_own(
    platform: Platform, aws: Any
) -> None:
    platform.create("acme")
    endpoint = {"url": "https://example.com/h", "events": ["*"]}
    before = platform("POST", "/v1/applications/acme/webhooks", body=endpoint).body
    own = platform("POST", "/v1/applications/acme/webhooks", body={**endpoint, "rate_limit_per_second": 2}).body

    updated = platform("PATCH", "/v1/applications/acme", body={"rate_limit_per_second": 40})
    after = platform("POST", "/v1/applications/acme/webhooks", body=endpoint).body

    assert updated.status == 200
    assert updated.body["rate_limit_per_second"] == 40
    webhooks = WebhookStore(aws.dynamodb, aws.table_name)
    limits = {w["id"]: webhooks.get("acme", w["id"]).effective_rate_limit for w in (before, own, after)}
    assert limits == {before["id"]: 40, own["id"]: 2, after["id"]: 40}
    assert before["rate_limit_per_second"] is None  # the API shows the endpoint's own limit
    shown = {w["id"]: platform("GET", f"/v1/applications/acme/webhooks/{w['id']}").body for w in (before, own)}
    assert shown[before["id"]]["effective_rate_limit_per_second"] == 40  # and the one that applies
    assert shown[own["id"]]["effective_rate_limit_per_second"] == 2

    platform("PATCH", "/v1/applications/acme", body={"rate_limit_per_second": None})
    assert webhooks.get("acme", before["id"]).effective_rate_limit is None
    assert webhooks.get("acme", own["id"]).effective_rate_limit == 2


# The deliver function --------------------------------------------------------------------------


def test_a_batch_beyond_the_limit_sends_what_fits_at_its_slots_and_requeues_the_rest_delayed_with_no_attempt(
    pipeline: Pipeline, spies: Spies
) -> None:
    clock = ManualClock(now=START, frozen=True)
    with receiver(200) as server:
        webhook = register(pipeline, server.url, rate_limit_per_second=1)
        for n in range(6):
            pipeline.publish("order.created", {"n": n})
        fan_out(pipeline)
        frozen_deliver(clock)
        pipeline.run_deliver()

    step = interval_us(1) / 1_000_000
    assert len(server.requests) == 3  # slots within the pacing horizon: now + 0.15 s, + 1.3 s, + 2.45 s
    assert sorted(clock.waits) == pytest.approx([LEAD_SECONDS + n * step for n in range(3)])
    (reservation,) = spies.reservations
    assert (reservation["webhook_id"], reservation["count"]) == (webhook["id"], 6)
    requeued = [(DeliveryMessage.model_validate_json(body), delay) for body, delay in spies.requeued]
    assert len(requeued) == 3
    for index, (message, delay) in enumerate(sorted(requeued, key=lambda r: r[0].slot_at or 0), start=3):
        slot = START + LEAD_SECONDS + index * step
        assert message.slot_at == pytest.approx(slot * 1_000_000, abs=1)
        assert 1 <= delay <= slot - START - 1
    logged = pipeline.deliveries.list_for_webhook(APPLICATION, webhook["id"], limit=100).items
    assert len(logged) == 3  # the waiting three have no row, no attempt: only their messages
    assert all(len(d.attempts) == 1 and d.attempts[0].response_status == 200 for d in logged)

    # Back on the queue shortly before their slots, they are sent at them without another reservation.
    clock.now = START + LEAD_SECONDS + 3 * step - 0.5
    clock.waits.clear()
    with receiver(200) as server:
        pipeline.webhooks.save(
            pipeline.webhooks.get(APPLICATION, webhook["id"]).model_copy(update={"url": server.url}), fields={"url"}
        )
        frozen_deliver(clock)
        deliver.handler(deliver_records([m.to_json() for m, _ in requeued]), _context())
    assert len(server.requests) == 3
    assert len(spies.reservations) == 1
    assert sorted(clock.waits) == pytest.approx([0.5 + n * step for n in range(3)])


def test_an_unlimited_endpoint_makes_no_limiter_call_and_requeues_nothing(pipeline: Pipeline, spies: Spies) -> None:
    with receiver(200) as server:
        register(pipeline, server.url)
        for n in range(12):
            pipeline.publish("order.created", {"n": n})
        deliver_all(pipeline)

    assert len(server.requests) == 12
    assert spies.reservations == []
    assert spies.requeued == []


def test_a_manual_retry_keeps_to_the_endpoints_limit(pipeline: Pipeline, spies: Spies) -> None:
    with receiver(410) as server:
        webhook = register(pipeline, server.url)
        pipeline.publish("order.created")
        deliver_all(pipeline)
    delivery = pipeline.only_delivery(pipeline.webhooks.get(APPLICATION, webhook["id"]))
    manage(pipeline, "PATCH", f"/v1/webhooks/{webhook['id']}", body={"enabled": True, "rate_limit_per_second": 5})

    with receiver(200) as server:
        pipeline.webhooks.save(
            pipeline.webhooks.get(APPLICATION, webhook["id"]).model_copy(update={"url": server.url}), fields={"url"}
        )
        assert pipeline.api("POST", f"/v1/deliveries/{delivery.id}/retry").status == 202
        [message] = pipeline.receive(pipeline.aws.deliveries_queue_url)
        assert json.loads(message["Body"])["webhook_id"] == webhook["id"]
        reset_all_dependencies()
        pipeline.run_deliver([message])

    assert len(server.requests) == 1
    assert [r["webhook_id"] for r in spies.reservations] == [webhook["id"]]


def _context() -> Any:
    return FakeLambdaContext()


def test_retries_of_a_limited_endpoint_are_paced_by_the_same_limiter(pipeline: Pipeline, spies: Spies) -> None:
    with receiver(503, 503, 503, default=200) as server:
        webhook = register(pipeline, server.url, rate_limit_per_second=20)
        for n in range(3):
            pipeline.publish("order.created", {"n": n})
        deliver_all(pipeline)
        pipeline.wait_for_executions()

    logged = pipeline.deliveries.list_for_webhook(APPLICATION, webhook["id"], limit=100).items
    assert sorted(len(d.attempts) for d in logged) == [2, 2, 2]
    assert all(d.status.value == "succeeded" for d in logged)
    assert [r["count"] for r in spies.reservations] == [3, 3]  # attempt 1 of the batch, then the group's attempt 2
    assert "latest_start_us" not in spies.reservations[1]


def test_the_store_hands_out_consecutive_slots_and_refuses_past_the_latest_start(aws: Any) -> None:
    store = RateLimitStore(aws.dynamodb, aws.table_name)
    now = 1_900_000_000_000_000

    idle = store.reserve("acme", "wh_1", count=3, interval_us=100, earliest_us=now)
    backlog = store.reserve("acme", "wh_1", count=2, interval_us=100, earliest_us=now + 10)
    refused = store.reserve("acme", "wh_1", count=1, interval_us=100, earliest_us=now + 20, latest_start_us=now + 400)
    unbounded = store.reserve("acme", "wh_1", count=1, interval_us=100, earliest_us=now + 20)
    later = store.reserve("acme", "wh_1", count=1, interval_us=100, earliest_us=now + 10_000)
    other = store.reserve("acme", "wh_2", count=1, interval_us=100, earliest_us=now)

    assert (idle, backlog, refused, unbounded, later, other) == (now, now + 300, None, now + 500, now + 10_000, now)
