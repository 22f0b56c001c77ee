"""The endpoint health rule: disable after a streak of exhausted deliveries or days of failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.core.health import (
    HealthState,
    after_exhausted_delivery,
    after_failed_attempt,
    after_success,
    disable_reason,
)
from functions.core.profile import HealthRule

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
DEFAULT_RULE = HealthRule()


def test_default_rule_is_20_exhausted_deliveries_or_5_days() -> None:
    assert DEFAULT_RULE.disable_after_consecutive_failures == 20
    assert DEFAULT_RULE.disable_after_failing_days == 5


def test_a_failed_attempt_starts_the_failing_period_once() -> None:
    first = after_failed_attempt(HealthState(), NOW)
    later = after_failed_attempt(first, NOW + timedelta(hours=1))
    assert first.failing_since == NOW
    assert later.failing_since == NOW
    assert later.consecutive_failures == 0


def test_exhausted_deliveries_count_up_and_keep_the_start_of_the_period() -> None:
    state = HealthState()
    for hour in range(3):
        state = after_exhausted_delivery(state, NOW + timedelta(hours=hour))
    assert state == HealthState(consecutive_failures=3, failing_since=NOW)


def test_success_clears_both_counters() -> None:
    assert after_success() == HealthState()
    assert after_success().healthy
    assert not HealthState(consecutive_failures=1).healthy
    assert not HealthState(failing_since=NOW).healthy


def test_twenty_exhausted_deliveries_in_a_row_disable_the_endpoint() -> None:
    state = HealthState()
    for _ in range(19):
        state = after_exhausted_delivery(state, NOW)
    assert disable_reason(DEFAULT_RULE, state, NOW) is None
    reason = disable_reason(DEFAULT_RULE, after_exhausted_delivery(state, NOW), NOW)
    assert reason is not None
    assert "20 deliveries in a row" in reason


def test_failing_for_more_than_five_days_disables_the_endpoint() -> None:
    state = after_failed_attempt(HealthState(), NOW)
    assert disable_reason(DEFAULT_RULE, state, NOW + timedelta(days=5)) is None
    reason = disable_reason(DEFAULT_RULE, state, NOW + timedelta(days=5, seconds=1))
    assert reason is not None
    assert "more than 5 days" in reason


def test_a_rule_limit_set_to_none_never_triggers() -> None:
    rule = HealthRule(disable_after_failing_days=None, disable_after_consecutive_failures=None)
    state = HealthState(consecutive_failures=10_000, failing_since=NOW - timedelta(days=365))
    assert disable_reason(rule, state, NOW) is None


def test_a_custom_rule_uses_its_own_limits() -> None:
    rule = HealthRule(disable_after_failing_days=0.5, disable_after_consecutive_failures=2)
    assert disable_reason(rule, HealthState(consecutive_failures=2), NOW) is not None
    assert disable_reason(rule, HealthState(failing_since=NOW - timedelta(hours=13)), NOW) is not None
    assert disable_reason(rule, HealthState(consecutive_failures=1, failing_since=NOW), NOW) is None
