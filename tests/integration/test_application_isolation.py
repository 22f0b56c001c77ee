"""Application isolation across every route of both API functions (management and ingest).

Another application's ids are answered exactly like ids that do not exist (404), and change
nothing; without an application from the authorizer every non-public route answers 401 with the
error envelope. The route table below must list every operation of the OpenAPI document.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from functions.core.ids import new_id
from functions.core.models import DeliveryStatus, iso, utc_now
from functions.ingest import handler as ingest
from functions.management import handler as management
from functions.management.openapi import build_document
from functions.store.deliveries import DeliveryStore
from functions.store.webhooks import WebhookStore
from infra.routes import ROUTES as GATEWAY_ROUTES
from tests.integration.conftest import APPLICATION, OTHER_APPLICATION, seed_failed_delivery

if TYPE_CHECKING:
    from tests.integration.conftest import AwsResources, CallApi, ManagementApi

PUBLIC = {("GET", "/v1/health"), ("GET", "/v1/openapi.json")}
APPLICATION_ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "/v1/health"): management,
    ("GET", "/v1/openapi.json"): management,
    ("GET", "/v1/event-types"): management,
    ("GET", "/v1/event-types/{name}"): management,
    ("POST", "/v1/webhooks"): management,
    ("GET", "/v1/webhooks"): management,
    ("GET", "/v1/webhooks/{webhook_id}"): management,
    ("PATCH", "/v1/webhooks/{webhook_id}"): management,
    ("DELETE", "/v1/webhooks/{webhook_id}"): management,
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): management,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): management,
    ("GET", "/v1/deliveries/{delivery_id}"): management,
    ("GET", "/v1/events/{event_id}"): management,
    ("POST", "/v1/events"): ingest,
    ("POST", "/v1/events/batch"): ingest,
    ("POST", "/v1/webhooks/{webhook_id}/test"): ingest,
    ("POST", "/v1/deliveries/{delivery_id}/retry"): ingest,
    ("POST", "/v1/webhooks/{webhook_id}/recover"): ingest,
}
SCOPED_ROUTES: dict[tuple[str, str], Any] = {
    (method, "/v1/applications/{application_id}" + path.removeprefix("/v1")): function
    for (method, path), function in APPLICATION_ROUTES.items()
    if (method, path) not in PUBLIC
}
PLATFORM_ROUTES: dict[tuple[str, str], Any] = dict.fromkeys(
    [
        ("POST", "/v1/applications"),
        ("GET", "/v1/applications"),
        ("GET", "/v1/applications/{application_id}"),
        ("PATCH", "/v1/applications/{application_id}"),
        ("DELETE", "/v1/applications/{application_id}"),
        ("POST", "/v1/applications/{application_id}/api-keys"),
        ("GET", "/v1/applications/{application_id}/api-keys"),
        ("DELETE", "/v1/applications/{application_id}/api-keys/{key_id}"),
        ("POST", "/v1/applications/{application_id}/portal-sessions"),
        ("POST", "/v1/platform-keys"),
        ("GET", "/v1/platform-keys"),
        ("DELETE", "/v1/platform-keys/{key_id}"),
        ("PUT", "/v1/operational-webhook"),
        ("GET", "/v1/operational-webhook"),
        ("DELETE", "/v1/operational-webhook"),
        ("POST", "/v1/event-types"),
        ("PATCH", "/v1/event-types/{name}"),
        ("DELETE", "/v1/event-types/{name}"),
    ],
    management,
)
"""The platform key's own routes: the management function serves them all."""
DEPLOYMENT_WIDE = {("GET", "/v1/event-types/{name}")}
"""Application routes whose object belongs to the deployment (the catalog): every application sees the same one."""
ROUTES = {**APPLICATION_ROUTES, **SCOPED_ROUTES, **PLATFORM_ROUTES}
BODIES = {
    ("POST", "/v1/webhooks"): {"url": "https://hooks.example.com/", "events": ["*"]},
    ("PATCH", "/v1/webhooks/{webhook_id}"): {"description": "taken over"},
    ("POST", "/v1/events"): {"type": "user.created", "data": {}},
    ("POST", "/v1/events/batch"): {"events": [{"type": "user.created", "data": {}}]},
    ("POST", "/v1/webhooks/{webhook_id}/recover"): {"since": iso(utc_now() - timedelta(hours=1))},
    ("POST", "/v1/event-types"): {"name": "isolation.created"},
    ("PATCH", "/v1/event-types/{name}"): {"description": "taken over"},
}
ID_ROUTES = sorted(
    route
    for route in APPLICATION_ROUTES
    if "{" in route[1] and route != ("DELETE", "/v1/webhooks/{webhook_id}") and route not in DEPLOYMENT_WIDE
)


