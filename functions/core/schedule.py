"""When each attempt of a delivery series is made: the profile's retry table, as a value.

`delays_seconds[n - 1]` is the wait before attempt n (the first is 0: immediate). The
deliver function builds it from the profile; the local stack builds it scaled, so that
`next_retry_at` matches its faster Wait states. Nothing here knows which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetrySchedule:
    delays_seconds: tuple[float, ...]

    @property
    def max_attempts(self) -> int:
        return len(self.delays_seconds)

    def is_last(self, number: int) -> bool:
        return number >= self.max_attempts

    def next_attempt_at(self, number: int, attempted_at: datetime) -> datetime | None:
        """When attempt `number + 1` is due after attempt `number` was made; None after the last."""
        if self.is_last(number):
            return None
        return attempted_at + timedelta(seconds=self.delays_seconds[number])
