"""Each profile's deliveries are accepted by a receiver written from that profile's own seed document.

Every recipe below is written from the document (or, where the document is silent, from
the profile file that fills the gap), not from Dovecote's signing code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

import pytest
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.e2e.e2e_support import PROFILES, Receiver, StackPool, eventually

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

Headers = dict[str, str]
Recipe = Callable[[str], Callable[[Headers, bytes], bool]]

EVENT_DATA = {"title": "Crème brûlée ✓", "count": 3, "nested": {"tags": ["a", "b"], "ok": True}}


def _hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def standard_webhooks(header_prefix: str) -> Recipe:
    """standardwebhooks.com: `Webhook(secret).verify(body, headers)` with the `webhook-*` headers."""

    def recipe(secret: str) -> Callable[[Headers, bytes], bool]:
        def verify(headers: Headers, body: bytes) -> bool:
            renamed = {
                "webhook-id": headers.get(f"{header_prefix}-id", ""),
                "webhook-timestamp": headers.get(f"{header_prefix}-timestamp", ""),
                "webhook-signature": headers.get(f"{header_prefix}-signature", ""),
            }
            try:
                StandardWebhook(secret).verify(body, renamed)
            except WebhookVerificationError:
                return False
            return True

        return verify

    return recipe


def miteos(secret: str) -> Callable[[Headers, bytes], bool]:
    """Seed 000: X-Miteos-Signature is `sha256=` + hex HMAC-SHA256 of the raw body."""

    def verify(headers: Headers, body: bytes) -> bool:
        expected = "sha256=" + _hex_hmac(secret, body)
        return hmac.compare_digest(headers.get("x-miteos-signature", ""), expected)

    return verify


def meetloyd(secret: str) -> Callable[[Headers, bytes], bool]:
    """Seed 002: X-MeetLoyd-Signature is the HMAC-SHA256 of `{timestamp}.{payload}`."""

    def verify(headers: Headers, body: bytes) -> bool:
        timestamp = headers.get("x-meetloyd-timestamp", "")
        expected = _hex_hmac(secret, f"{timestamp}.{body.decode()}".encode())
        return bool(timestamp) and hmac.compare_digest(headers.get("x-meetloyd-signature", ""), expected)

    return verify


def json_stringify_hmac(header: str) -> Recipe:
    """Seeds 003 and 004 (Node): `'sha256=' + HMAC(secret).update(JSON.stringify(req.body)).digest('hex')`."""

    def recipe(secret: str) -> Callable[[Headers, bytes], bool]:
        def verify(headers: Headers, body: bytes) -> bool:
            restringified = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
            expected = "sha256=" + _hex_hmac(secret, restringified.encode())
            return hmac.compare_digest(headers.get(header, ""), expected)

        return verify

    return recipe


RECIPES: dict[str, Recipe] = {
    "standard": standard_webhooks("webhook"),
    "mynd": standard_webhooks("mynd"),  # the profile file: Standard Webhooks under Mynd- header names
    "miteos": miteos,
    "meetloyd": meetloyd,
    "delegated": json_stringify_hmac("x-delegated-signature"),
    "mutx": json_stringify_hmac("x-webhook-signature"),
}


def test_every_shipped_profile_has_a_recipe() -> None:
    assert sorted(RECIPES) == PROFILES


@pytest.mark.parametrize("profile", PROFILES)
def test_a_delivery_is_accepted_by_the_receiver_written_from_the_profiles_document(
    stacks: StackPool, receiver: Receiver, profile: str
) -> None:
    stack = stacks.get(profile)
    with stack.client() as dovecote:
        event_types = [t.name for t in dovecote.event_types.list()]
        event_type = event_types[0] if event_types else "order.created"
        url, endpoint = receiver.add()
        hook = dovecote.webhooks.create(url, [event_type])
        endpoint.verify = RECIPES[profile](hook.secret)

        dovecote.events.send(event_type, EVENT_DATA)

        eventually(lambda: endpoint.requests, message=f"a delivery to the {profile} receiver")
        delivery = eventually(
            lambda: next(iter(dovecote.webhooks.deliveries(hook.id, status="succeeded")), None),
            message="the delivery log to show a success",
        )
    request = endpoint.requests[0]
    assert request.accepted, f"{profile}: the seed's recipe rejected {request.headers}"
    assert json.loads(request.body)  # a JSON envelope
    assert delivery.status == "succeeded"
    assert delivery.response_status == 200
    assert delivery.latency_ms is not None
    assert delivery.latency_ms >= 0
    assert delivery.attempt_count == 1


@pytest.mark.parametrize("profile", ["miteos", "mutx"])
def test_a_request_signed_with_another_secret_is_rejected_by_the_recipe(profile: str) -> None:
    body = json.dumps({"type": "task.created", "data": EVENT_DATA}, separators=(",", ":"), ensure_ascii=False).encode()
    header = {"miteos": "x-miteos-signature", "mutx": "x-webhook-signature"}[profile]
    forged = {header: "sha256=" + _hex_hmac("whsec_other", body)}
    assert not RECIPES[profile]("whsec_right")(forged, body)
    assert RECIPES[profile]("whsec_other")(forged, body)
