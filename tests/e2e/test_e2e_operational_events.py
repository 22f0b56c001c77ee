"""Operational events over the local stack: an endpoint disabled by repeated 410s yields exactly one
`endpoint.disabled` at the operational webhook (a receiver on 127.0.0.1), signed on the profile, and
one on the default event bus (read as `python -m dovecote_local.operational` reads it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from dovecote.verify import verify
from tests.e2e.e2e_support import DEFAULT_PROFILE, TIME_SCALE, Receiver, RunningStack, eventually
from tests.e2e.seed_support import seed_stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

EVENTS = 3


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[RunningStack]:
    with seed_stack(DEFAULT_PROFILE, tmp_path, time_scale=TIME_SCALE) as running:
        yield running


def bus_events(stack: RunningStack) -> list[dict[str, object]]:
    """What `python -m dovecote_local.operational` prints: the default bus's events, one JSON document each."""
    completed = subprocess.run(
        [sys.executable, "-m", "dovecote_local.operational", "--endpoint", stack.info["aws_endpoint_url"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    decoder, text, events, position = json.JSONDecoder(), completed.stdout, [], 0
    while position < len(text.rstrip()):
        event, position = decoder.raw_decode(text, position)
        events.append(event)
        while position < len(text) and text[position].isspace():
            position += 1
    return events


def test_repeated_410s_yield_one_signed_endpoint_disabled_at_the_operational_webhook(
    stack: RunningStack, receiver: Receiver
) -> None:
    operations_url, operations = receiver.add()
    gone_url, gone = receiver.add(status=410)
    with stack.client(stack.platform_key) as platform:
        secret = platform.operational_webhook.set(operations_url).secret
    assert secret
    with stack.client() as customer:
        webhook = customer.webhooks.create(gone_url, ["order.created"])
        for number in range(EVENTS):
            customer.events.send("order.created", {"n": number})
        eventually(lambda: gone.requests, message="a 410")
        eventually(lambda: customer.webhooks.get(webhook.id).enabled is False, message="the endpoint disabled")
        failed = eventually(
            lambda: (
                (listed := list(customer.webhooks.deliveries(webhook.id)))
                and all(d.status != "pending" for d in listed)
                and [d for d in listed if d.status == "failed"]
            ),
            message="every delivery ended",
        )
        disabled = customer.webhooks.get(webhook.id)

    def received() -> Counter[str]:
        return Counter(json.loads(request.body)["type"] for request in operations.requests)

    eventually(
        lambda: received() == {"endpoint.disabled": 1, "delivery.exhausted": len(failed)},
        timeout=30,
        message=f"one endpoint.disabled and {len(failed)} delivery.exhausted at the operational webhook",
    )
    [request] = [r for r in operations.requests if json.loads(r.body)["type"] == "endpoint.disabled"]
    assert verify("standard", request.body, request.headers, secret)
    data = json.loads(request.body)["data"]
    assert (data["webhook_id"], data["reason"]) == (webhook.id, "the endpoint answered 410 Gone")
    assert disabled.disabled_reason == "the endpoint answered 410 Gone"
    assert disabled.disabled_at is not None
    on_bus = bus_events(stack)
    assert Counter(str(event["detail-type"]) for event in on_bus) == received()
    assert {event["source"] for event in on_bus} == {"dovecote"}
