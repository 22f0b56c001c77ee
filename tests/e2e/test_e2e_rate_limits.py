"""Over `dovecote local`: an endpoint's rate limit spreads a burst over time, never more than the limit in any
second, and the deliveries that waited are not failures. The limit is in real seconds: the stack's time scale
(which shortens the retry table) does not apply to it."""

from __future__ import annotations

import pytest

from tests.e2e.e2e_support import DEFAULT_PROFILE, Receiver, StackPool, eventually

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

EVENT_TYPE = "order.created"
LIMIT = 10
EVENTS = 100
DRAIN_TIMEOUT_SECONDS = 90


def most_in_any_second(moments: list[float]) -> int:
    ordered = sorted(moments)
    return max(sum(1 for later in ordered[i:] if later - start < 1.0) for i, start in enumerate(ordered))


def test_a_hundred_events_to_an_endpoint_limited_to_ten_a_second_arrive_over_nine_seconds_without_a_failure(
    stacks: StackPool, receiver: Receiver
) -> None:
    stack = stacks.get(DEFAULT_PROFILE)
    url, endpoint = receiver.add()
    with stack.client() as dovecote:
        hook = dovecote.webhooks.create(url, [EVENT_TYPE], rate_limit_per_second=LIMIT)
        assert hook.rate_limit_per_second == LIMIT
        batch = dovecote.events.send_batch([{"type": EVENT_TYPE, "data": {"n": n}} for n in range(EVENTS)])
        assert not batch.failed

        eventually(
            lambda: len(endpoint.requests) >= EVENTS,
            timeout=DRAIN_TIMEOUT_SECONDS,
            interval=0.5,
            message=f"{EVENTS} deliveries",
        )
        deliveries = list(dovecote.webhooks.deliveries(hook.id))

    arrivals = [request.received_at for request in endpoint.requests]
    assert len(arrivals) == EVENTS
    assert max(arrivals) - min(arrivals) >= (EVENTS - LIMIT) / LIMIT  # 100 at 10 a second: 9 s at least
    first = min(arrivals)
    assert most_in_any_second(arrivals) <= LIMIT, [round(t - first, 3) for t in sorted(arrivals)]
    assert len(deliveries) == EVENTS
    assert {(d.status, d.attempt_count, d.response_status) for d in deliveries} == {("succeeded", 1, 200)}
