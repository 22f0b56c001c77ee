"""The endpoint health policy: disable after a streak of exhausted deliveries, days of failure, or a 410."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from functions.core.classify import Verdict
from functions.core.health import GONE_REASON, EndpointHealth, HealthState, HealthView, disable_reason
from functions.core.models import DeliveryStatus, Webhook
from functions.core.profile import HealthRule
from tests.unit.records import NOW, webhook_record

DEFAULT_RULE = HealthRule()


class Ledger:
    """The webhook store's health writes, in memory: counters on one endpoint, and the disabling."""

    def __init__(self) -> None:
        self.webhook = webhook_record()
        self.writes: list[str] = []

    def record_failing_since(self, application_id: str, webhook_id: str, since: datetime) -> None:
        self.writes.append("failing_since")
        if self.webhook.failing_since is None:
            self.webhook = self.webhook.model_copy(update={"failing_since": since})

    def record_exhausted_delivery(self, application_id: str, webhook_id: str, now: datetime) -> Webhook | None:
        self.writes.append("exhausted")
        self.webhook = self.webhook.model_copy(
            update={
                "consecutive_failures": self.webhook.consecutive_failures + 1,
                "failing_since": self.webhook.failing_since or now,
            }
        )
        return self.webhook

    def reset_health(self, application_id: str, webhook_id: str) -> None:
        self.writes.append("reset")
        self.webhook = self.webhook.model_copy(update={"consecutive_failures": 0, "failing_since": None})

    def disable(self, application_id: str, webhook_id: str, reason: str, now: datetime) -> bool:
        self.writes.append("disable")
        if not self.webhook.enabled:
            return False
        self.webhook = self.webhook.model_copy(update={"enabled": False, "disabled_reason": reason})
        return True


def policy(rule: HealthRule = DEFAULT_RULE) -> tuple[EndpointHealth, Ledger, list[str]]:
    ledger = Ledger()
    disabled: list[str] = []
    return EndpointHealth(rule, ledger, on_disabled=lambda _, reason, _at: disabled.append(reason)), ledger, disabled


def test_default_rule_is_20_exhausted_deliveries_or_5_days() -> None:
    assert DEFAULT_RULE.disable_after_consecutive_failures == 20
    assert DEFAULT_RULE.disable_after_failing_days == 5


def test_a_failed_attempt_starts_the_failing_period_once() -> None:
    health, ledger, _ = policy()
    health.after_attempt(ledger.webhook, Verdict.RETRY, DeliveryStatus.PENDING, NOW)
    health.after_attempt(ledger.webhook, Verdict.RETRY, DeliveryStatus.PENDING, NOW + timedelta(hours=1))
    assert ledger.webhook.failing_since == NOW
    assert ledger.webhook.consecutive_failures == 0
    assert ledger.writes == ["failing_since"]  # the second failed attempt sees the period running


def test_exhausted_deliveries_count_up_and_keep_the_start_of_the_period() -> None:
    health, ledger, _ = policy()
    for hour in range(3):
        health.after_attempt(ledger.webhook, Verdict.RETRY, DeliveryStatus.FAILED, NOW + timedelta(hours=hour))
    assert HealthState.of(ledger.webhook) == HealthState(consecutive_failures=3, failing_since=NOW)


def test_success_clears_both_counters_and_a_healthy_success_writes_nothing() -> None:
    health, ledger, _ = policy()
    health.after_attempt(ledger.webhook, Verdict.SUCCEEDED, DeliveryStatus.SUCCEEDED, NOW)
    assert ledger.writes == []
    health.after_delivery_failed("acme", "wh_1", NOW)
    health.after_attempt(ledger.webhook, Verdict.SUCCEEDED, DeliveryStatus.SUCCEEDED, NOW)
    assert HealthState.of(ledger.webhook).healthy
    assert ledger.writes == ["exhausted", "reset"]
    assert not HealthState(consecutive_failures=1).healthy
    assert not HealthState(failing_since=NOW).healthy


def test_twenty_exhausted_deliveries_in_a_row_disable_the_endpoint() -> None:
    health, ledger, disabled = policy()
    for _ in range(19):
        health.after_delivery_failed("acme", "wh_1", NOW)
    assert ledger.webhook.enabled
    health.after_delivery_failed("acme", "wh_1", NOW)
    assert not ledger.webhook.enabled
    assert "20 deliveries in a row" in (ledger.webhook.disabled_reason or "")
    assert disabled == [ledger.webhook.disabled_reason]


