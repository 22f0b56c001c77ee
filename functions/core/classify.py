"""What an attempt's result means for the delivery.

- 2xx: delivered.
- 410 Gone: the receiver says the endpoint no longer exists: stop retrying and disable it.
- Anything else is retried on the profile's table: other 4xx and 5xx, 3xx (redirects are
  never followed, so a redirect is a failure), timeouts and connection errors, and a
  send-time SSRF refusal. A host that now resolves to a private address may be a DNS
  change in progress or a rebinding attempt; either way the request is never sent to it,
  and retrying costs nothing but lets a fixed DNS record recover on the normal schedule.
"""

from __future__ import annotations

from enum import StrEnum

GONE_STATUS = 410


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
