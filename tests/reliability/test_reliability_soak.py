"""Soak: many deliveries through the local stack while receivers fail and handlers crash.

The in-process local stack (mutx profile: 4 attempts at 0, 60 s, 10 min, 1 h, played 1000x
faster) delivers DOVECOTE_SOAK_DELIVERIES deliveries (default 600, to fit the suite's time
budget; the figures in docs/reliability.md come from a 10,000 run) to ten endpoints on
127.0.0.1, while:

- every request is answered 500 or 503 with probability 0.3 (seeded), 200 otherwise;
- 5 % of first attempts crash after the POST and before the log write (the deliver
  function's batch reports them failed; SQS brings them back);
- 3 % of fan-outs crash after storing the event and its deliveries and before queueing them;
- 5 % of events are published twice with the same Idempotency-Key (a client's retry);
- halfway through, both SQS pollers are killed after a batch ran and before they deleted
  its messages, and new pollers take over.

Then: every accepted event has exactly one delivery per endpoint, each in a final state
(none pending); each delivery's log is consistent (attempts numbered 1..n, one success at
most and last, four failures when failed); every request a receiver got is either a logged
attempt or an injected crash, so a second success for an (event, endpoint) pair happens only
where a crash followed a successful POST; all executions succeeded; both DLQs are empty.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest

from dovecote_local.pollers import QueuePoller
from functions.core.models import Attempt, Delivery
from functions.pipeline.fanout import FanOut
from functions.store.deliveries import DeliveryStore
from tests.reliability.reliability_support import LocalStackHarness, endpoints, eventually, report_figures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability-soak")]

LOCAL_STACK_OPTIONS = {"profile": "mutx", "time_scale": 0.001, "concurrent_batches": 1}
"""One poller per queue: with the soak's 8 s visibility timeout (minutes in the template), a second poller could
take a message a slow first one still holds, and send a request the accounting below has no log line for."""
DELIVERIES = int(os.environ.get("DOVECOTE_SOAK_DELIVERIES", "600"))
ENDPOINT_COUNT = 10
EVENTS = max(1, DELIVERIES // ENDPOINT_COUNT)
MAX_ATTEMPTS = 4
FAILURE_RATE = 0.3
ATTEMPT_CRASH_RATE = 0.05
FANOUT_CRASH_RATE = 0.03
REPUBLISH_RATE = 0.05
VISIBILITY_TIMEOUT_SECONDS = 8
"""The queues' visibility timeout during the soak (the template's is minutes): a failed message returns after it."""
BACKLOG = 150
"""Publishing pauses while more delivery messages than this wait in the queue."""
SEED = 20_261_122
COMPLETION_SECONDS = 90 + EVENTS * ENDPOINT_COUNT * 0.12
DELIVERY_HEADER = "x-webhook-delivery"
DELIVER_HANDLER = "functions.deliver.handler.handler"
FANOUT_HANDLER = "functions.fanout.handler.handler"


@dataclass
class Faults:
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempt_crashes: Counter[str] = field(default_factory=Counter)
    crashes_after_success: Counter[str] = field(default_factory=Counter)
    fanout_crashes: int = 0
    receiver_failures: int = 0
    poller_restarts: int = 0
    batches_left_undeleted: int = 0

    def chance(self, rate: float) -> bool:
        with self.lock:
            return self.rng.random() < rate


def _failing_receiver(faults: Faults) -> Any:
    def decide(path: str, headers: dict[str, str], body: bytes) -> int:
        if faults.chance(FAILURE_RATE):
            with faults.lock:
                faults.receiver_failures += 1
                return 500 if faults.rng.random() < 0.5 else 503
        return 200

    return decide


def _maybe_crash_logging_first_attempt(faults: Faults, delivery_id: str, attempt: Attempt) -> None:
    if attempt.number == 1 and faults.chance(ATTEMPT_CRASH_RATE):
        with faults.lock:
            faults.attempt_crashes[delivery_id] += 1
            if attempt.response_status is not None and 200 <= attempt.response_status < 300:
                faults.crashes_after_success[delivery_id] += 1
        raise RuntimeError("injected: the deliver function died after the POST, before the log write")


def _crashing_record_attempt(faults: Faults) -> Any:
    real = DeliveryStore.record_attempt

    def record_attempt(self: DeliveryStore, application_id: str, delivery_id: str, **kwargs: Any) -> bool:
        _maybe_crash_logging_first_attempt(faults, delivery_id, kwargs["attempt"])
        return real(self, application_id, delivery_id, **kwargs)

    return record_attempt


def _crashing_create_with_outcome(faults: Faults) -> Any:
    """The first attempt of a fanned-out delivery is logged by the write that stores the delivery."""
    real = DeliveryStore.create_with_outcome

    def create_with_outcome(self: DeliveryStore, delivery: Delivery, **kwargs: Any) -> bool:
        if delivery.attempts:
            _maybe_crash_logging_first_attempt(faults, delivery.id, delivery.attempts[0])
        return real(self, delivery, **kwargs)

    return create_with_outcome


def _crashing_send_all(faults: Faults) -> Any:
    real = FanOut._send_all

    def send_all(self: FanOut, messages: list[str]) -> set[int]:
        if faults.chance(FANOUT_CRASH_RATE):
            with faults.lock:
                faults.fanout_crashes += 1
            raise RuntimeError("injected: the fanout function died before queueing the deliveries")
        return real(self, messages)

    return send_all


class _DyingSqs:
    """The SQS client of a poller that dies after its next batch ran, before the messages are deleted."""

    def __init__(self, real: Any, stopping: threading.Event, faults: Faults) -> None:
        self._real = real
        self._stopping = stopping
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def delete_message_batch(self, **_: Any) -> Any:
        self._stopping.set()
        with self._faults.lock:
            self._faults.batches_left_undeleted += 1
        raise RuntimeError("injected: the poller died before deleting the batch it ran")


def restart_poller(stack: LocalStackHarness, handler_path: str, faults: Faults) -> QueuePoller:
    """Start a new poller for the function's queue; the old one dies after its next batch, leaving it undeleted."""
    function = stack.stack.resources.function_by_handler(handler_path)
    old = next(
        thread
        for thread in stack.stack._threads
        if isinstance(thread, QueuePoller) and thread.is_alive() and thread.mapping.function_name == function.name
    )
    dying = threading.Event()
    real_sqs = old._sqs
    old._stopping = dying
    old._sqs = _DyingSqs(real_sqs, dying, faults)
    replacement = QueuePoller(old.mapping, real_sqs, old._runtime, "us-east-1", stack.stack._stopping)
    replacement.start()
    stack.stack._threads.append(replacement)
    with faults.lock:
        faults.poller_restarts += 1
    return old


