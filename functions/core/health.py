"""Endpoint health: when an endpoint that keeps failing is disabled automatically.

Two counters live on the webhook: `consecutive_failures`, the number of deliveries in a
row that exhausted every attempt, and `failing_since`, when the current run of failed
attempts began. Any successful attempt clears both. The profile's rule disables the
endpoint when either limit is passed (by default 20 exhausted deliveries in a row, or
every attempt failing for more than 5 days). A 410 Gone response disables it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.core.models import Webhook, iso
from functions.core.profile import HealthRule

GONE_REASON = "the endpoint answered 410 Gone"


@dataclass(frozen=True)
class HealthState:
    consecutive_failures: int = 0
    failing_since: datetime | None = None

    @classmethod
    def of(cls, webhook: Webhook) -> HealthState:
        return cls(webhook.consecutive_failures, webhook.failing_since)

    @property
    def healthy(self) -> bool:
        return self.consecutive_failures == 0 and self.failing_since is None


def after_success() -> HealthState:
    return HealthState()


def after_failed_attempt(state: HealthState, now: datetime) -> HealthState:
    return HealthState(state.consecutive_failures, state.failing_since or now)


def after_exhausted_delivery(state: HealthState, now: datetime) -> HealthState:
    return HealthState(state.consecutive_failures + 1, state.failing_since or now)


def disable_reason(rule: HealthRule, state: HealthState, now: datetime) -> str | None:
    """Why the rule disables the endpoint in `state`, or None while it may keep receiving."""
    limit = rule.disable_after_consecutive_failures
    if limit is not None and state.consecutive_failures >= limit:
        return f"disabled automatically: {state.consecutive_failures} deliveries in a row failed every attempt"
    days = rule.disable_after_failing_days
    if days is not None and state.failing_since is not None and now - state.failing_since > timedelta(days=days):
        return (
            f"disabled automatically: every delivery attempt has failed since {iso(state.failing_since)} "
            f"(more than {days:g} days)"
        )
    return None
