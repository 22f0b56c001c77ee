"""Endpoint rate limits: when each delivery to a limited endpoint may be sent.

An endpoint's `rate_limit_per_second` (or its application's default) is kept by spacing its sends:
every request goes out at its own slot, slots `interval_us(limit)` apart, handed out in order by one
DynamoDB item per endpoint (functions/store/rate_limits.py). Slots are spaced 1/limit plus
`HEADROOM`, so that a request that leaves a little late (network, scheduling) still never puts more
than `limit` requests in any one-second window.

- Attempt 1 (the deliveries queue): one reservation per limited endpoint per deliver batch, for the
  batch's deliveries that hold no slot yet. Those whose slot is within `PACING_HORIZON_SECONDS` are
  sent in this invocation, each at its slot. The others go back to the queue as new messages (so
  they use up no receive toward the dead-letter queue) carrying their slot (`DeliveryMessage.slot_at`)
  and delayed to come back shortly before it; when it has passed by then, they reserve again (the
  missed slot stays unused: never a second request in it). A reservation is refused when the
  endpoint's slots are taken more than `RESERVE_AHEAD_SECONDS` ahead: those deliveries come back
  after `REFUSED_DELAY_SECONDS` and ask again. Waiting is not failing: no attempt is logged and the
  delivery stays `pending`.
- Retries (a state machine task attempting a group): one reservation for the group's members, each
  member sent at its slot, waiting at most `RATE_LIMIT_WAIT_SECONDS` (the deliver function's timeout
  allows for it). A member whose slot is later than that is not sent in this task: it moves to the
  group's next attempt, and at the last attempt it ends `failed`, saying so. This only happens when an
  endpoint's retries alone exceed what its limit lets through in that time.
- An endpoint without a limit costs nothing: no reservation, no wait.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from functions.core.constants import MAX_RATE_LIMIT_PER_SECOND, RATE_LIMIT_WAIT_SECONDS
from functions.store.rate_limits import RateLimitStore

MICROS = 1_000_000
HEADROOM = 0.15
"""Slots are 1.15/limit seconds apart: a request may arrive up to 150 ms later than another (a thread woken late,
a new TLS connection beside a reused one) without putting more than `limit` requests in any one-second window."""
LEAD_SECONDS = 0.15
"""A fresh reservation's first slot is at least this far ahead: time to read the delivery before sending."""
PACING_HORIZON_SECONDS = 3.0
"""Attempt 1 is sent in this invocation when its slot is at most this far ahead; later ones are requeued."""
RETURN_EARLY_SECONDS = 2
"""A requeued delivery comes back this much before its slot (SQS delays are whole seconds)."""
RESERVE_AHEAD_SECONDS = 10.0
"""Attempt 1 takes no slot further ahead than this: retries always find one within their wait."""
REFUSED_DELAY_SECONDS = 5
"""When a reservation is refused, the deliveries ask again this much later."""
MAX_QUEUE_DELAY_SECONDS = 900
"""SQS's longest DelaySeconds."""
LATE_SECONDS = 0.03
"""A request is sent at most this long after its slot: a thread that wakes later (a busy machine) gives the
slot up and takes a new one, rather than sending close behind the next slot's request."""
NEW_SLOTS = 5
"""How many times one request gives a missed slot up for a new one before it is sent anyway."""


def interval_us(limit: int) -> int:
    """Microseconds between two sends to an endpoint limited to `limit` a second."""
    return math.ceil(MICROS * (1 + HEADROOM) / min(limit, MAX_RATE_LIMIT_PER_SECOND))


def queue_delay(slot_us: int | None, now_us: int) -> int:
    """The DelaySeconds of a requeued delivery: back shortly before its slot (or later, for a refused one)."""
    if slot_us is None:
        return REFUSED_DELAY_SECONDS
    seconds = (slot_us - now_us) // MICROS - RETURN_EARLY_SECONDS
    return int(max(1, min(MAX_QUEUE_DELAY_SECONDS, seconds)))


