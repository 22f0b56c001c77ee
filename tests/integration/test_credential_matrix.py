"""The isolation matrix: every route of the HTTP API by every kind of caller, with the expected status.

Each cell runs the real authorizer decision (functions/authorizer/handler.py `authorize`
against the moto table) and hands its context to the function that serves the route, as
API Gateway does. Callers: a platform key, a key of application A (`acme`), a key of B
(`globex`), a read-write and a read-only portal session of A, a revoked key of A and an
expired session of A. Every object in a path belongs to A.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from functions.authorizer.handler import authorize
from functions.core.models import Application, iso, utc_now
from functions.core.profile import EventType
from functions.ingest import handler as ingest
from functions.management import handler as management
from functions.management.credentials import create_api_key, create_platform_key, open_portal_session
from functions.store.api_keys import ApiKeyGrants, ApiKeyStore
from functions.store.applications import ApplicationStore
from functions.store.event_types import EventTypeStore, StoredEventType
from infra.routes import (
    APPLICATION_ROUTES,
    PLATFORM_ROUTES,
    PORTAL_ROUTES,
    PUBLIC_ROUTES,
    ROUTES,
    SCOPED_ROUTES,
    Route,
)
from tests.integration.conftest import (
    APPLICATION,
    OTHER_APPLICATION,
    AwsResources,
    CallApi,
    ManagementApi,
    seed_failed_delivery,
    set_operational_webhook,
)

CALLERS = ("platform", "key_a", "key_b", "session_a", "read_only_session_a", "revoked_key_a", "expired_session_a")
HANDLERS = {"management": management.handler, "ingest": ingest.handler}

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/webhooks"): {"url": "https://hooks.example.com/", "events": ["*"]},
    ("PATCH", "/webhooks/{id}"): {"description": "changed"},
    ("POST", "/events"): {"type": "user.created", "data": {}},
    ("POST", "/events/batch"): {"events": [{"type": "user.created", "data": {}}]},
    ("POST", "/webhooks/{id}/recover"): {"since": iso(utc_now() - timedelta(hours=1))},
    ("POST", "/applications"): {"name": "Initech"},
    ("PATCH", "/applications/{application_id}"): {"name": "Acme Inc"},
    ("POST", "/applications/{application_id}/api-keys"): {"description": "matrix"},
    ("POST", "/applications/{application_id}/portal-sessions"): {"ttl_seconds": 600},
    ("POST", "/platform-keys"): {"description": "matrix"},
    ("POST", "/event-types"): {"name": "matrix.created", "schema": {"type": "object"}},
    ("PATCH", "/event-types/{name}"): {"deprecated": True},
    ("PUT", "/operational-webhook"): {"url": "https://ops.example.com/", "events": ["endpoint.disabled"]},
}
SUCCESS: dict[tuple[str, str], int] = {
    ("POST", "/webhooks"): 201,
    ("POST", "/events"): 202,
    ("POST", "/events/batch"): 202,
    ("POST", "/webhooks/{id}/test"): 202,
    ("POST", "/webhooks/{id}/recover"): 202,
    ("POST", "/deliveries/{id}/retry"): 202,
    ("POST", "/applications"): 201,
    ("POST", "/applications/{application_id}/api-keys"): 201,
    ("POST", "/applications/{application_id}/portal-sessions"): 201,
    ("POST", "/platform-keys"): 201,
    ("POST", "/event-types"): 201,
}
COLLECTIONS = {
    ("GET", "/event-types"),
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
    ("POST", "/events"),
    ("POST", "/events/batch"),
}
"""Application routes without an id: another application's key acts on its own application there."""
DEPLOYMENT_WIDE_READS = {("GET", "/event-types"), ("GET", "/event-types/{name}")}
"""The catalog is the deployment's: every credential reads it, a platform key on the bare routes too."""
CATALOG_TYPE = "matrix.thing"


def _shape(route: Route) -> tuple[str, str]:
    """The route as BODIES and SUCCESS name it: the path without /v1 and without the application scope."""
    path = route.path.removeprefix("/v1")
    if route in SCOPED_ROUTES:
        path = path.removeprefix("/applications/{application_id}")
    return route.method, path


def expected_status(route: Route, caller: str) -> int:
    method, path = _shape(route)
    success = SUCCESS.get((method, path), 200)
    if route in PUBLIC_ROUTES:
        return 200
    if caller in {"revoked_key_a", "expired_session_a"}:
        return 401
    if caller == "read_only_session_a" and method != "GET":
        return 403
    if route in PLATFORM_ROUTES or route in SCOPED_ROUTES:
        return success if caller == "platform" else 403
    if (method, path) in DEPLOYMENT_WIDE_READS:
        return success
    if caller == "platform":
        return 403
    if caller == "key_b" and (method, path) not in COLLECTIONS:
        return 404
    return success


