"""Seed 001 (Mynd) end to end: the three requests of its API reference with the statuses and shapes it shows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.e2e_support import Receiver, RunningStack, eventually
from tests.e2e.seed_support import PAYLOADS, Http, publish_each_payload_to_a_verifier, seed_stack
from tests.e2e.test_e2e_signatures import standard_webhooks

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e-seed-001")]

TIME_SCALE = 0.0002
"""Its 24-hour retry table in about 17 s, so a failing delivery ends `failed` within the test."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with seed_stack("mynd", tmp_path_factory.mktemp("seed-001"), time_scale=TIME_SCALE) as running:
        yield running


def test_register_answers_200_with_the_secret_once(stack: RunningStack, receiver: Receiver) -> None:
    http = Http(stack)
    url, _ = receiver.add()
    body = {"url": url, "events": ["run.completed", "run.awaiting_approval"], "description": "prod event consumer"}

    created = http("POST", "/v1/webhooks", body)
    read = http("GET", f"/v1/webhooks/{created.body['id']}")

    assert created.status == 200, created.body
    assert {"id", "object", "url", "events", "secret", "status"} <= set(created.body)
    assert (created.body["object"], created.body["url"], created.body["events"], created.body["status"]) == (
        "webhook",
        url,
        ["run.completed", "run.awaiting_approval"],
        "enabled",
    )
    assert created.body["secret"].startswith("whsec_")
    assert "secret" not in read.body


def test_deliveries_filter_by_status_with_ms_and_next_retry_at(stack: RunningStack, receiver: Receiver) -> None:
    http = Http(stack)
    good_url, _ = receiver.add()
    bad_url, _ = receiver.add(status=500)
    good = http("POST", "/v1/webhooks", {"url": good_url, "events": ["run.completed"]}).body
    bad = http("POST", "/v1/webhooks", {"url": bad_url, "events": ["run.failed"]}).body
    http("POST", "/v1/events", {"type": "run.completed", "data": {"run_id": "r1"}})
    http("POST", "/v1/events", {"type": "run.failed", "data": {"run_id": "r2"}})

    def listed(webhook: dict[str, str], status: str) -> list[dict[str, object]]:
        answer = http("GET", f"/v1/webhooks/{webhook['id']}/deliveries?status={status}")
        assert (answer.status, answer.body["object"]) == (200, "list")
        return list(answer.body["data"])

    [succeeded] = eventually(lambda: listed(good, "succeeded"), message="a succeeded delivery")
    [pending] = eventually(lambda: listed(bad, "pending"), message="a pending delivery")
    [failed] = eventually(lambda: listed(bad, "failed"), timeout=40, message="the failing delivery to end failed")

    assert (succeeded["event"], succeeded["response_status"]) == ("run.completed", 200)
    assert isinstance(succeeded["ms"], int)
    assert succeeded["id"].startswith("del_")
    assert (pending["event"], pending["response_status"]) == ("run.failed", 500)
    assert isinstance(pending["next_retry_at"], str)
    assert (failed["id"], failed["response_status"], failed["next_retry_at"]) == (pending["id"], 500, None)


def test_delete_answers_the_deleted_object(stack: RunningStack, receiver: Receiver) -> None:
    http = Http(stack)
    url, _ = receiver.add()
    webhook = http("POST", "/v1/webhooks", {"url": url, "events": ["*"]}).body

    deleted = http("DELETE", f"/v1/webhooks/{webhook['id']}")

    assert (deleted.status, deleted.body) == (200, {"id": webhook["id"], "object": "webhook", "deleted": True})


def test_the_signature_verifies_every_payload_kind(stack: RunningStack, receiver: Receiver) -> None:
    outcomes, _ = publish_each_payload_to_a_verifier(Http(stack), receiver, "run.completed", standard_webhooks("mynd"))

    assert {kind: o.first_response_status for kind, o in outcomes.items()} == dict.fromkeys(PAYLOADS, 200)
