"""Each member of a retry group is sent at its own due time: the Attempt task starts when the group's
Wait ends (the earliest member's due time) and holds every other member back by the difference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from functions.core.constants import MAX_MEMBER_HOLD_SECONDS, RATE_LIMIT_WAIT_SECONDS
from functions.pipeline.delivery import DeliveryWorker, GroupWake
from tests.unit.records import delivery_record

GROUP_DUE = datetime(2026, 12, 2, 12, 0, 5, tzinfo=UTC)
TASK_STARTED = GROUP_DUE + timedelta(milliseconds=80)


def held_seconds(
    next_retry_at: datetime | None, *, prepared_after: timedelta, task_started: datetime = TASK_STARTED
) -> list[float]:
    """What the worker sleeps before sending a member due at `next_retry_at`, once its reads took `prepared_after`."""
    sleeps: list[float] = []
    worker = DeliveryWorker(
        log=mock.Mock(),
        webhooks=mock.Mock(),
        events=mock.Mock(),
        attempter=mock.Mock(),
        health=mock.Mock(),
        executions=mock.Mock(),
        clock=lambda: task_started + prepared_after,
        sleep=sleeps.append,
    )
    worker._hold(delivery_record(next_retry_at=next_retry_at), GroupWake(due=GROUP_DUE, started_at=task_started))
    return sleeps


def test_a_member_due_later_than_the_group_is_held_back_until_its_own_due_time() -> None:
    sleeps = held_seconds(GROUP_DUE + timedelta(milliseconds=1500), prepared_after=timedelta(milliseconds=200))

    # The task started 80 ms after the Wait ended and the member's reads took 200 ms: 1.22 s to go.
    assert sleeps == [pytest.approx(1.22)]


def test_a_task_that_starts_late_sends_a_member_whose_due_time_has_passed_at_once() -> None:
    two_seconds_late = GROUP_DUE + timedelta(seconds=2)

    assert (
        held_seconds(GROUP_DUE + timedelta(seconds=1.5), prepared_after=timedelta(0), task_started=two_seconds_late)
        == []
    )
    assert held_seconds(
        GROUP_DUE + timedelta(seconds=3), prepared_after=timedelta(0), task_started=two_seconds_late
    ) == [pytest.approx(1.0)]


def test_a_task_started_before_its_groups_due_time_keeps_the_members_apart_as_their_due_times_are() -> None:
    early = GROUP_DUE - timedelta(seconds=4)  # a Wait that ended early: only the members' offsets are kept

    assert held_seconds(GROUP_DUE + timedelta(seconds=1), prepared_after=timedelta(0), task_started=early) == [
        pytest.approx(1.0)
    ]


def test_the_earliest_member_and_one_whose_reads_took_longer_than_its_offset_are_sent_at_once() -> None:
    assert held_seconds(GROUP_DUE, prepared_after=timedelta(milliseconds=10)) == []
    assert held_seconds(GROUP_DUE + timedelta(milliseconds=100), prepared_after=timedelta(milliseconds=300)) == []


def test_a_member_without_a_logged_due_time_is_not_held() -> None:
    assert held_seconds(None, prepared_after=timedelta(0)) == []


def test_no_member_is_held_longer_than_the_cap_the_function_timeout_allows_for() -> None:
    sleeps = held_seconds(GROUP_DUE + timedelta(hours=1), prepared_after=timedelta(0))

    assert sleeps == [pytest.approx(MAX_MEMBER_HOLD_SECONDS - 0.08)]  # less the 80 ms the task started late


def test_a_member_paced_apart_by_its_endpoints_rate_limit_is_still_held_until_its_own_due_time() -> None:
    # One invocation paces a limited endpoint's attempts over up to RATE_LIMIT_WAIT_SECONDS, so its
    # group's due times can be that far apart: the hold covers it rather than send the last one early.
    paced_last = GROUP_DUE + timedelta(seconds=RATE_LIMIT_WAIT_SECONDS)

    assert held_seconds(paced_last, prepared_after=timedelta(0)) == [pytest.approx(RATE_LIMIT_WAIT_SECONDS - 0.08)]
