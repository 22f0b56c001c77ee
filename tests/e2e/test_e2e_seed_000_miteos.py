"""Seed 000 (Miteos) end to end: registration with url, events and an optional signing secret, and a
receiver written from the document's verification rule (its page shows the rule, not the code)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.e2e_support import Receiver, RunningStack
from tests.e2e.seed_support import PAYLOADS, Http, publish_and_observe, seed_stack
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
    http = Http(stack)
    url, endpoint = receiver.add()
    webhook = http("POST", "/v1/webhooks", {"url": url, "events": ["task.complete"]}).body
    endpoint.verify = miteos(webhook["secret"])

    outcomes = {
        kind: publish_and_observe(http, webhook["id"], "task.complete", data) for kind, data in PAYLOADS.items()
    }

    assert {kind: o.first_response_status for kind, o in outcomes.items()} == dict.fromkeys(PAYLOADS, 200)
    big = next(r.body for r in endpoint.requests if b"order_id" in r.body)
    assert b'"order_id":12345678901234567890' in big  # a raw-body receiver gets the integer exactly as published
