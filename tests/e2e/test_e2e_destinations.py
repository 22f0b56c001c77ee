"""AWS destinations over `dovecote local`: a queue and a bus in moto's customer account,
reached through a role whose trust policy (checked by the local stack) names the endpoint's
ExternalId; a wrong ExternalId is AccessDenied and retried; a deleted queue disables the endpoint."""

from __future__ import annotations

import json

import pytest

from dovecote.verify import verify
from dovecote_local.customer import CustomerAccount, headers_of
from tests.e2e.e2e_support import RETRY_PROFILE, StackPool, eventually

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

EVENT_TYPE = "agent.crashed"


def test_sqs_and_eventbridge_destinations_over_the_local_stack(stacks: StackPool) -> None:
    stack = stacks.get(RETRY_PROFILE)
    customer = CustomerAccount(str(stack.info["aws_endpoint_url"]), account="444455556666")
    role = customer.role()
    queue = customer.queue("orders")
    bus, bus_inbox = customer.bus("orders-bus")
    denied_queue = customer.queue("denied")

    with stack.client() as dovecote:
        to_queue = dovecote.webhooks.create(None, [EVENT_TYPE], type="sqs", target=queue, role_arn=role)
        to_bus = dovecote.webhooks.create(None, [EVENT_TYPE], type="eventbridge", target=bus, role_arn=role)
        denied = dovecote.webhooks.create(None, ["agent.started"], type="sqs", target=denied_queue, role_arn=role)
        assert to_queue.external_id
        assert to_bus.external_id
        assert denied.external_id
        customer.trust([to_queue.external_id, to_bus.external_id])  # not denied's: its ExternalId is wrong

        dovecote.events.send(EVENT_TYPE, {"agent": "a-1"})
        [message] = eventually(lambda: customer.receive(queue), message="the queue's message")
        assert verify(RETRY_PROFILE, message["Body"], headers_of(message), to_queue.secret)
        [bus_message] = eventually(lambda: customer.receive(bus_inbox), message="the bus's event")
        detail = json.loads(bus_message["Body"])["detail"]
        assert verify(RETRY_PROFILE, detail["body"], detail["headers"], to_bus.secret)

        dovecote.events.send("agent.started", {"agent": "a-2"})
        retried = eventually(
            lambda: (
                (listed := list(dovecote.webhooks.deliveries(denied.id))) and listed[0].attempt_count >= 2 and listed[0]
            ),
            timeout=30,
            message="a second attempt for the denied endpoint",
        )
        attempts = dovecote.deliveries.get(retried.id).attempts or []
        assert all(a.error and "sts:AssumeRole failed (denied): AccessDenied" in a.error for a in attempts)
        assert attempts[0].next_retry_at is not None

        customer.delete_queue(queue)
        dovecote.events.send(EVENT_TYPE, {"agent": "a-3"})
        disabled = eventually(
            lambda: not (found := dovecote.webhooks.get(to_queue.id)).enabled and found, message="the endpoint disabled"
        )
        assert disabled.disabled_reason == "the queue no longer exists (AWS.SimpleQueueService.NonExistentQueue)"
