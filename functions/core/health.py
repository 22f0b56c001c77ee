"""Endpoint health: the one home of when an endpoint that keeps failing is disabled.

Two counters live on the endpoint: `consecutive_failures`, the deliveries in a row that
exhausted every attempt, and `failing_since`, when the current run of failed attempts
began. Any successful attempt clears both. The profile's rule disables the endpoint when
either limit is passed (by default 20 exhausted deliveries in a row, or every attempt
failing for more than 5 days); a 410 Gone disables it at once.

`EndpointHealth` decides; the `HealthLedger` (the webhook store) keeps the counters with
atomic writes, so concurrent attempts never lose a count. It writes nothing on a healthy
success, the happy path. The attempts of one invocation (a deliver batch, a retry task)
share one read of each endpoint; a `HealthView` made per invocation carries what their own
writes changed, so a success after a failure in the same batch still clears the counters,
and a group of failures starts the failing period with one write, not one per member.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from functions.core.classify import Verdict
from functions.core.models import DeliveryStatus, Webhook, iso
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


def disable_reason(rule: HealthRule, state: HealthState, now: datetime) -> str | None:
    """Why the rule disables the endpoint in `state`, or None while it may keep receiving."""
    limit = rule.disable_after_consecutive_failures
    if limit == 1 and state.consecutive_failures >= 1:
        return "marked failed: a delivery failed every attempt of the retry table"
    if limit is not None and state.consecutive_failures >= limit:
        return f"disabled automatically: {state.consecutive_failures} deliveries in a row failed every attempt"
    days = rule.disable_after_failing_days
    if days is not None and state.failing_since is not None and now - state.failing_since > timedelta(days=days):
        return (
            f"disabled automatically: every delivery attempt has failed since {iso(state.failing_since)} "
            f"(more than {days:g} days)"
        )
    return None


class HealthView:
    """One invocation's endpoints as its own health writes left them (thread-safe). Deciding and
    writing hold the endpoint's lock, so two members never decide on the same stale state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], HealthState] = {}
        self._endpoint_locks: dict[tuple[str, str], threading.Lock] = {}

    @contextmanager
    def deciding(self, webhook: Webhook) -> Iterator[None]:
        key = (webhook.application_id, webhook.id)
        with self._lock:
            endpoint_lock = self._endpoint_locks.setdefault(key, threading.Lock())
        with endpoint_lock:
            yield

    def state(self, webhook: Webhook) -> HealthState:
        """The counters as this invocation last wrote them, else as it read them."""
        with self._lock:
            return self._states.get((webhook.application_id, webhook.id)) or HealthState.of(webhook)

    def wrote(self, webhook: Webhook, state: HealthState) -> None:
        with self._lock:
            self._states[(webhook.application_id, webhook.id)] = state


class HealthLedger(Protocol):
    """Where the counters live (functions/store/webhooks.py); each write is atomic and a no-op
    for an endpoint that no longer exists."""

    def record_failing_since(self, application_id: str, webhook_id: str, since: datetime) -> None: ...

    def record_exhausted_delivery(self, application_id: str, webhook_id: str, now: datetime) -> Webhook | None: ...

    def reset_health(self, application_id: str, webhook_id: str) -> None: ...

    def disable(self, application_id: str, webhook_id: str, reason: str, now: datetime) -> bool: ...


Disabled = Callable[[Webhook, str, datetime], None]
"""Told once when this rule (or a 410) disabled an endpoint: the webhook, why, and when (its `disabled_at`)."""


class EndpointHealth:
    def __init__(self, rule: HealthRule, ledger: HealthLedger, on_disabled: Disabled | None = None) -> None:
        self._rule = rule
        self._ledger = ledger
        self._on_disabled = on_disabled

    def after_attempt(
        self,
        webhook: Webhook,
        verdict: Verdict,
        delivery_status: DeliveryStatus,
        now: datetime,
        gone_reason: str | None = None,
        *,
        view: HealthView | None = None,
    ) -> None:
        """Account for one logged attempt; `delivery_status` is the delivery's status after it,
        `gone_reason` why a `gone` verdict disables the endpoint (None: it answered 410 Gone). With
        `view` (one per invocation), the invocation's other attempts' writes count as read."""
        view = view or HealthView()
        with view.deciding(webhook):
            state = view.state(webhook)
            if verdict is Verdict.SUCCEEDED:
                if not state.healthy:
                    self._ledger.reset_health(webhook.application_id, webhook.id)
                    view.wrote(webhook, HealthState())
                return
            if verdict is Verdict.GONE:
                self._disable(webhook, gone_reason or GONE_REASON, now)
                return
            if delivery_status is DeliveryStatus.FAILED:
                updated = self.after_delivery_failed(webhook.application_id, webhook.id, now)
                if updated is not None:
                    view.wrote(webhook, HealthState.of(updated))
                return
            if state.failing_since is None:
                self._ledger.record_failing_since(webhook.application_id, webhook.id, now)
                state = HealthState(state.consecutive_failures, now)
                view.wrote(webhook, state)
            reason = disable_reason(self._rule, state, now)
            if reason:
                self._disable(webhook, reason, now)

    def after_delivery_failed(self, application_id: str, webhook_id: str, now: datetime) -> Webhook | None:
        """A delivery ended failed after its attempts (the table ran out, or it could not be attempted);
        returns the webhook as the count left it (None when it is gone)."""
        updated = self._ledger.record_exhausted_delivery(application_id, webhook_id, now)
        if updated is None or not updated.enabled:
            return updated
        reason = disable_reason(self._rule, HealthState.of(updated), now)
        if reason:
            self._disable(updated, reason, now)
        return updated

    def _disable(self, webhook: Webhook, reason: str, now: datetime) -> None:
        if self._ledger.disable(webhook.application_id, webhook.id, reason, now) and self._on_disabled:
            self._on_disabled(webhook, reason, now)
