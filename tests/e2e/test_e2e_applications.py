"""Two applications of one stack never see each other's objects; the API edge answers like API Gateway."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import requests

from dovecote import Dovecote, InvalidRequestError, NotFoundError, PermissionDeniedError, Webhook
from tests.e2e.e2e_support import DEFAULT_PROFILE, Endpoint, Receiver, RunningStack, StackPool, eventually

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def new_application_key(stack: RunningStack, prefix: str) -> tuple[str, str]:
    """A new application (unique id starting with `prefix`) and a key of it, made with the platform key."""
    with stack.client(stack.platform_key) as platform:
        application = platform.applications.create(prefix.title(), id=f"{prefix}-{uuid.uuid4().hex[:8]}")
        return application.id, platform.application(application.id).api_keys.create(description="e2e").key


def subscribed(client: Dovecote, receiver: Receiver, event_type: str) -> tuple[Webhook, Endpoint]:
    """A new endpoint of `receiver` and a webhook of `client`'s application that sends `event_type` to it."""
    url, endpoint = receiver.add()
    return client.webhooks.create(url, [event_type]), endpoint


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
    return new_application_key(default_stack, "other")[1]


@pytest.fixture
def dev_and_other(default_stack: RunningStack, other_application_key: str) -> Iterator[tuple[Dovecote, Dovecote]]:
    """SDK clients of the stack's own application and of another application of the same stack."""
    with default_stack.client() as dev, default_stack.client(other_application_key) as other:
        yield dev, other


def test_a_application_cannot_see_or_touch_another_applications_objects(
    dev_and_other: tuple[Dovecote, Dovecote], receiver: Receiver
) -> None:
    dev, other = dev_and_other
    hook, endpoint = subscribed(dev, receiver, "order.created")
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
    dev_and_other: tuple[Dovecote, Dovecote], receiver: Receiver
) -> None:
    dev, other = dev_and_other
    dev_hook, endpoint = subscribed(dev, receiver, "invoice.paid")
    _, other_endpoint = subscribed(other, receiver, "invoice.paid")
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


def test_an_unknown_route_gets_the_error_envelope_404_through_the_default_route(default_stack: RunningStack) -> None:
    """API Gateway's `$default` route takes it to the management function (before it, API Gateway's
    own `{"message": "Not Found"}`)."""
    response = requests.get(
        f"{default_stack.api_url}/v1/nothing-here", headers={"Authorization": f"Bearer {default_stack.api_key}"}
    )
    assert response.status_code == 404
    assert response.json() == {"error": {"type": "not_found", "message": "no such route"}}


def test_the_public_documents_need_no_key(default_stack: RunningStack) -> None:
    assert requests.get(f"{default_stack.api_url}/v1/health", timeout=10).status_code == 200
    openapi = requests.get(f"{default_stack.api_url}/v1/openapi.json", timeout=10)
    assert openapi.status_code == 200
    assert "/v1/webhooks" in openapi.json()["paths"]


def test_a_platform_serves_two_customers_each_seeing_only_its_own(
    default_stack: RunningStack, receiver: Receiver
) -> None:
    acme_url, acme_endpoint = receiver.add()
    globex_url, globex_endpoint = receiver.add()
    suffix = uuid.uuid4().hex[:8]
    with default_stack.client(default_stack.platform_key) as platform:
        acme = platform.application(platform.applications.create("Acme", id=f"acme-{suffix}").id)
        globex_id = platform.applications.create("Globex", id=f"globex-{suffix}").id
        globex = platform.application(globex_id)
        acme_hook = acme.webhooks.create(acme_url, ["order.created"])
        globex.webhooks.create(globex_url, ["order.created"])
        globex_key = globex.api_keys.create(description="globex backend").key

        event = acme.events.send("order.created", {"order": 1})
        eventually(lambda: acme_endpoint.requests, message="acme's delivery")
        delivery = eventually(lambda: next(iter(acme.webhooks.deliveries(acme_hook.id, status="succeeded")), None))
        assert globex_endpoint.requests == []

        with default_stack.client(globex_key) as globex_client:
            assert _is_not_found(lambda: globex_client.webhooks.get(acme_hook.id))
            assert _is_not_found(lambda: globex_client.events.get(event.id))
            assert _is_not_found(lambda: globex_client.deliveries.get(delivery.id))
            with pytest.raises(PermissionDeniedError):
                globex_client.application(acme.id).webhooks.list()

        session = acme.portal_sessions.create(ttl_seconds=600, read_only=True)
        assert session.url == f"{default_stack.api_url}/portal#token={session.token}"
        with default_stack.client(session.token) as portal:
            assert [d.id for d in portal.webhooks.deliveries(acme_hook.id)] == [delivery.id]
            with pytest.raises(PermissionDeniedError):
                portal.webhooks.delete(acme_hook.id)

        assert platform.applications.delete(acme.id).deleted
        assert _is_not_found(lambda: platform.applications.get(acme.id))
        assert _is_not_found(acme.webhooks.list)
        assert _is_not_found(lambda: acme.events.send("order.created", {"order": 2}))
        assert [w.url for w in globex.webhooks.list()] == [globex_url]


def test_the_platforms_event_type_schema_is_enforced_on_a_customers_publish(default_stack: RunningStack) -> None:
    name = f"invoice.paid_{uuid.uuid4().hex[:8]}"
    schema = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number", "minimum": 0}}}
    _, key = new_application_key(default_stack, "schemas")
    with default_stack.client(default_stack.platform_key) as platform, default_stack.client(key) as customer:
        platform.event_types.create(name, schema=schema, example={"amount": 3})

        assert customer.event_types.get(name).json_schema == schema
        assert customer.events.send(name, {"amount": 3}).type == name
        with pytest.raises(InvalidRequestError, match=r"data\.amount: must be bigger than or equal to 0"):
            customer.events.send(name, {"amount": -1})
        with pytest.raises(PermissionDeniedError):
            customer.event_types.update(name, deprecated=True)
        assert platform.event_types.delete(name).deleted


def test_the_cli_manages_applications_and_their_keys(default_stack: RunningStack) -> None:
    platform_key = default_stack.platform_key
    application_id = f"cli-{uuid.uuid4().hex[:8]}"
    created = default_stack.cli(
        "applications", "create", "CLI Corp", "--id", application_id, "--json", api_key=platform_key
    )
    key = default_stack.cli("api-keys", "create", "--app", application_id, "--json", api_key=platform_key)
    listed = default_stack.cli("api-keys", "list", "--app", application_id, "--json", api_key=platform_key)
    hooks = default_stack.cli("--app", application_id, "webhooks", "list", "--json", api_key=platform_key)
    own = default_stack.cli("webhooks", "list", "--json", api_key=key["key"])
    revoked = default_stack.cli(
        "api-keys", "revoke", key["id"], "--app", application_id, "--json", api_key=platform_key
    )
    deleted = default_stack.cli("applications", "delete", application_id, "--json", api_key=platform_key)

    assert created["id"] == application_id
    assert [k["id"] for k in listed["data"]] == [key["id"]]
    assert hooks["data"] == own["data"] == []
    assert revoked["revoked_at"] is not None
    assert deleted == {"object": "application", "id": application_id, "deleted": True}
