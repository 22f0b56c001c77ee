"""Rate limits: which deliveries to a limited endpoint are sent now, at which slot, and which wait on the queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pytest

from functions.core.constants import MAX_RATE_LIMIT_PER_SECOND, RATE_LIMIT_WAIT_SECONDS
from functions.core.models import Webhook
from functions.pipeline.rate_limit import (
    LATE_SECONDS,
    LEAD_SECONDS,
    MAX_QUEUE_DELAY_SECONDS,
    NEW_SLOTS,
    PACING_HORIZON_SECONDS,
    REFUSED_DELAY_SECONDS,
    RESERVE_AHEAD_SECONDS,
    RETURN_EARLY_SECONDS,
    RateLimiter,
    interval_us,
    queue_delay,
)
from tests.unit.records import webhook_record

NOW = 1_800_000_000.0
NOW_US = int(NOW * 1_000_000)
LEAD_US = int(LEAD_SECONDS * 1_000_000)


@dataclass
class FakeSlots:
    """The store's contract in memory: consecutive slots from the next free one, refused past `latest_start_us`."""

    next_free_us: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)

    def reserve(self, application_id: str, webhook_id: str, **options: Any) -> int | None:
        self.calls.append({"endpoint": (application_id, webhook_id), **options})
        first = max(self.next_free_us, options["earliest_us"])
        latest = options.get("latest_start_us")
        if latest is not None and first > latest:
            return None
        self.next_free_us = first + options["count"] * options["interval_us"]
        return first


def limiter(slots: FakeSlots, now: float = NOW) -> RateLimiter:
    return RateLimiter(slots, now=lambda: now)  # type: ignore[arg-type]


def most_in_any_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for later in ordered[i:] if later - start < 1.0) for i, start in enumerate(ordered))


def test_slots_are_one_over_the_limit_apart_plus_headroom() -> None:
    assert interval_us(10) == 115_000
    assert interval_us(1) == 1_150_000
    assert interval_us(MAX_RATE_LIMIT_PER_SECOND) == interval_us(MAX_RATE_LIMIT_PER_SECOND * 10) == 115


def test_a_batch_to_an_idle_endpoint_takes_one_reservation_and_is_sent_slot_after_slot() -> None:
    slots = FakeSlots()

    admission = limiter(slots).admit("acme", "wh_1", 10, {"a": None, "b": None, "c": None})

    (call,) = slots.calls
    assert call == {
        "endpoint": ("acme", "wh_1"),
        "count": 3,
        "interval_us": 115_000,
        "earliest_us": NOW_US + LEAD_US,
        "latest_start_us": NOW_US + int(RESERVE_AHEAD_SECONDS * 1_000_000),
    }
    first = NOW + LEAD_SECONDS
    assert admission.send == pytest.approx({"a": first, "b": first + 0.115, "c": first + 0.23})
    assert admission.later == {}