def _deliveries(stack: LocalStackHarness, application: str) -> list[dict[str, Any]]:
    items = stack.scan()
    found = []
    for item in items:
        if item.get("kind", {}).get("S") != "delivery" or item["application_id"]["S"] != application:
            continue
        found.append(
            {
                "id": item["id"]["S"],
                "event_id": item["event_id"]["S"],
                "webhook_id": item["webhook_id"]["S"],
                "status": item["status"]["S"],
                "attempts": [
                    {
                        "number": int(a["M"]["number"]["N"]),
                        "status": int(a["M"]["response_status"]["N"]) if "response_status" in a["M"] else None,
                    }
                    for a in item.get("attempts", {}).get("L", [])
                ],
            }
        )
    return found


def _pending(stack: LocalStackHarness, application: str) -> tuple[int, int]:
    """(deliveries stored, deliveries pending) of the application."""
    dynamodb = stack.client("dynamodb")
    kwargs: dict[str, Any] = {
        "TableName": stack.table_name,
        "FilterExpression": "kind = :delivery AND application_id = :application",
        "ProjectionExpression": "#status",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":delivery": {"S": "delivery"}, ":application": {"S": application}},
    }
    stored = pending = 0
    for _ in range(10_000):
        page = dynamodb.scan(**kwargs)
        stored += len(page["Items"])
        pending += sum(1 for item in page["Items"] if item["status"]["S"] == "pending")
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return stored, pending