def test_failing_for_more_than_five_days_disables_the_endpoint() -> None:
    health, ledger, disabled = policy()
    health.after_attempt(ledger.webhook, Verdict.RETRY, DeliveryStatus.PENDING, NOW)
    health.after_attempt(ledger.webhook, Verdict.RETRY, DeliveryStatus.PENDING, NOW + timedelta(days=5))
    assert ledger.webhook.enabled
    health.after_attempt(ledger.webhook, Verdict.RETRY, DeliveryStatus.PENDING, NOW + timedelta(days=5, seconds=1))
    assert not ledger.webhook.enabled
    assert "more than 5 days" in disabled[0]


def test_a_410_disables_at_once_and_only_once() -> None:
    health, ledger, disabled = policy()
    webhook = ledger.webhook
    health.after_attempt(webhook, Verdict.GONE, DeliveryStatus.FAILED, NOW)
    health.after_attempt(webhook, Verdict.GONE, DeliveryStatus.FAILED, NOW)  # a concurrent attempt saw it enabled
    assert ledger.webhook.disabled_reason == GONE_REASON
    assert disabled == [GONE_REASON]
    assert "exhausted" not in ledger.writes


def test_a_rule_limit_set_to_none_never_triggers() -> None:
    rule = HealthRule(disable_after_failing_days=None, disable_after_consecutive_failures=None)
    state = HealthState(consecutive_failures=10_000, failing_since=NOW - timedelta(days=365))
    assert disable_reason(rule, state, NOW) is None


def test_a_custom_rule_uses_its_own_limits() -> None:
    rule = HealthRule(disable_after_failing_days=0.5, disable_after_consecutive_failures=2)
    assert disable_reason(rule, HealthState(consecutive_failures=2), NOW) is not None
    assert disable_reason(rule, HealthState(failing_since=NOW - timedelta(hours=13)), NOW) is not None
    assert disable_reason(rule, HealthState(consecutive_failures=1, failing_since=NOW), NOW) is None


def test_a_success_after_a_failure_read_from_the_same_stale_webhook_still_clears_the_counters() -> None:
    health, ledger, _ = policy()
    read = ledger.webhook  # the one read a deliver batch shares: healthy
    view = HealthView()

    health.after_attempt(read, Verdict.RETRY, DeliveryStatus.PENDING, NOW, view=view)
    health.after_attempt(read, Verdict.SUCCEEDED, DeliveryStatus.SUCCEEDED, NOW, view=view)

    assert HealthState.of(ledger.webhook).healthy
    assert ledger.writes == ["failing_since", "reset"]


def test_a_groups_failures_start_the_failing_period_with_one_write_and_its_successes_clear_it_with_one() -> None:
    health, ledger, _ = policy()
    read = ledger.webhook
    failing_view = HealthView()
    for _ in range(5):
        health.after_attempt(read, Verdict.RETRY, DeliveryStatus.PENDING, NOW, view=failing_view)
    assert ledger.writes == ["failing_since"]

    failing_read = ledger.webhook  # the next task reads the endpoint failing
    recovering_view = HealthView()
    for _ in range(5):
        health.after_attempt(failing_read, Verdict.SUCCEEDED, DeliveryStatus.SUCCEEDED, NOW, view=recovering_view)

    assert ledger.writes == ["failing_since", "reset"]
    assert HealthState.of(ledger.webhook).healthy


def test_an_exhausted_delivery_counts_once_per_delivery_and_the_view_follows_the_count() -> None:
    rule = HealthRule(disable_after_consecutive_failures=3, disable_after_failing_days=None)
    health, ledger, disabled = policy(rule)
    read = ledger.webhook
    view = HealthView()

    for _ in range(3):
        health.after_attempt(read, Verdict.RETRY, DeliveryStatus.FAILED, NOW, view=view)

    assert ledger.writes.count("exhausted") == 3
    assert view.state(read) == HealthState(consecutive_failures=3, failing_since=NOW)
    assert disabled == ["disabled automatically: 3 deliveries in a row failed every attempt"]


def test_members_deciding_at_once_on_one_stale_read_write_the_failing_period_once() -> None:
    health, ledger, _ = policy()
    read = ledger.webhook
    view = HealthView()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda _: health.after_attempt(read, Verdict.RETRY, DeliveryStatus.PENDING, NOW, view=view), range(40)
            )
        )

    assert ledger.writes == ["failing_since"]
