"""Values several layers must agree on, in one place.

The event-type vocabulary (EVENT_TYPE_PATTERN, MAX_EVENT_TYPE_CHARS) lives with the profile
(functions/core/profile.py), and every way a moment is written as text in
functions/core/timestamps.py.
"""

from __future__ import annotations

import re

from dovecote._version import __version__ as VERSION

__all__ = [
    "DELIVERIES_BATCH_SIZE",
    "IDEMPOTENCY_KEY_PATTERN",
    "MAX_IDEMPOTENCY_KEY_CHARS",
    "MAX_MEMBER_HOLD_SECONDS",
    "MAX_RATE_LIMIT_PER_SECOND",
    "MAX_RECEIVE_COUNT",
    "RATE_LIMIT_WAIT_SECONDS",
    "VERSION",
]
# VERSION is Dovecote's release, kept by the client distribution (clients/python/dovecote/_version.py,
# which both distributions read): the OpenAPI document's `info.version` and the delivery User-Agent.

MAX_IDEMPOTENCY_KEY_CHARS = 255
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x7e]+")
"""An `Idempotency-Key` header: printable ASCII without spaces (use with `fullmatch`)."""

MAX_RECEIVE_COUNT = 5
"""Receives of a queue message before SQS moves it to its dead-letter queue (infra/queues.py sets
the redrive policy with it; the deliver function reads it to know a message's last receive)."""

DELIVERIES_BATCH_SIZE = 100
"""Messages the deliver function takes from the deliveries queue at once (infra/functions.py, with a
batching window of at most a second). It also bounds a retry group (one endpoint's failures in one
batch) and is how many attempts one invocation makes at the same time, so that an invocation lasts
one attempt timeout at most: 100 lets an endpoint that fails at 100 deliveries a second cost one
retry execution a second."""

MAX_RATE_LIMIT_PER_SECOND = 10_000
"""The highest `rate_limit_per_second` an endpoint or an application's default may set (the API refuses
more with 422): a limit above it is no limit (functions/pipeline/rate_limit.py)."""

RATE_LIMIT_WAIT_SECONDS = 20
"""The longest a deliver invocation waits for rate-limit slots before sending (functions/pipeline/rate_limit.py);
infra/functions.py adds it to the deliver function's timeout."""

MAX_MEMBER_HOLD_SECONDS = RATE_LIMIT_WAIT_SECONDS + 5
"""The longest a retry task holds a member of its group back so that it is sent at its own due time
(the group's Wait ends at the earliest member's: functions/pipeline/delivery.py); infra/functions.py
adds it to the deliver function's timeout. The members' due times are as far apart as their previous
attempts were. One deliver invocation starts its attempts at the same time, except to a rate-limited
endpoint, whose attempts it paces over up to RATE_LIMIT_WAIT_SECONDS: the hold covers that spread,
and 5 s of scheduling beside it, so no member is sent before its own due time."""
