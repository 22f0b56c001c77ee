"""When each member's next attempt is due: the table's delay from its own attempt, or later when a receiver asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.core.models import Attempt
from functions.core.schedule import RetrySchedule

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TABLE = RetrySchedule((0, 5, 300, 3600))


def attempt(offset_ms: int = 0, retry_after: int | None = None, latency_ms: int = 0) -> Attempt:
    return Attempt(
        number=1,
        attempted_at=AT + timedelta(milliseconds=offset_ms),
        latency_ms=latency_ms,
        retry_after_seconds=retry_after,
    )


def test_a_lone_attempts_next_is_due_after_the_tables_delay() -> None:
    assert TABLE.next_attempts_at(1, [attempt()]) == [AT + timedelta(seconds=5)]
    assert TABLE.next_attempts_at(2, [attempt()]) == [AT + timedelta(seconds=300)]


def test_each_member_of_a_group_is_due_the_tables_delay_after_its_own_attempt() -> None:
    dues = TABLE.next_attempts_at(1, [attempt(0), attempt(300), attempt(800)])

    assert dues == [AT + timedelta(seconds=5, milliseconds=offset) for offset in (0, 300, 800)]


def test_retry_after_delays_every_member_counted_from_the_answer() -> None:
    attempts = [attempt(0), attempt(200, retry_after=60, latency_ms=50), attempt(100, retry_after=30)]

    assert TABLE.next_attempts_at(1, attempts) == [AT + timedelta(milliseconds=250) + timedelta(seconds=60)] * 3


def test_retry_after_shorter_than_the_table_does_not_advance_the_attempt() -> None:
    assert TABLE.next_attempts_at(2, [attempt(retry_after=1)]) == [AT + timedelta(seconds=300)]


def test_retry_after_is_capped_at_the_longest_delay_of_the_table() -> None:
    assert TABLE.next_attempts_at(1, [attempt(retry_after=7 * 86_400)]) == [AT + timedelta(seconds=3600)]


def test_the_time_scale_scales_retry_after_like_the_table() -> None:
    scaled = RetrySchedule(tuple(seconds * 0.01 for seconds in (0, 5, 300, 3600)), time_scale=0.01)

    assert scaled.next_attempts_at(1, [attempt(retry_after=120)]) == [AT + timedelta(seconds=1.2)]
    assert scaled.next_attempts_at(1, [attempt(retry_after=999_999)]) == [AT + timedelta(seconds=36)]


def test_the_due_time_is_rounded_up_to_the_millisecond() -> None:
    odd = Attempt(number=1, attempted_at=AT + timedelta(microseconds=1), latency_ms=0)

    assert TABLE.next_attempts_at(1, [odd]) == [AT + timedelta(seconds=5, milliseconds=1)]


def test_after_the_last_attempt_nothing_is_due() -> None:
    assert TABLE.next_attempts_at(4, [attempt()]) == []
    assert TABLE.next_attempts_at(1, []) == []
