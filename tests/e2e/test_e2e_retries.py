"""A failing endpoint is retried on the profile's table (scaled by --time-scale), then fails;
deleting the webhook mid-retry cancels the delivery; a 429's `Retry-After` delays the next attempt."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest

from functions.core.profile import load_profile
from tests.e2e.e2e_support import RETRY_PROFILE, TIME_SCALE, Receiver, StackPool, eventually

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

EVENT_TYPE = "agent.crashed"
DELIVERY_HEADER = "x-webhook-delivery"  # the mutx profile's delivery id header
SCHEDULE = load_profile(RETRY_PROFILE).retry_schedule_seconds
# Each gap is the scaled Wait plus one pass through the pipeline (Step Functions → deliver → HTTP).
GAP_SLACK_SECONDS = 1.0
GAP_SLACK_RATIO = 0.25


def test_a_failing_endpoint_gets_every_attempt_of_the_table_then_the_delivery_fails(
    stacks: StackPool, receiver: Receiver
) -> None:
    stack = stacks.get(RETRY_PROFILE)
    url, endpoint = receiver.add(status=500)
    scaled_total = sum(SCHEDULE) * TIME_SCALE
    with stack.client() as dovecote:
        hook = dovecote.webhooks.create(url, [EVENT_TYPE])
        dovecote.events.send(EVENT_TYPE, {"agent": "a-1"})

        eventually(
            lambda: len(endpoint.requests) >= len(SCHEDULE),
            timeout=scaled_total + 30,
            message=f"{len(SCHEDULE)} attempts",
        )
        delivery_id = endpoint.requests[0].headers[DELIVERY_HEADER]
        delivery = eventually(
            lambda: (found := dovecote.deliveries.get(delivery_id)).status != "pending" and found,
            message="the delivery to end",
        )
        listed = next(iter(dovecote.webhooks.deliveries(hook.id)))

    gaps = [later.received_at - earlier.received_at for earlier, later in pairwise(endpoint.requests)]
    expected = [seconds * TIME_SCALE for seconds in SCHEDULE[1:]]
    for gap, wait in zip(gaps, expected, strict=True):
        assert wait - 0.02 <= gap <= wait * (1 + GAP_SLACK_RATIO) + GAP_SLACK_SECONDS, (gaps, expected)
    assert len({request.headers[DELIVERY_HEADER] for request in endpoint.requests}) == 1
    assert delivery.status == "failed"
    assert delivery.attempts is not None
    assert [attempt.number for attempt in delivery.attempts] == list(range(1, len(SCHEDULE) + 1))
    assert {attempt.response_status for attempt in delivery.attempts} == {500}
    scheduled = [
        (attempt.next_retry_at - attempt.attempted_at).total_seconds()
        for attempt in delivery.attempts
        if attempt.next_retry_at and attempt.attempted_at
    ]
    assert scheduled == pytest.approx(expected, abs=0.01), "next_retry_at follows the scaled table"
    assert listed.id == delivery_id
    assert listed.status == "failed"
    last_line = f"attempt {len(SCHEDULE)}/{len(SCHEDULE)} {delivery_id} → {url} 500"
    assert any(line.startswith(last_line, 9) and line.endswith("failed") for line in stack.output().splitlines())


def test_deleting_the_webhook_mid_retry_cancels_its_delivery(stacks: StackPool, receiver: Receiver) -> None:
    stack = stacks.get(RETRY_PROFILE)
    url, endpoint = receiver.add(status=503)
    with stack.client() as dovecote:
        hook = dovecote.webhooks.create(url, [EVENT_TYPE])
        dovecote.events.send(EVENT_TYPE, {"agent": "a-2"})
        # Attempt 3 is followed by the table's longest wait (3600 s, scaled): delete during it.
        eventually(lambda: len(endpoint.requests) >= 3, timeout=30, message="three attempts")
        delivery_id = endpoint.requests[0].headers[DELIVERY_HEADER]
        dovecote.webhooks.delete(hook.id)

        delivery = eventually(
            lambda: (found := dovecote.deliveries.get(delivery_id)).status != "pending" and found,
            message="the delivery to end",
        )
        assert delivery.status == "cancelled"
        attempts_at_cancel = len(endpoint.requests)
        # The last wait would have ended by now: no attempt may follow the cancellation.
        time.sleep(SCHEDULE[3] * TIME_SCALE + GAP_SLACK_SECONDS)
        assert len(endpoint.requests) == attempts_at_cancel
        assert dovecote.deliveries.get(delivery_id).status == "cancelled"


@pytest.mark.parametrize(
    "retry_after",
    [
        2,  # shorter than the table's delay before attempt 2: the table's delay stands
        600,  # longer: the next attempt waits for it (600 s x the time scale)
    ],
)
def test_a_429_with_retry_after_delays_the_next_attempt_no_sooner_than_it_asks(
    stacks: StackPool, receiver: Receiver, retry_after: int
) -> None:
    stack = stacks.get(RETRY_PROFILE)
    url, endpoint = receiver.add(status=200)
    endpoint.replies.append((429, {"Retry-After": str(retry_after)}))
    with stack.client() as dovecote:
        dovecote.webhooks.create(url, [EVENT_TYPE])
        dovecote.events.send(EVENT_TYPE, {"agent": f"throttled-{retry_after}"})
        eventually(lambda: len(endpoint.requests) >= 2, timeout=30, message="the attempt after the 429")
        delivery_id = endpoint.requests[0].headers[DELIVERY_HEADER]
        delivery = eventually(
            lambda: (found := dovecote.deliveries.get(delivery_id)).status != "pending" and found,
            message="the delivery to end",
        )

    assert delivery.status == "succeeded"
    assert delivery.attempts is not None
    first, second = delivery.attempts
    assert (first.response_status, second.response_status) == (429, 200)
    assert first.retry_after_seconds == retry_after  # the log shows what the receiver asked
    assert second.retry_after_seconds is None
    assert first.next_retry_at is not None
    assert first.attempted_at is not None
    assert second.attempted_at is not None
    # Due no sooner than the receiver asked (counted from its answer), nor than the table says.
    asked = retry_after * TIME_SCALE
    delay = (first.next_retry_at - first.attempted_at).total_seconds()
    assert delay >= max(asked, SCHEDULE[1] * TIME_SCALE)
    assert delay <= max(asked, SCHEDULE[1] * TIME_SCALE) + (first.latency_ms or 0) / 1000 + 0.002
    assert (second.attempted_at - first.attempted_at).total_seconds() >= asked
    assert second.attempted_at >= first.next_retry_at  # the Wait waited until the logged due time


def test_every_member_of_a_retry_group_is_retried_no_sooner_than_its_own_due_time(
    stacks: StackPool, receiver: Receiver
) -> None:
    stack = stacks.get(RETRY_PROFILE)
    url, endpoint = receiver.add(status=200)
    members = 5
    endpoint.replies.extend([(503, {})] * members)  # every delivery's first attempt fails
    with stack.client() as dovecote:
        dovecote.webhooks.create(url, [EVENT_TYPE])
        dovecote.events.send_batch([{"type": EVENT_TYPE, "data": {"agent": f"g-{n}"}} for n in range(members)])
        eventually(lambda: len(endpoint.requests) >= 2 * members, timeout=30, message="every second attempt")
        ids = {request.headers[DELIVERY_HEADER] for request in endpoint.requests}
        deliveries = [
            eventually(
                lambda delivery_id=delivery_id: (
                    (found := dovecote.deliveries.get(delivery_id)).status != "pending" and found
                ),
                message="the delivery to end",
            )
            for delivery_id in ids
        ]

    assert len(deliveries) == members
    for delivery in deliveries:
        assert delivery.status == "succeeded"
        assert delivery.attempts is not None
        first, second = delivery.attempts
        assert first.next_retry_at is not None
        assert first.attempted_at is not None
        assert second.attempted_at is not None
        # Its own due time: the table's delay after its own attempt, not after the group's first.
        assert (first.next_retry_at - first.attempted_at).total_seconds() == pytest.approx(
            SCHEDULE[1] * TIME_SCALE, abs=0.002
        )
        assert second.attempted_at >= first.next_retry_at
