"""Seed 000 (Miteos) end to end: registration with url, events and an optional signing secret, and a
receiver written from the document's verification rule (its page shows the rule, not the code)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.e2e_support import Receiver, RunningStack, eventually
from tests.e2e.seed_support import PAYLOADS, Http, publish_each_payload_to_a_verifier, seed_stack
from tests.e2e.test_e2e_signatures import miteos

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e-seed-000")]

EVENTS = ["task.complete", "agent.error"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with seed_stack("miteos", tmp_path_factory.mktemp("seed-000"), time_scale=0.002) as running:
        yield running


def test_registration_with_url_events_and_an_optional_secret(stack: RunningStack, receiver: Receiver) -> None:
    http = Http(stack)
    url, _ = receiver.add()

    own = http("POST", "/v1/webhooks", {"url": url, "events": EVENTS, "secret": "my-miteos-signing-secret"})
    generated = http("POST", "/v1/webhooks", {"url": url, "events": EVENTS})
    plain_http = http("POST", "/v1/webhooks", {"url": "http://hooks.example.com/miteos", "events": EVENTS})

    assert (own.status, own.body["events"], own.body["secret"]) == (201, EVENTS, "my-miteos-signing-secret")
    assert generated.status == 201
    assert generated.body["secret"].startswith("whsec_")
    assert plain_http.status == 422  # "Webhook URLs must use TLS. Plain HTTP endpoints are rejected."
    assert plain_http.body["error"]["message"].startswith("url:")


def test_the_raw_body_signature_verifies_every_payload_kind(stack: RunningStack, receiver: Receiver) -> None:
    outcomes, endpoint = publish_each_payload_to_a_verifier(Http(stack), receiver, "task.complete", miteos)

    assert {kind: o.first_response_status for kind, o in outcomes.items()} == dict.fromkeys(PAYLOADS, 200)
    big = next(r.body for r in endpoint.requests if b"order_id" in r.body)
    assert b'"order_id":12345678901234567890' in big  # a raw-body receiver gets the integer exactly as published


def test_the_sdk_publishes_with_the_platforms_own_event_id_once(stack: RunningStack, receiver: Receiver) -> None:
    url, endpoint = receiver.add()
    with stack.client() as dovecote:
        hook = dovecote.webhooks.create(url, ["billing.credit_low"])
        first = dovecote.events.send("billing.credit_low", {"balance": 1.0}, id="invoice-2026-0042")
        again = dovecote.events.send("billing.credit_low", {"balance": 1.0}, id="invoice-2026-0042")
        eventually(
            lambda: list(dovecote.webhooks.deliveries(hook.id, status="succeeded")), message="the event's delivery"
        )
        stored = dovecote.events.get("invoice-2026-0042")
        deliveries = list(dovecote.webhooks.deliveries(hook.id))
    assert (first.id, again.id, first.created_at) == ("invoice-2026-0042", "invoice-2026-0042", again.created_at)
    assert stored.id == "invoice-2026-0042"
    assert [d.event_id for d in deliveries] == ["invoice-2026-0042"]  # one delivery: the repeat is the same event
    assert {r.header("x-miteos-delivery") for r in endpoint.requests} == {deliveries[0].id}
    assert json.loads(endpoint.requests[0].body)["id"] == "invoice-2026-0042"
