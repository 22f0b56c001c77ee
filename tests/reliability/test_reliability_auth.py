"""Auth and application isolation over HTTP, on the local stack: every route of infra.routes.ROUTES
with no key, malformed keys, a revoked key and another application's ids.

Expected: 401 without a usable key (API Gateway's own `{"message": "Unauthorized"}` when the
header is missing, Dovecote's error envelope otherwise), 404 for another application's ids
(exactly as for ids that do not exist), and nothing of the owner's changes, leaks or gets
sent anywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.management.credentials import create_api_key
from functions.store.api_keys import ApiKeyStore, generate_api_key
from infra.routes import APPLICATION_ROUTES, ROUTES, Route
from tests.reliability.reliability_support import Endpoints, LocalStackHarness, endpoints, eventually, report_figures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

LOCAL_STACK_OPTIONS = {"profile": "mutx"}
OWNER = "demo"
INTRUDER = "intruder"
EVENT_TYPE = "agent.status"
AUTHORIZED = [route for route in ROUTES if route.authorized]
PUBLIC = [route for route in ROUTES if not route.authorized]


def _body(route: Route) -> Any:
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    return {
        ("POST", "/v1/webhooks"): {"url": "https://hooks.example.com/x", "events": ["agent.*"]},
        ("PATCH", "/v1/webhooks/{id}"): {"description": "taken over", "url": "https://evil.example.com/steal"},
        ("POST", "/v1/events"): {"type": EVENT_TYPE, "data": {"from": "intruder"}},
        ("POST", "/v1/webhooks/{id}/recover"): {"since": since},
    }.get((route.method, route.path))


@dataclass
class OwnerObjects:
    webhook_id: str
    webhook_url: str
    failing_webhook_id: str
    event_id: str
    delivery_id: str
    failed_delivery_id: str
    secret: str

    def path(self, route: Route) -> str:
        if "/deliveries/{id}" in route.path:
            object_id = self.failed_delivery_id if route.path.endswith("/retry") else self.delivery_id
        elif "/events/{id}" in route.path:
            object_id = self.event_id
        else:
            object_id = self.webhook_id
        return route.path.replace("{id}", object_id)


@dataclass
class World:
    stack: LocalStackHarness
    receivers: Endpoints
    owner: OwnerObjects
    owner_key: str
    intruder_key: str
    revoked_key: str
    unknown_key: str


@pytest.fixture(scope="module")
def world(local_stack: LocalStackHarness) -> Iterator[World]:
    stack = local_stack
    store = ApiKeyStore(stack.client("dynamodb"), stack.table_name)
    intruder_key = stack.new_key(INTRUDER)
    revoked, revoked_key = create_api_key(store, OWNER, "revoked before use")
    store.revoke(OWNER, revoked.id)
    with endpoints() as receivers:
        key = stack.api_key
        ok_url = receivers.add(200)
        created = stack.api("POST", "/v1/webhooks", key, json_body={"url": ok_url, "events": ["agent.*"]})
        assert created.status_code == 201, created.text
        failing = stack.api(
            "POST", "/v1/webhooks", key, json_body={"url": receivers.add(410), "events": ["deployment.*"]}
        )
        assert failing.status_code == 201, failing.text
        event = stack.api("POST", "/v1/events", key, json_body={"type": EVENT_TYPE, "data": {"n": 1}})
        assert event.status_code == 202, event.text
        failed_event = stack.api("POST", "/v1/events", key, json_body={"type": "deployment.failed", "data": {}})
        assert failed_event.status_code == 202, failed_event.text

        def delivery_of(webhook_id: str, status: str) -> str | None:
            listed = stack.api("GET", f"/v1/webhooks/{webhook_id}/deliveries", key).json()["data"]
            return listed[0]["id"] if listed and listed[0]["status"] == status else None

        delivery_id = eventually(lambda: delivery_of(created.json()["id"], "succeeded"), message="delivered")
        failed_id = eventually(lambda: delivery_of(failing.json()["id"], "failed"), message="410 fails")
        owner = OwnerObjects(
            webhook_id=created.json()["id"],
            webhook_url=ok_url,
            failing_webhook_id=failing.json()["id"],
            event_id=event.json()["id"],
            delivery_id=delivery_id,
            failed_delivery_id=failed_id,
            secret=created.json()["secret"],
        )
        yield World(stack, receivers, owner, key, intruder_key, revoked_key, generate_api_key())


MALFORMED = {
    "empty bearer": "Bearer",
    "bearer and a space": "Bearer ",
    "basic auth": "Basic ZGV2OnBhc3N3b3Jk",
    "not a key": "Bearer not-a-key",
    "key one character short": "Bearer dvc_live_" + "A" * 42,
    "key one character long": "Bearer dvc_live_" + "A" * 44,
    "wrong prefix": "Bearer dvc_test_" + "A" * 43,
    "key without scheme": "dvc_live_" + "A" * 43,
    "key and garbage": "Bearer dvc_live_" + "A" * 43 + " extra",
    "sql-ish": "Bearer ' OR 1=1 --",
    "8 KiB of key": "Bearer " + "A" * 8192,
}


def _assert_refused(response: Any, label: str) -> None:
    assert response.status_code == 401, f"{label}: {response.status_code} {response.text[:300]}"
    document = response.json()
    assert document["error"]["type"] == "unauthorized", f"{label}: {document}"
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer"), label


@pytest.mark.parametrize("route", AUTHORIZED, ids=lambda r: r.route_key)
def test_every_protected_route_refuses_a_missing_a_malformed_an_unknown_and_a_revoked_key(
    world: World, route: Route
) -> None:
    path = world.owner.path(route)
    body = _body(route)
    missing = world.stack.api(route.method, path, json_body=body)
    assert missing.status_code == 401, missing.text
    assert missing.json() == {"message": "Unauthorized"}  # API Gateway answers itself: no identity source
    for label, authorization in MALFORMED.items():
        _assert_refused(world.stack.api(route.method, path, authorization=authorization, json_body=body), label)
    unknown = world.stack.api(route.method, path, world.unknown_key, json_body=body)
    _assert_refused(unknown, "unknown key")
    assert unknown.json()["error"]["message"] == "the API key is not valid"
    revoked = world.stack.api(route.method, path, world.revoked_key, json_body=body)
    _assert_refused(revoked, "revoked key")
    assert revoked.json()["error"]["message"] == "the API key has been revoked"
    report_figures("auth-refusals", route=route.route_key, requests=2 + len(MALFORMED) + 1, accepted=0)


@pytest.mark.parametrize("route", PUBLIC, ids=lambda r: r.route_key)
def test_the_public_documents_need_no_key(world: World, route: Route) -> None:
    assert world.stack.api(route.method, route.path.replace("{asset}", "portal.js")).status_code == 200


ID_ROUTES = [route for route in APPLICATION_ROUTES if "{id}" in route.path]


@pytest.mark.parametrize("route", ID_ROUTES, ids=lambda r: r.route_key)
def test_another_applications_ids_are_not_found_and_change_nothing(world: World, route: Route) -> None:
    stack, owner = world.stack, world.owner
    before_webhook = stack.api("GET", f"/v1/webhooks/{owner.webhook_id}", world.owner_key).json()
    before_delivery = stack.api("GET", f"/v1/deliveries/{owner.delivery_id}", world.owner_key).json()
    before_failed = stack.api("GET", f"/v1/deliveries/{owner.failed_delivery_id}", world.owner_key).json()
    requests_before = len(world.receivers.requests_to(owner.webhook_url))

    response = stack.api(route.method, owner.path(route), world.intruder_key, json_body=_body(route))

    assert response.status_code == 404, f"{route.route_key}: {response.status_code} {response.text}"
    assert response.json()["error"]["type"] == "not_found"
    assert owner.secret not in response.text
    assert stack.api("GET", f"/v1/webhooks/{owner.webhook_id}", world.owner_key).json() == before_webhook
    assert stack.api("GET", f"/v1/deliveries/{owner.delivery_id}", world.owner_key).json() == before_delivery
    assert stack.api("GET", f"/v1/deliveries/{owner.failed_delivery_id}", world.owner_key).json() == before_failed
    assert len(world.receivers.requests_to(owner.webhook_url)) == requests_before
    report_figures("isolation", route=route.route_key, requests=1, leaks=0)


def test_another_application_lists_nothing_of_the_owner_and_its_events_reach_no_owner_endpoint(world: World) -> None:
    stack, owner = world.stack, world.owner
    listed = stack.api("GET", "/v1/webhooks", world.intruder_key)
    assert listed.status_code == 200
    assert listed.json()["data"] == []
    published = stack.api("POST", "/v1/events", world.intruder_key, json_body={"type": EVENT_TYPE, "data": {}})
    assert published.status_code == 202
    own_event = stack.api("POST", "/v1/events", world.owner_key, json_body={"type": EVENT_TYPE, "data": {"n": 2}})
    assert own_event.status_code == 202
    # The owner's later event arrives; the intruder's (published first) never does.
    eventually(lambda: len(world.receivers.requests_to(owner.webhook_url)) >= 2, message="the owner's event")
    event_ids = [r.body for r in world.receivers.requests_to(owner.webhook_url)]
    assert not any(published.json()["id"].encode() in body for body in event_ids)
    # Same ids with the intruder's key, with the right and the wrong prefix: never found.
    for path in (f"/v1/events/{own_event.json()['id']}", f"/v1/events/{published.json()['id']}x"):
        assert stack.api("GET", path, world.intruder_key).status_code == 404


def test_api_keys_are_stored_only_as_hashes(world: World) -> None:
    keys = [world.owner_key, world.intruder_key, world.revoked_key]
    items = world.stack.scan()
    text = repr(items)
    for key in keys:
        assert key not in text
        assert key.removeprefix("dvc_live_") not in text
    hashes = {item["key_hash"]["S"] for item in items if item.get("kind", {}).get("S") == "api_key"}
    assert {hashlib.sha256(key.encode()).hexdigest() for key in keys} <= hashes