def test_soak_every_accepted_event_is_delivered_once_per_endpoint_and_ends(local_stack: LocalStackHarness) -> None:
    stack = local_stack
    application = "soak"
    key = stack.new_key(application)
    faults = Faults()
    sqs = stack.client("sqs")
    for url in stack.queue_urls().values():
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS)})
    started = time.monotonic()
    with (
        endpoints() as receivers,
        mock.patch.object(DeliveryStore, "record_attempt", _crashing_record_attempt(faults)),
        mock.patch.object(DeliveryStore, "create_with_outcome", _crashing_create_with_outcome(faults)),
        mock.patch.object(FanOut, "_send_all", _crashing_send_all(faults)),
    ):
        webhooks = []
        for _ in range(ENDPOINT_COUNT):
            created = stack.api(
                "POST",
                "/v1/webhooks",
                key,
                json_body={"url": receivers.add(_failing_receiver(faults)), "events": ["agent.*"]},
            )
            assert created.status_code == 201, created.text
            webhooks.append(created.json()["id"])
        accepted: dict[str, str] = {}
        republished = 0
        deliveries_queue = stack.queue_url("QueuesDeliveries")
        for number in range(EVENTS):
            idempotency = {"Idempotency-Key": f"soak-{number}"}
            body = {"type": "agent.status", "data": {"n": number, "note": "soak"}}
            response = stack.api("POST", "/v1/events", key, json_body=body, headers=idempotency)
            assert response.status_code == 202, response.text
            accepted[f"soak-{number}"] = response.json()["id"]
            if faults.chance(REPUBLISH_RATE):
                again = stack.api("POST", "/v1/events", key, json_body=body, headers=idempotency)
                assert again.status_code == 202, again.text
                assert again.json()["id"] == accepted[f"soak-{number}"]
                republished += 1
            if number % 10 == 9:
                # moto's ReceiveMessage costs O(messages²): keep the queue near one batch per poll,
                # as Lambda's pollers would (they scale out with the backlog).
                eventually(lambda: stack.queue_depth(deliveries_queue) < BACKLOG, timeout=120, interval=0.1)
            if number == EVENTS // 2:
                dying = [restart_poller(stack, DELIVER_HANDLER, faults), restart_poller(stack, FANOUT_HANDLER, faults)]
        published_at = time.monotonic()

        expected = len(accepted) * ENDPOINT_COUNT

        work_queues = [url for logical_id, url in stack.queue_urls().items() if "Dlq" not in logical_id]

        def settled() -> bool:
            # Cheap signals first (queues drained, no execution running); the table scan last.
            if any(stack.queue_depth(url) for url in work_queues) or stack.executions("RUNNING"):
                return False
            stored, pending = _pending(stack, application)
            return stored == expected and pending == 0

        eventually(settled, timeout=COMPLETION_SECONDS, interval=1.0, message=f"{expected} deliveries to settle")
        for poller in dying:
            poller.join(30)
            assert not poller.is_alive(), f"{poller.name} never ran another batch"
        assert faults.batches_left_undeleted == 2
        settled_at = time.monotonic()
        received = list(receivers.requests)

    deliveries = _deliveries(stack, application)
    # Nothing lost: one delivery per (accepted event, endpoint), every one in a final state.
    pairs = Counter((d["event_id"], d["webhook_id"]) for d in deliveries)
    assert set(pairs) == {(event_id, webhook_id) for event_id in accepted.values() for webhook_id in webhooks}
    assert set(pairs.values()) == {1}
    statuses = Counter(d["status"] for d in deliveries)
    assert set(statuses) <= {"succeeded", "failed"}, statuses
    # Each log is consistent.
    for delivery in deliveries:
        attempts = delivery["attempts"]
        assert [a["number"] for a in attempts] == list(range(1, len(attempts) + 1)), delivery
        successes = [a for a in attempts if a["status"] is not None and 200 <= a["status"] < 300]
        if delivery["status"] == "succeeded":
            assert len(successes) == 1, delivery
            assert attempts[-1] is successes[0], delivery
        else:
            assert len(attempts) == MAX_ATTEMPTS, delivery
            assert not successes, delivery
    # Every request a receiver got is a logged attempt or an injected crash: no silent duplicate.
    by_delivery = Counter(r.header(DELIVERY_HEADER) for r in received)
    successes_received = Counter(r.header(DELIVERY_HEADER) for r in received if r.status < 300)
    for delivery in deliveries:
        identifier = delivery["id"]
        assert by_delivery[identifier] == len(delivery["attempts"]) + faults.attempt_crashes[identifier], identifier
        logged_success = 1 if delivery["status"] == "succeeded" else 0
        assert successes_received[identifier] == logged_success + faults.crashes_after_success[identifier], identifier
    executions = stack.executions()
    # SUCCEEDED: the table ran out; ABORTED: the group settled before, and its Attempt stopped it. None failed.
    assert {e["status"] for e in executions} <= {"SUCCEEDED", "ABORTED"}, Counter(e["status"] for e in executions)
    for logical_id, url in stack.queue_urls().items():
        if "Dlq" in logical_id:
            assert stack.queue_depth(url) == 0, logical_id

    duplicates = sum(successes_received.values()) - statuses["succeeded"]
    report_figures(
        "soak",
        deliveries=len(deliveries),
        events_accepted=len(accepted),
        events_republished=republished,
        endpoints=ENDPOINT_COUNT,
        requests_received=len(received),
        receiver_failures_injected=faults.receiver_failures,
        attempt_crashes_injected=sum(faults.attempt_crashes.values()),
        fanout_crashes_injected=faults.fanout_crashes,
        poller_restarts=faults.poller_restarts,
        batches_left_undeleted=faults.batches_left_undeleted,
        retry_executions=len(executions),
        succeeded=statuses["succeeded"],
        failed=statuses["failed"],
        pending=0,
        lost=expected - len(deliveries),
        duplicate_successes_after_crashes=duplicates,
        publish_seconds=round(published_at - started, 1),
        settle_seconds=round(settled_at - started, 1),
    )