K = TypeVar("K", bound=Hashable)


@dataclass
class Admission(Generic[K]):
    """A batch's deliveries to one limited endpoint: those to send now and those to requeue."""

    send: dict[K, float] = field(default_factory=dict)
    """Each delivery to send in this invocation, with its slot (epoch seconds)."""
    later: dict[K, tuple[int | None, int]] = field(default_factory=dict)
    """Each delivery to requeue: its slot (epoch µs; None when it holds none) and its delay in seconds."""


@dataclass(frozen=True)
class RateLimiter:
    store: RateLimitStore
    now: Callable[[], float] = time.time

    def admit(self, application_id: str, webhook_id: str, limit: int, held: Mapping[K, int | None]) -> Admission[K]:
        """Slots for a batch's deliveries to one endpoint; `held` gives each one's slot from an earlier
        batch (epoch µs) or None. At most one reservation, for those without a usable slot."""
        now_us = int(self.now() * MICROS)
        horizon_us = now_us + int(PACING_HORIZON_SECONDS * MICROS)
        lead_us = int(LEAD_SECONDS * MICROS)
        admission: Admission[K] = Admission()
        needing: list[K] = []
        for key, slot in held.items():
            if slot is None or slot < now_us + lead_us // 3:  # none, or missed: it is not sent late
                needing.append(key)
            elif slot <= horizon_us:
                admission.send[key] = slot / MICROS
            else:
                admission.later[key] = (slot, queue_delay(slot, now_us))
        if not needing:
            return admission
        step = interval_us(limit)
        first = self.store.reserve(
            application_id,
            webhook_id,
            count=len(needing),
            interval_us=step,
            earliest_us=now_us + lead_us,
            latest_start_us=now_us + int(RESERVE_AHEAD_SECONDS * MICROS),
        )
        for index, key in enumerate(needing):
            slot = None if first is None else first + index * step
            if slot is not None and slot <= horizon_us:
                admission.send[key] = slot / MICROS
            else:
                admission.later[key] = (slot, queue_delay(slot, now_us))
        return admission

    def wait_for(
        self, application_id: str, webhook_id: str, limit: int, slot: float, sleep: Callable[[float], None]
    ) -> float:
        """Sleep until `slot` (epoch seconds); when woken more than `LATE_SECONDS` after it, take a new slot (one
        write) and wait for that instead, up to `NEW_SLOTS` times. Returns the slot the request goes out at."""
        for _ in range(NEW_SLOTS):
            wait = slot - self.now()
            if wait > 0:
                sleep(wait)
            if self.now() - slot <= LATE_SECONDS:
                return slot
            earliest = int((self.now() + LATE_SECONDS) * MICROS)
            first = self.store.reserve(
                application_id, webhook_id, count=1, interval_us=interval_us(limit), earliest_us=earliest
            )
            slot = earliest / MICROS if first is None else first / MICROS
        wait = slot - self.now()
        if wait > 0:
            sleep(wait)
        return slot

    def pace(self, application_id: str, webhook_id: str, limit: int, count: int) -> list[float | None]:
        """Slots (epoch seconds) for `count` retries to one endpoint, in order; None for those whose slot is
        later than `RATE_LIMIT_WAIT_SECONDS` from now (they are not sent in this task)."""
        now_us = int(self.now() * MICROS)
        step = interval_us(limit)
        first = self.store.reserve(
            application_id, webhook_id, count=count, interval_us=step, earliest_us=now_us + int(LEAD_SECONDS * MICROS)
        )
        if first is None:  # an unbounded reservation is never refused
            return [None] * count
        latest = now_us + RATE_LIMIT_WAIT_SECONDS * MICROS
        slots = (first + index * step for index in range(count))
        return [slot / MICROS if slot <= latest else None for slot in slots]
