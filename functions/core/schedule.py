"""When each attempt of a delivery series is made: the profile's retry table, as a value.

`delays_seconds[n - 1]` is the wait before attempt n (the first is 0: immediate). The
deliver function builds it from the profile; the local stack builds it scaled (`time_scale`),
so that `next_retry_at` matches its faster Wait states, and a receiver's `Retry-After` is
scaled the same way.

The deliveries of one endpoint are attempted together (a retry group), so their next attempt
is due at one moment: `next_group_attempt_at`. It is anchored on the attempts themselves (the
middle of the span of their `attempted_at`), not on when the step ended, so each delivery's
attempts follow the table within half that span; a throttling answer (`Retry-After`) delays
the whole group to no sooner than it asked, capped at the table's longest delay.
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

    def next_group_attempt_at(self, number: int, attempts: Sequence[Attempt]) -> datetime | None:
        """When attempt `number + 1` of a group is due, after its members' attempts `number`
        (`attempts`); None after the last or for no attempts. The table's delay from the middle of
        the attempts' span, or later when an answer asked for more (`retry_after_seconds`, counted
        from when that answer came), to the millisecond (rounded up: never sooner than asked)."""
        if self.is_last(number) or not attempts:
            return None
        earliest = min(attempt.attempted_at for attempt in attempts)
        latest = max(attempt.attempted_at for attempt in attempts)
        due = earliest + (latest - earliest) / 2 + timedelta(seconds=self.delays_seconds[number])
        for attempt in attempts:
            if attempt.retry_after_seconds is not None:
                asked = min(attempt.retry_after_seconds * self.time_scale, self.longest_delay_seconds)
                answered_at = attempt.attempted_at + timedelta(milliseconds=attempt.latency_ms)
                due = max(due, answered_at + timedelta(seconds=asked))
        return _up_to_millisecond(due)


def _up_to_millisecond(moment: datetime) -> datetime:
    """`moment` rounded up to the millisecond: what the state machine's timestamps and the API show."""
    spare = moment.microsecond % 1000
    return moment if spare == 0 else moment + timedelta(microseconds=1000 - spare)