def test_slots_past_the_pacing_horizon_wait_on_the_queue_holding_their_slot() -> None:
    slots = FakeSlots()

    admission = limiter(slots).admit("acme", "wh_1", 1, dict.fromkeys("abcdef"))

    step = 1_150_000
    sent = [key for key in "abcdef" if NOW_US + LEAD_US + "abcdef".index(key) * step <= NOW_US + 3_000_000]
    assert list(admission.send) == sent == ["a", "b", "c"]
    assert set(admission.later) == {"d", "e", "f"}
    for index, key in enumerate("def", start=3):
        slot, delay = admission.later[key]
        assert slot == NOW_US + LEAD_US + index * step
        assert delay == max(1, (slot - NOW_US) // 1_000_000 - RETURN_EARLY_SECONDS)
        assert NOW + delay <= slot / 1_000_000 - 1  # back before its slot, to be sent at it


def test_a_delivery_back_with_its_slot_is_sent_at_it_without_another_reservation() -> None:
    slots = FakeSlots()
    held = NOW_US + 2_000_000

    admission = limiter(slots).admit("acme", "wh_1", 1, {"a": held})

    assert slots.calls == []
    assert admission.send == {"a": held / 1_000_000}


def test_a_delivery_back_too_early_waits_again_for_the_same_slot_without_a_reservation() -> None:
    slots = FakeSlots()
    held = NOW_US + int((PACING_HORIZON_SECONDS + 30) * 1_000_000)

    admission = limiter(slots).admit("acme", "wh_1", 1, {"a": held})

    assert slots.calls == []
    assert admission.later == {"a": (held, 30 + int(PACING_HORIZON_SECONDS) - RETURN_EARLY_SECONDS)}


def test_a_delivery_back_after_its_slot_passed_reserves_a_new_one_instead_of_sending_late() -> None:
    slots = FakeSlots(next_free_us=NOW_US)

    admission = limiter(slots).admit("acme", "wh_1", 10, {"late": NOW_US - 400_000, "new": None})

    (call,) = slots.calls
    assert call["count"] == 2
    assert set(admission.send) == {"late", "new"}
    assert min(admission.send.values()) >= NOW + LEAD_SECONDS


def test_a_refused_reservation_sends_nothing_and_asks_again_later() -> None:
    slots = FakeSlots(next_free_us=NOW_US + int((RESERVE_AHEAD_SECONDS + 5) * 1_000_000))

    admission = limiter(slots).admit("acme", "wh_1", 10, {"a": None, "b": None})

    assert admission.send == {}
    assert admission.later == {"a": (None, REFUSED_DELAY_SECONDS), "b": (None, REFUSED_DELAY_SECONDS)}


def test_queue_delays_are_whole_seconds_within_what_sqs_allows() -> None:
    assert queue_delay(None, NOW_US) == REFUSED_DELAY_SECONDS
    assert queue_delay(NOW_US + 3_500_000, NOW_US) == 1
    assert queue_delay(NOW_US + 100_000_000, NOW_US) == 100 - RETURN_EARLY_SECONDS
    assert queue_delay(NOW_US + 5_000_000_000, NOW_US) == MAX_QUEUE_DELAY_SECONDS


def test_batch_after_batch_no_second_holds_more_sends_than_the_limit() -> None:
    slots = FakeSlots()
    sent: list[float] = []
    clock = NOW
    for _ in range(30):  # 30 batches of 10, each admitted 0.2 s after the one before
        admission = limiter(slots, clock).admit("acme", "wh_1", 10, dict.fromkeys(range(10)))
        sent.extend(admission.send.values())
        clock += 0.2

    assert len(sent) > 10
    assert most_in_any_second(sent) <= 10
    assert all(later - earlier >= 0.115 - 1e-6 for earlier, later in pairwise(sorted(sent)))


def test_retries_are_paced_and_those_past_the_wait_get_no_slot() -> None:
    slots = FakeSlots(next_free_us=NOW_US + (RATE_LIMIT_WAIT_SECONDS - 2) * 1_000_000)

    paced = limiter(slots).pace("acme", "wh_1", 1, 4)

    (call,) = slots.calls
    assert "latest_start_us" not in call  # retries always hold their slots
    first = NOW + RATE_LIMIT_WAIT_SECONDS - 2
    assert paced == pytest.approx([first, first + 1.15, None, None])


def _webhook(**limits: int | None) -> Webhook:
    return webhook_record(**limits)


@pytest.mark.parametrize(("own", "default", "effective"), [(None, None, None), (5, None, 5), (None, 7, 7), (5, 7, 5)])
def test_an_endpoint_keeps_to_its_own_limit_else_its_applications_default(
    own: int | None, default: int | None, effective: int | None
) -> None:
    webhook = _webhook(rate_limit_per_second=own, application_rate_limit_per_second=default)
    assert webhook.effective_rate_limit == effective


@dataclass
class ManualClock:
    """The limiter's time under test: `sleep` records each wait and moves time on by it (and by `oversleep` more,
    the first times: a thread woken late), unless `frozen`: then time stands still (threads that wait at once)."""

    now: float = NOW
    frozen: bool = False
    oversleep: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if not self.frozen:
            self.now += seconds + (self.oversleep.pop(0) if self.oversleep else 0.0)


def test_a_request_woken_on_time_goes_out_at_its_slot_without_another_write() -> None:
    slots = FakeSlots()
    clock = ManualClock(oversleep=[LATE_SECONDS / 2])

    sent_at = RateLimiter(slots, now=clock.time).wait_for("acme", "wh_1", 10, NOW + 1, clock.sleep)  # type: ignore[arg-type]

    assert sent_at == NOW + 1
    assert slots.calls == []


def test_a_request_woken_too_late_gives_its_slot_up_for_a_new_one_rather_than_crowd_the_next() -> None:
    slots = FakeSlots(next_free_us=NOW_US + 2_000_000)
    clock = ManualClock(oversleep=[0.2])

    sent_at = RateLimiter(slots, now=clock.time).wait_for("acme", "wh_1", 10, NOW + 1, clock.sleep)  # type: ignore[arg-type]

    (call,) = slots.calls
    assert call["count"] == 1
    assert sent_at == pytest.approx(NOW + 2)  # the endpoint's next free slot, after the ones others hold
    assert clock.now == pytest.approx(NOW + 2)


def test_a_request_that_keeps_waking_late_is_sent_after_a_bounded_number_of_new_slots() -> None:
    slots = FakeSlots()
    clock = ManualClock(oversleep=[1.0] * (NEW_SLOTS + 2))

    RateLimiter(slots, now=clock.time).wait_for("acme", "wh_1", 10, NOW + 1, clock.sleep)  # type: ignore[arg-type]

    assert len(slots.calls) == NEW_SLOTS
