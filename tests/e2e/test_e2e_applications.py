"""Two applications of one stack never see each other's objects; the API edge answers like API Gateway."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest
import requests

from dovecote import NotFoundError
from functions.management.credentials import create_api_key
from functions.store.api_keys import ApiKeyStore
from tests.e2e.e2e_support import DEFAULT_PROFILE, Receiver, RunningStack, StackPool, eventually

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def create_application_key(stack: RunningStack, application: str) -> str:
    """A key of `application`, written to the local stack's moto table as `admin bootstrap` would."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.info["aws_endpoint_url"],
        region_name=stack.info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return create_api_key(ApiKeyStore(dynamodb, stack.info["table_name"]), application, "e2e")[1]


def _is_not_found(call: Callable[[], object]) -> bool:
    try:
        call()
    except NotFoundError:
        return True
    return False


@pytest.fixture(scope="module")
def default_stack(stacks: StackPool) -> RunningStack:
    return stacks.get(DEFAULT_PROFILE)


@pytest.fixture(scope="module")
def other_application_key(default_stack: RunningStack) -> str:
    return create_application_key(default_stack, "other")


def test_a_application_cannot_see_or_touch_another_applications_objects(
    default_stack: RunningStack, other_application_key: str, receiver: Receiver
) -> None:
    url, endpoint = receiver.add()
    with default_stack.client() as dev, default_stack.client(other_application_key) as other:
        hook = dev.webhooks.create(url, ["order.created"])
        event = dev.events.send("order.created", {"order": 1})
        eventually(lambda: endpoint.requests, message="the dev application's delivery")
        delivery = eventually(lambda: next(iter(dev.webhooks.deliveries(hook.id)), None))

        assert [w.id for w in other.webhooks.list()] == []
        attempts = {
            "get the webhook": lambda: other.webhooks.get(hook.id),
            "list its deliveries": lambda: other.webhooks.deliveries(hook.id),
            "update the webhook": lambda: other.webhooks.update(hook.id, description="mine now"),
            "get the event": lambda: other.events.get(event.id),
            "get the delivery": lambda: other.deliveries.get(delivery.id),
            "retry the delivery": lambda: other.deliveries.retry(delivery.id),
            "delete the webhook": lambda: other.webhooks.delete(hook.id),
        }
        not_refused = [name for name, attempt in attempts.items() if not _is_not_found(attempt)]
        assert not_refused == [], "the other application could " + ", ".join(not_refused)
        assert dev.webhooks.get(hook.id).description == ""
        assert dev.deliveries.get(delivery.id).status == "succeeded"
        assert dev.events.get(event.id).id == event.id


def test_the_other_applications_events_do_not_reach_this_applications_webhooks(
    default_stack: RunningStack, other_application_key: str, receiver: Receiver
) -> None:
    url, endpoint = receiver.add()
    with default_stack.client() as dev, default_stack.client(other_application_key) as other:
        dev_hook = dev.webhooks.create(url, ["invoice.paid"])
        other_url, other_endpoint = receiver.add()
        other.webhooks.create(other_url, ["invoice.paid"])
        other.events.send("invoice.paid", {"invoice": 7})
        eventually(lambda: other_endpoint.requests, message="the other application's delivery")
        assert endpoint.requests == []
        assert list(dev.webhooks.deliveries(dev_hook.id)) == []


def test_the_cli_drives_the_same_stack(default_stack: RunningStack, receiver: Receiver) -> None:
    url, endpoint = receiver.add()
    created = default_stack.cli("webhooks", "create", url, "--events", "cli.checked", "--json")
    sent = default_stack.cli("events", "send", "cli.checked", "--data", '{"from": "cli"}', "--json")
    eventually(lambda: endpoint.requests, message="the CLI's event to be delivered")
    listed = eventually(
        lambda: [
            d
            for d in default_stack.cli("webhooks", "deliveries", created["id"], "--json")["data"]
            if d["status"] == "succeeded"
        ]
    )
    assert listed[0]["event_id"] == sent["id"]
    assert default_stack.cli("events", "get", sent["id"], "--json")["data"] == {"from": "cli"}


def test_a_request_without_an_api_key_gets_api_gateways_own_401(default_stack: RunningStack) -> None:
    response = requests.get(f"{default_stack.api_url}/v1/webhooks", timeout=10)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_an_unknown_api_key_gets_dovecotes_error_envelope(default_stack: RunningStack) -> None:
    response = requests.get(
        f"{default_stack.api_url}/v1/webhooks", headers={"Authorization": "Bearer not-a-key"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"


def test_an_unknown_route_gets_api_gateways_own_404(default_stack: RunningStack) -> None:
    response = requests.get(
        f"{default_stack.api_url}/v1/nothing-here", headers={"Authorization": f"Bearer {default_stack.api_key}"}
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_the_public_documents_need_no_key(default_stack: RunningStack) -> None:
    assert requests.get(f"{default_stack.api_url}/v1/health", timeout=10).status_code == 200
    openapi = requests.get(f"{default_stack.api_url}/v1/openapi.json", timeout=10)
    assert openapi.status_code == 200
    assert "/v1/webhooks" in openapi.json()["paths"]