def test_the_route_table_covers_every_documented_operation():
    documented = {(method.upper(), path) for path, ops in build_document()["paths"].items() for method in ops}

    assert documented == set(ROUTES)


def test_api_gateway_sends_each_route_to_the_function_that_serves_it():
    def gateway_path(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    served = {(m, gateway_path(p)): "management" if f is management else "ingest" for (m, p), f in ROUTES.items()}

    # The portal's page server has its own tests (tests/unit/test_portal.py, tests/infra/test_infra_portal.py).
    api_routes = [r for r in GATEWAY_ROUTES if r.target != "portal"]
    assert {(r.method, gateway_path(r.path)): r.target for r in api_routes} == served
    assert {(r.method, r.path) for r in api_routes if not r.authorized} == PUBLIC


def fill(path: str, ids: dict[str, str]) -> str:
    return path.format(**ids)


@pytest.fixture
def owned(management_api: ManagementApi, aws: AwsResources) -> dict[str, str]:
    return seed_failed_delivery(aws, management_api, APPLICATION)


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_another_applications_id_is_not_found(call_api: CallApi, owned, method: str, path: str):
    response = call_api(
        ROUTES[method, path].handler,
        method,
        fill(path, owned),
        application=OTHER_APPLICATION,
        body=BODIES.get((method, path)),
    )

    assert response.status == 404, response.body
    assert response.error_type == "not_found"


def test_another_applications_writes_change_nothing(call_api: CallApi, management_api: ManagementApi, owned, aws):
    before = WebhookStore(aws.dynamodb, aws.table_name).get(APPLICATION, owned["webhook_id"])
    for method, path in [*ID_ROUTES, ("DELETE", "/v1/webhooks/{webhook_id}")]:
        call_api(
            ROUTES[method, path].handler,
            method,
            fill(path, owned),
            application=OTHER_APPLICATION,
            body=BODIES.get((method, path)),
        )

    assert WebhookStore(aws.dynamodb, aws.table_name).get(APPLICATION, owned["webhook_id"]) == before
    delivery = DeliveryStore(aws.dynamodb, aws.table_name).get(APPLICATION, owned["delivery_id"])
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.series == 1
    assert management_api("GET", "/v1/webhooks", application=OTHER_APPLICATION).body["data"] == []


def test_deleting_another_applications_webhook_is_not_found_and_deletes_nothing(call_api: CallApi, aws, owned):
    response = call_api(
        management.handler, "DELETE", f"/v1/webhooks/{owned['webhook_id']}", application=OTHER_APPLICATION
    )

    assert response.status == 404
    assert response.body["error"]["type"] == "not_found"
    assert WebhookStore(aws.dynamodb, aws.table_name).find(APPLICATION, owned["webhook_id"]) is not None


@pytest.mark.parametrize(("method", "path"), sorted(set(ROUTES) - PUBLIC))
def test_without_a_application_every_protected_route_answers_401(call_api: CallApi, aws, method: str, path: str):
    ids = {
        "webhook_id": new_id("wh"),
        "delivery_id": new_id("del"),
        "event_id": new_id("evt"),
        "application_id": "acme",
        "key_id": new_id("key"),
        "name": "task.completed",
    }

    response = call_api(
        ROUTES[method, path].handler, method, fill(path, ids), application=None, body=BODIES.get((method, path))
    )

    assert response.status == 401
    assert response.body == {"error": {"type": "unauthorized", "message": response.body["error"]["message"]}}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC))
def test_public_routes_answer_without_a_application(call_api: CallApi, aws, method: str, path: str):
    assert call_api(ROUTES[method, path].handler, method, path, application=None).status == 200


def test_an_application_reads_the_deployments_catalog_and_cannot_change_it(
    call_api: CallApi, management_api: ManagementApi, aws
):
    registered = management_api(
        "POST",
        "/v1/event-types",
        context={"credential": "platform"},
        body={"name": "invoice.paid", "description": "An invoice was paid."},
    )
    assert registered.status == 201, registered.body

    for application in (APPLICATION, OTHER_APPLICATION):
        shown = management_api("GET", "/v1/event-types/invoice.paid", application=application)
        assert (shown.status, shown.body["description"]) == (200, "An invoice was paid.")
        for method, body in (("PATCH", {"description": "taken over"}), ("DELETE", None)):
            refused = call_api(
                management.handler, method, "/v1/event-types/invoice.paid", application=application, body=body
            )
            assert (refused.status, refused.error_type) == (403, "forbidden"), refused.body
        created = call_api(
            management.handler, "POST", "/v1/event-types", application=application, body={"name": "sneaky.type"}
        )
        assert created.status == 403

    listed = management_api("GET", "/v1/event-types", application=OTHER_APPLICATION).body["data"]
    assert [(t["name"], t["description"]) for t in listed] == [("invoice.paid", "An invoice was paid.")]
