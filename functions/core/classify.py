"""What an attempt's result means for the delivery.

- 2xx: delivered.
- 410 Gone: the receiver says the endpoint no longer exists: stop retrying and disable it.
- Anything else is retried on the profile's table: other 4xx and 5xx, 3xx (redirects are
  never followed, so a redirect is a failure), timeouts and connection errors, and a
  send-time SSRF refusal. A host that now resolves to a private address may be a DNS
  change in progress or a rebinding attempt; either way the request is never sent to it,
  and retrying costs nothing but lets a fixed DNS record recover on the normal schedule.

A 429 or 503 may say when to come back (`Retry-After`: delta-seconds or an HTTP-date):
`retry_after_seconds` reads it, capped at the profile's longest delay, so a receiver can
delay the next attempt (never advance it: the table's delay is the least) but cannot park a
delivery for a week. Anything else in the header (garbage, a negative number) is ignored.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

GONE_STATUS = 410
THROTTLE_STATUSES = frozenset({429, 503})
"""The answers whose `Retry-After` delays the next attempt."""


class Verdict(StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    GONE = "gone"


def classify(response_status: int | None) -> Verdict:
    """`response_status` is None when no response arrived (timeout, connection error, refusal)."""
    if response_status is None:
        return Verdict.RETRY
    if 200 <= response_status <= 299:
        return Verdict.SUCCEEDED
    if response_status == GONE_STATUS:
        return Verdict.GONE
    return Verdict.RETRY


def retry_after_seconds(
    response_status: int | None, header: str | None, now: datetime, cap_seconds: int | None = None
) -> int | None:
    """The seconds a 429 or 503 asks to wait (`Retry-After`), rounded up and capped at `cap_seconds`;
    None for any other status, no header, or one that is neither delta-seconds nor an HTTP-date.
    An HTTP-date is counted from `now` (a date already past asks for 0 s)."""
    if response_status not in THROTTLE_STATUSES or header is None:
        return None
    text = header.strip()
    if text.isascii() and text.isdigit():
        seconds = int(text)
    else:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if moment.tzinfo is None:  # an HTTP-date is always GMT (asctime's form names no zone)
            moment = moment.replace(tzinfo=UTC)
        seconds = max(0, math.ceil((moment - now).total_seconds()))
    return seconds if cap_seconds is None else min(seconds, cap_seconds)