API_ROUTES = [route for route in ROUTES if route not in PORTAL_ROUTES]
"""The portal's page server has its own matrix (tests/integration/test_portal_session.py)."""
CELLS = [(route, caller) for route in API_ROUTES for caller in CALLERS]


@pytest.fixture
def world(aws: AwsResources, management_api: ManagementApi) -> dict[str, str]:
    """Applications A and B, one credential per caller, and A's webhook, event and failed delivery."""
    now = utc_now()
    applications = ApplicationStore(aws.dynamodb, aws.table_name)
    for application_id in (APPLICATION, OTHER_APPLICATION):
        applications.create(Application(id=application_id, name=application_id, created_at=now, updated_at=now))
    keys = ApiKeyStore(aws.dynamodb, aws.table_name)
    _, platform_token = create_platform_key(keys, "matrix caller")
    other_platform_key, _ = create_platform_key(keys, "to revoke")
    revoked, revoked_token = create_api_key(keys, APPLICATION, "revoked")
    keys.revoke(APPLICATION, revoked.id)
    expired_session, expired_token = open_portal_session(
        keys, APPLICATION, ttl_seconds=60, now=now - timedelta(hours=1)
    )
    key_a, key_a_token = create_api_key(keys, APPLICATION, "key a")
    tokens = {
        "platform": platform_token,
        "key_a": key_a_token,
        "key_b": create_api_key(keys, OTHER_APPLICATION)[1],
        "session_a": open_portal_session(keys, APPLICATION)[1],
        "read_only_session_a": open_portal_session(keys, APPLICATION, read_only=True)[1],
        "revoked_key_a": revoked_token,
        "expired_session_a": expired_token,
    }
    owned = seed_failed_delivery(aws, management_api, APPLICATION)
    set_operational_webhook(aws, "https://ops.example.com/")
    EventTypeStore(aws.dynamodb, aws.table_name).create(
        StoredEventType(event_type=EventType(name=CATALOG_TYPE), source="platform", updated_at=now)
    )
    assert expired_session.expires_at is not None
    return {
        **{f"token:{name}": token for name, token in tokens.items()},
        "webhook": owned["webhook_id"],
        "delivery": owned["delivery_id"],
        "event": owned["event_id"],
        "application_key": key_a.id,
        "platform_key": other_platform_key.id,
    }


def fill(route: Route, world: dict[str, str]) -> str:
    path = route.path.replace("{application_id}", APPLICATION)
    if "{key_id}" in path:
        path = path.replace("{key_id}", world["platform_key" if "platform-keys" in path else "application_key"])
    path = path.replace("{name}", CATALOG_TYPE)
    if "{id}" in path:
        noun = "webhook" if "/webhooks/" in path else "delivery" if "/deliveries/" in path else "event"
        path = path.replace("{id}", world[noun])
    return path


@pytest.mark.parametrize(("route", "caller"), CELLS, ids=[f"{r.route_key} as {c}" for r, c in CELLS])
def test_each_caller_gets_the_expected_status_on_each_route(
    call_api: CallApi, aws: AwsResources, world: dict[str, str], route: Route, caller: str
) -> None:
    decision = authorize(ApiKeyGrants(aws.dynamodb, aws.table_name), f"Bearer {world[f'token:{caller}']}")
    response = call_api(
        HANDLERS[route.target],
        route.method,
        fill(route, world),
        context=None if route in PUBLIC_ROUTES else decision["context"],
        body=BODIES.get(_shape(route)),
    )

    assert response.status == expected_status(route, caller), response.body
    if response.status >= 400:
        assert set(response.body["error"]) == {"type", "message"}


def test_the_matrix_covers_every_route_and_caller() -> None:
    assert len(CELLS) == len(API_ROUTES) * len(CALLERS)
    assert {route.route_key for route in ROUTES} == {
        r.route_key for r in (*PUBLIC_ROUTES, *APPLICATION_ROUTES, *SCOPED_ROUTES, *PLATFORM_ROUTES, *PORTAL_ROUTES)
    }


BARE_APPLICATION_ROUTES = [route for route in APPLICATION_ROUTES if _shape(route) not in DEPLOYMENT_WIDE_READS]


@pytest.mark.parametrize("route", BARE_APPLICATION_ROUTES, ids=[r.route_key for r in BARE_APPLICATION_ROUTES])
def test_a_platform_key_on_a_bare_application_route_is_refused_before_its_body_is_read(
    call_api: CallApi, aws: AwsResources, world: dict[str, str], route: Route
) -> None:
    decision = authorize(ApiKeyGrants(aws.dynamodb, aws.table_name), f"Bearer {world['token:platform']}")
    response = call_api(
        HANDLERS[route.target], route.method, fill(route, world), context=decision["context"], body={"url": 7}
    )

    assert response.status == 403, response.body
    assert response.body["error"]["message"].startswith("a platform key speaks for every application")
