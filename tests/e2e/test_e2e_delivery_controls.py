"""Over `dovecote local`, with receivers on 127.0.0.1: an endpoint's custom headers arrive with
its deliveries, a payload filter lets through only the events it matches, and a `v1a` endpoint's
Ed25519 signature verifies with an implementation independent of Dovecote's."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.e2e.e2e_support import DEFAULT_PROFILE, Receiver, StackPool, eventually

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

TIMEOUT_SECONDS = 30


def test_custom_headers_arrive_with_the_delivery(stacks: StackPool, receiver: Receiver) -> None:
    stack = stacks.get(DEFAULT_PROFILE)
    url, endpoint = receiver.add()
    with stack.client() as dovecote:
        dovecote.webhooks.create(url, ["controls.headers"], headers={"X-Customer": "acme", "X-Region": "eu-west-1"})
        dovecote.events.send("controls.headers", {"amount": 1})
        eventually(lambda: endpoint.requests, timeout=TIMEOUT_SECONDS, message="the delivery")
    [request] = endpoint.requests
    assert request.header("X-Customer") == "acme"
    assert request.header("X-Region") == "eu-west-1"
    assert request.header("webhook-signature")


def test_a_filter_lets_through_only_the_matching_half_of_twenty_events(stacks: StackPool, receiver: Receiver) -> None:
    stack = stacks.get(DEFAULT_PROFILE)
    filtered_url, filtered = receiver.add()
    everything_url, everything = receiver.add()
    event_type = "controls.filter"
    amounts = [n * 10 for n in range(20)]  # 0 … 190: ten of them are 100 or more
    with stack.client() as dovecote:
        hook = dovecote.webhooks.create(filtered_url, [event_type], filter={"data": {"amount": {"$gte": 100}}})
        dovecote.webhooks.create(everything_url, [event_type])
        batch = dovecote.events.send_batch([{"type": event_type, "data": {"amount": amount}} for amount in amounts])
        assert not batch.failed
        # Every event has reached the unfiltered endpoint: the filtered one has had its chance at each.
        eventually(lambda: len(everything.requests) == len(amounts), timeout=TIMEOUT_SECONDS, message="20 deliveries")
        eventually(lambda: len(filtered.requests) >= 10, timeout=TIMEOUT_SECONDS, message="10 deliveries")
        logged = list(dovecote.webhooks.deliveries(hook.id))
    delivered = sorted(json.loads(request.body)["data"]["amount"] for request in filtered.requests)
    assert delivered == [amount for amount in amounts if amount >= 100]
    assert len(logged) == 10  # a filtered-out event creates no delivery


def test_a_v1a_delivery_verifies_with_an_independent_ed25519_check(stacks: StackPool, receiver: Receiver) -> None:
    stack = stacks.get(DEFAULT_PROFILE)
    url, endpoint = receiver.add()
    with stack.client() as dovecote:
        hook = dovecote.webhooks.create(url, ["controls.v1a"], signature_version="v1a")
        dovecote.events.send("controls.v1a", {"amount": 1})
        eventually(lambda: endpoint.requests, timeout=TIMEOUT_SECONDS, message="the delivery")
    public_key = hook.secret
    assert public_key.startswith("whpk_")
    [request] = endpoint.requests
    signature = request.header("webhook-signature") or ""
    assert signature.startswith("v1a,")
    signed = f"{request.header('webhook-id')}.{request.header('webhook-timestamp')}.".encode() + request.body
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))
    key.verify(base64.b64decode(signature.removeprefix("v1a,")), signed)  # raises InvalidSignature if not
