"""Webhook rules without AWS (functions/management/webhooks.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.core.errors import InvalidRequestError, UnsafeUrlError
from functions.core.profile import load_profile
from functions.management.bodies import WebhookCreate, WebhookUpdate
from functions.management.webhooks import (
    DISABLED_BY_API,
    EndpointRules,
    new_webhook,
    updated_webhook,
    validate_event_patterns,
    with_rotated_secret,
)
from tests.unit.records import NOW, STANDARD

MUTX = load_profile("mutx")


def accept_url(url: str) -> str:
    return url


def refuse_url(url: str) -> str:
    raise UnsafeUrlError("url: refused by the test")


RULES = EndpointRules(profile=STANDARD, check_url=accept_url)


def create(**fields) -> WebhookCreate:
    return WebhookCreate.model_validate({"url": "https://hooks.example.com/", "events": ["*"], **fields})


@pytest.mark.parametrize("patterns", [["*"], ["user.created"], ["user.*"], ["a.b.c", "a.*", "*"], ["order_v2.paid"]])
def test_valid_patterns_are_accepted_without_a_catalog(patterns: list[str]):
    assert validate_event_patterns(patterns, STANDARD) == patterns


def test_duplicate_patterns_are_dropped_in_order():
    assert validate_event_patterns(["b.*", "a.b", "b.*"], STANDARD) == ["b.*", "a.b"]


@pytest.mark.parametrize(
    ("patterns", "field"),
    [
        ([], "events"),
        (["User.Created"], "events[0]"),
        (["ok.type", "user created"], "events[1]"),
        (["*.created"], "events[0]"),
        (["user.*.x"], "events[0]"),
        (["user*"], "events[0]"),
        (["user."], "events[0]"),
        (["a" * 201], "events[0]"),
    ],
)
def test_invalid_patterns_are_refused_naming_the_entry(patterns: list[str], field: str):
    with pytest.raises(InvalidRequestError) as caught:
        validate_event_patterns(patterns, STANDARD)

    assert caught.value.message.startswith(f"{field}:")


def test_with_a_catalog_exact_types_and_prefixes_must_match_it():
    assert validate_event_patterns(["agent.started", "deployment.*", "*"], MUTX) == [
        "agent.started",
        "deployment.*",
        "*",
    ]
    for pattern in ("agent.exploded", "billing.*", "agent"):
        with pytest.raises(InvalidRequestError, match="catalog"):
            validate_event_patterns([pattern], MUTX)


def test_a_new_webhook_is_enabled_with_a_generated_secret_as_its_only_secret():
    webhook, secret = new_webhook("acme", create(description="CRM"), RULES, NOW)

    assert webhook.id.startswith("wh_")
    assert webhook.application_id == "acme"
    assert webhook.enabled
    assert webhook.disabled_reason is None
    assert [s.value for s in webhook.secrets] == [secret]
    assert webhook.created_at == webhook.updated_at == NOW
    assert webhook.description == "CRM"


def test_a_webhook_created_disabled_says_why():
    webhook, _ = new_webhook("acme", create(enabled=False), RULES, NOW)

    assert not webhook.enabled
    assert webhook.disabled_reason == DISABLED_BY_API


def test_the_url_check_decides_whether_a_webhook_can_be_created():
    with pytest.raises(UnsafeUrlError):
        new_webhook("acme", create(), EndpointRules(profile=STANDARD, check_url=refuse_url), NOW)


def test_an_update_changes_only_the_fields_sent():
    webhook, _ = new_webhook("acme", create(description="keep"), RULES, NOW)
    later = NOW + timedelta(minutes=5)

    updated = updated_webhook(webhook, WebhookUpdate(events=["user.*"]), RULES, later)

    assert updated.events == ["user.*"]
    assert (updated.url, updated.description, updated.enabled) == (webhook.url, "keep", True)
    assert updated.updated_at == later
    assert updated.secrets == webhook.secrets


def test_an_update_that_changes_nothing_returns_the_same_webhook():
    webhook, _ = new_webhook("acme", create(description="same"), RULES, NOW)

    assert updated_webhook(webhook, WebhookUpdate(description="same", enabled=True), RULES, NOW) is webhook


def test_re_enabling_clears_the_reason_and_the_failure_counters():
    webhook, _ = new_webhook("acme", create(), RULES, NOW)
    failing = webhook.model_copy(
        update={"enabled": False, "disabled_reason": "endpoint gone", "consecutive_failures": 7, "failing_since": NOW}
    )

    enabled = updated_webhook(failing, WebhookUpdate(enabled=True), RULES, NOW)

    assert enabled.enabled
    assert enabled.disabled_reason is None
    assert enabled.consecutive_failures == 0
    assert enabled.failing_since is None


def test_disabling_keeps_an_automatic_reason_when_already_disabled():
    webhook, _ = new_webhook("acme", create(), RULES, NOW)
    gone = webhook.model_copy(update={"enabled": False, "disabled_reason": "endpoint answered 410"})

    assert updated_webhook(gone, WebhookUpdate(enabled=False), RULES, NOW).disabled_reason == "endpoint answered 410"


def test_an_update_revalidates_url_and_events():
    webhook, _ = new_webhook("acme", create(), RULES, NOW)

    with pytest.raises(UnsafeUrlError):
        updated_webhook(webhook, WebhookUpdate(url="https://x.example/"), EndpointRules(STANDARD, refuse_url), NOW)
    with pytest.raises(InvalidRequestError, match="events"):
        updated_webhook(webhook, WebhookUpdate(events=["Bad"]), RULES, NOW)


@pytest.mark.parametrize("field", ["url", "events", "enabled"])
def test_an_update_may_not_set_a_required_field_to_null(field: str):
    with pytest.raises(ValueError, match="may not be null"):
        WebhookUpdate.model_validate({field: None})


def test_rotation_puts_the_new_secret_first_and_keeps_the_old_one_for_the_grace_period():
    webhook, old = new_webhook("acme", create(), RULES, NOW)

    rotated, new, previous_expires_at = with_rotated_secret(webhook, STANDARD, NOW)

    grace = timedelta(seconds=STANDARD.rotation_grace_seconds)
    assert new != old
    assert previous_expires_at == NOW + grace
    assert rotated.signing_secrets(NOW) == [new, old]
    assert rotated.signing_secrets(NOW + grace) == [new]
    assert rotated.updated_at == NOW


def test_rotation_without_a_grace_period_drops_the_old_secret_at_once():
    webhook, _ = new_webhook("acme", create(), RULES, NOW)
    no_grace = STANDARD.model_copy(update={"rotation_grace_seconds": 0})

    rotated, new, previous_expires_at = with_rotated_secret(webhook, no_grace, NOW)

    assert previous_expires_at is None
    assert [s.value for s in rotated.secrets] == [new]
