"""Seed 002 (MeetLoyd) end to end: "After 6 failed attempts, the webhook is marked as failed. Failures
include HTTP status >= 400, connection timeout (30 seconds), and network errors." And its signature."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.core.profile import load_profile
from tests.e2e.e2e_support import Receiver, RunningStack, eventually
from tests.e2e.seed_support import PAYLOADS, Http, publish_each_payload_to_a_verifier, seed_stack
from tests.e2e.test_e2e_signatures import meetloyd

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e-seed-002")]

TIME_SCALE = 0.0002
"""Its table (immediately, 1 min, 5 min, 30 min, 2 h, 8 h) in about 8 s."""
CLOSED_PORT_URL = "http://127.0.0.1:9/meetloyd"
"""Nothing listens on the discard port: a network error."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with seed_stack("meetloyd", tmp_path_factory.mktemp("seed-002"), time_scale=TIME_SCALE) as running:
        yield running


def test_the_failure_definition_is_the_documents() -> None:
    profile = load_profile("meetloyd")

    assert profile.attempt_timeout_seconds == 30
    assert profile.max_attempts == 6


def test_a_webhook_whose_delivery_fails_6_attempts_is_marked_failed_with_the_reason(
    stack: RunningStack, receiver: Receiver
) -> None:
    http = Http(stack)
    refusing_url, refusing = receiver.add(status=400)
    healthy_url, _ = receiver.add()
    webhooks = {
        "status_400": http("POST", "/v1/webhooks", {"url": refusing_url, "events": ["task.failed"]}).body,
        "network_error": http("POST", "/v1/webhooks", {"url": CLOSED_PORT_URL, "events": ["task.failed"]}).body,
        "healthy": http("POST", "/v1/webhooks", {"url": healthy_url, "events": ["task.failed"]}).body,
    }
    assert http("POST", "/v1/events", {"type": "task.failed", "data": {"task_id": "t1"}}).status == 202

    def marked(name: str) -> dict[str, object] | None:
        webhook = http("GET", f"/v1/webhooks/{webhooks[name]['id']}").body
        return webhook if webhook["enabled"] is False else None

    for name in ("status_400", "network_error"):
        webhook = eventually(lambda n=name: marked(n), timeout=40, message=f"the {name} webhook to be marked failed")
        [delivery] = http("GET", f"/v1/webhooks/{webhooks[name]['id']}/deliveries").body["data"]
        assert (delivery["status"], delivery["attempt_count"]) == ("failed", 6)
        assert (webhook["status"], webhook["disabled_reason"]) == (
            "disabled",
            "marked failed: a delivery failed every attempt of the retry table",
        )
    assert len(refusing.requests) == 6
    assert http("GET", f"/v1/webhooks/{webhooks['healthy']['id']}").body["enabled"] is True


def test_the_signature_verifies_every_payload_kind(stack: RunningStack, receiver: Receiver) -> None:
    outcomes, _ = publish_each_payload_to_a_verifier(Http(stack), receiver, "task.completed", meetloyd)

    assert {kind: o.first_response_status for kind, o in outcomes.items()} == dict.fromkeys(PAYLOADS, 200)
