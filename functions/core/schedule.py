"""When each attempt of a delivery series is made: the profile's retry table, as a value.

`delays_seconds[n - 1]` is the wait before attempt n (the first is 0: immediate). The
deliver function builds it from the profile; the local stack builds it scaled (`time_scale`),
so that `next_retry_at` matches its faster Wait states, and a receiver's `Retry-After` is
scaled the same way.

The deliveries of one endpoint are attempted together (a retry group), each at its own due
time: `next_attempts_at` gives every member the table's delay from its own `attempted_at` (not
from when the step ended), so each delivery follows the table. A throttling answer
(`Retry-After`) delays the whole group to no sooner than it asked, capped at the table's longest
delay. The group's Wait ends at the earliest of them; the deliver function sends each member as
much later as its own due time is (functions/pipeline/delivery.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.core.models import Attempt


@dataclass(frozen=True)
class RetrySchedule:
    delays_seconds: tuple[float, ...]
    time_scale: float = 1.0
    """The local stack's factor, already applied to `delays_seconds`; applied to `Retry-After` here."""

    @property
    def max_attempts(self) -> int:
        return len(self.delays_seconds)

    @property
    def longest_delay_seconds(self) -> float:
        """The most any attempt waits: the cap on a receiver's `Retry-After` (scaled)."""
        return max(self.delays_seconds, default=0.0)

    def is_last(self, number: int) -> bool:
        return number >= self.max_attempts

    def next_attempt_at(self, number: int, attempted_at: datetime) -> datetime | None:
        """When attempt `number + 1` is due after attempt `number` was made; None after the last."""
        if self.is_last(number):
            return None
        return attempted_at + timedelta(seconds=self.delays_seconds[number])

    def next_attempts_at(self, number: int, attempts: Sequence[Attempt]) -> list[datetime]:
        """When attempt `number + 1` of each member of a group is due, after their attempts `number`
        (`attempts`, in the same order); empty after the last. The table's delay from each attempt,
        or later when an answer asked for more (`retry_after_seconds`, counted from when that answer
        came: it delays every member), to the millisecond (rounded up: never sooner than asked)."""
        if self.is_last(number) or not attempts:
            return []
        delay = timedelta(seconds=self.delays_seconds[number])
        floors = [
            attempt.attempted_at
            + timedelta(milliseconds=attempt.latency_ms)
            + timedelta(seconds=min(attempt.retry_after_seconds * self.time_scale, self.longest_delay_seconds))
            for attempt in attempts
            if attempt.retry_after_seconds is not None
        ]
        floor = max(floors, default=None)
        return [
            _up_to_millisecond(
                attempt.attempted_at + delay if floor is None else max(attempt.attempted_at + delay, floor)
            )
            for attempt in attempts
        ]


def _up_to_millisecond(moment: datetime) -> datetime:
    """`moment` rounded up to the millisecond: what the state machine's timestamps and the API show."""
    spare = moment.microsecond % 1000
    return moment if spare == 0 else moment + timedelta(microseconds=1000 - spare)
