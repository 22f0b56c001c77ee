"""Platform routes: applications, their keys and portal sessions, platform keys (functions/management/platform.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from functions.authorizer.handler import authorize
from functions.ingest import handler as ingest
from functions.management import handler as management
from functions.management.credentials import create_platform_key
from functions.store.api_keys import ApiKeyGrants, ApiKeyStore
from functions.store.events import EventStore
from functions.store.webhooks import WebhookStore
from tests.integration.conftest import AwsResources, CallApi, ManagementApi


class Platform:
    """Calls both API functions with a platform key, through the real authorizer decision."""

    def __init__(self, aws: AwsResources, call_api: CallApi) -> None:
        self._aws = aws
        self._call_api = call_api
        self.key, token = create_platform_key(ApiKeyStore(aws.dynamodb, aws.table_name), "tests")
        self.context = self.context_of(token)

    def context_of(self, token: str) -> dict[str, Any]:
        decision = authorize(ApiKeyGrants(self._aws.dynamodb, self._aws.table_name), f"Bearer {token}")
        return dict(decision["context"])

    def __call__(self, method: str, path: str, *, handler: Any = None, token: str | None = None, **options: Any):
        context = self.context if token is None else self.context_of(token)
        return self._call_api(handler or management.handler, method, path, context=context, **options)

    def create(self, application_id: str, name: str | None = None) -> dict[str, Any]:
        response = self("POST", "/v1/applications", body={"id": application_id, "name": name or application_id})
        assert response.status == 201, response.body
        return dict(response.body)


@pytest.fixture
def platform(aws: AwsResources, call_api: CallApi, management_api: ManagementApi) -> Platform:
    return Platform(aws, call_api)


def test_an_application_is_created_with_the_platforms_own_id(platform: Platform) -> None:
    response = platform("POST", "/v1/applications", body={"id": "acme", "name": "Acme", "metadata": {"plan": "pro"}})

    assert response.status == 201
    assert response.body["object"] == "application"
    assert (response.body["id"], response.body["name"], response.body["metadata"]) == ("acme", "Acme", {"plan": "pro"})
    assert datetime.fromisoformat(response.body["created_at"])
    assert platform("GET", "/v1/applications/acme").body == response.body


def test_an_application_without_an_id_gets_a_generated_one(platform: Platform) -> None:
    response = platform("POST", "/v1/applications", body={"name": "Anonymous"})

    assert response.status == 201
    assert response.body["id"].startswith("app_")


def test_an_existing_application_id_is_a_conflict(platform: Platform) -> None:
    platform.create("acme")

    response = platform("POST", "/v1/applications", body={"id": "acme", "name": "again"})

    assert response.status == 409
    assert response.error_type == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "has space", "name": "x"}, "id"),
        ({"id": "a" * 65, "name": "x"}, "id"),
        ({"id": "..", "name": "x"}, "id"),
        ({"id": "ok"}, "name"),
        ({"id": "ok", "name": ""}, "name"),
        ({"id": "ok", "name": "x", "metadata": {"k": 1}}, "metadata"),
        ({"id": "ok", "name": "x", "metadata": {str(i): "v" for i in range(21)}}, "metadata"),
        ({"id": "ok", "name": "x", "colour": "red"}, "colour"),
    ],
)
def test_an_invalid_application_is_refused_naming_the_field(platform: Platform, body: dict[str, Any], field: str):
    response = platform("POST", "/v1/applications", body=body)

    assert response.status == 422, response.body
    assert response.body["error"]["message"].startswith(field)


def test_applications_are_listed_in_pages(platform: Platform) -> None:
    for application_id in ("a1", "a2", "a3"):
        platform.create(application_id)

    first = platform("GET", "/v1/applications", query={"limit": "2"}).body
    second = platform("GET", "/v1/applications", query={"limit": "2", "cursor": first["next_cursor"]}).body

    assert [a["id"] for a in first["data"]] == ["a1", "a2"]
    assert first["has_more"] is True
    assert [a["id"] for a in second["data"]] == ["a3"]
    assert second["has_more"] is False


def test_an_application_is_renamed_and_its_metadata_replaced(platform: Platform) -> None:
    platform.create("acme")

    response = platform("PATCH", "/v1/applications/acme", body={"name": "Acme Inc", "metadata": {"tier": "gold"}})

    assert response.status == 200
    assert (response.body["name"], response.body["metadata"]) == ("Acme Inc", {"tier": "gold"})
    assert platform("GET", "/v1/applications/acme").body["name"] == "Acme Inc"


def test_an_unknown_application_is_not_found_on_every_kind_of_route(platform: Platform) -> None:
    for method, path, handler in [
        ("GET", "/v1/applications/nobody", None),
        ("GET", "/v1/applications/nobody/webhooks", None),
        ("POST", "/v1/applications/nobody/api-keys", None),
        ("POST", "/v1/applications/nobody/portal-sessions", None),
        ("POST", "/v1/applications/nobody/events", ingest.handler),
    ]:
        body = {"type": "user.created", "data": {}} if handler else None
        response = platform(method, path, handler=handler, body=body)
        assert response.status == 404, (path, response.body)
        assert response.error_type == "not_found"


def test_the_platform_publishes_for_one_application(platform: Platform, aws: AwsResources) -> None:
    platform.create("acme")
    platform.create("globex")

    response = platform(
        "POST", "/v1/applications/acme/events", handler=ingest.handler, body={"type": "user.created", "data": {"n": 1}}
    )

    assert response.status == 202, response.body
    events = EventStore(aws.dynamodb, aws.table_name)
    assert events.find("acme", response.body["id"]) is not None
    assert events.find("globex", response.body["id"]) is None


def test_a_platform_key_on_an_unscoped_application_route_is_refused_with_a_hint(platform: Platform) -> None:
    response = platform("GET", "/v1/webhooks")

    assert response.status == 403
    assert "/v1/applications/" in response.body["error"]["message"]


def test_an_application_key_is_shown_once_and_then_only_by_its_prefix(platform: Platform) -> None:
    platform.create("acme")

    created = platform("POST", "/v1/applications/acme/api-keys", body={"description": "backend"})
    listed = platform("GET", "/v1/applications/acme/api-keys")

    assert created.status == 201
    assert created.body["key"].startswith("dvc_live_")
    assert created.body["key"].startswith(created.body["display_prefix"])
    assert [k["id"] for k in listed.body["data"]] == [created.body["id"]]
    assert "key" not in listed.body["data"][0]
    caller = platform.context_of(created.body["key"])
    assert (caller["credential"], caller["application_id"]) == ("application", "acme")


def test_a_revoked_application_key_stops_working(platform: Platform) -> None:
    platform.create("acme")
    created = platform("POST", "/v1/applications/acme/api-keys", body={}).body

    revoked = platform("DELETE", f"/v1/applications/acme/api-keys/{created['id']}")

    assert revoked.status == 200
    assert revoked.body["revoked_at"] is not None
    assert platform("GET", "/v1/webhooks", token=created["key"]).status == 401


def test_a_portal_session_url_carries_its_token_in_the_fragment(platform: Platform) -> None:
    platform.create("acme")

    response = platform(
        "POST",
        "/v1/applications/acme/portal-sessions",
        body={"ttl_seconds": 600, "read_only": True},
        headers={"x-forwarded-proto": "https"},
    )

    assert response.status == 201, response.body
    session = response.body
    assert session["object"] == "portal_session"
    assert session["url"] == f"https://api.example.com/portal#token={session['token']}"
    assert session["token"].startswith("dvc_sess_")
    assert session["read_only"] is True
    remaining = datetime.fromisoformat(session["expires_at"]) - datetime.fromisoformat(
        platform("GET", "/v1/applications/acme").body["created_at"]
    )
    assert 590 <= remaining.total_seconds() <= 601
    assert platform("GET", "/v1/webhooks", token=session["token"]).status == 200
    assert platform("POST", "/v1/webhooks", token=session["token"], body={"url": "https://x.example.com"}).status == 403


@pytest.mark.parametrize("ttl", [59, 86_401, "long"])
def test_a_portal_session_lifetime_out_of_range_is_refused(platform: Platform, ttl: Any) -> None:
    platform.create("acme")

    response = platform("POST", "/v1/applications/acme/portal-sessions", body={"ttl_seconds": ttl})

    assert response.status == 422
    assert response.body["error"]["message"].startswith("ttl_seconds")


def test_a_portal_session_opens_with_no_body(platform: Platform) -> None:
    platform.create("acme")

    response = platform("POST", "/v1/applications/acme/portal-sessions")

    assert response.status == 201, response.body
    assert response.body["read_only"] is False


def test_platform_keys_are_created_listed_and_revoked(platform: Platform) -> None:
    created = platform("POST", "/v1/platform-keys", body={"description": "ci"})
    listed = platform("GET", "/v1/platform-keys")
    revoked = platform("DELETE", f"/v1/platform-keys/{created.body['id']}")

    assert created.status == 201
    assert created.body["key"].startswith("dvc_plat_")
    assert {k["id"] for k in listed.body["data"]} == {created.body["id"], platform.key.id}
    assert revoked.status == 200
    assert platform("GET", "/v1/applications", token=created.body["key"]).status == 401


def test_the_key_making_the_request_cannot_revoke_itself(platform: Platform) -> None:
    response = platform("DELETE", f"/v1/platform-keys/{platform.key.id}")

    assert response.status == 409
    assert platform("GET", "/v1/applications").status == 200


def test_deleting_an_application_revokes_its_credentials_removes_its_webhooks_and_leaves_others(
    platform: Platform, aws: AwsResources
) -> None:
    platform.create("acme")
    platform.create("globex")
    key = platform("POST", "/v1/applications/acme/api-keys", body={}).body["key"]
    session = platform("POST", "/v1/applications/acme/portal-sessions").body["token"]
    hook = {"url": "https://hooks.example.com/", "events": ["*"]}
    acme_hook = platform("POST", "/v1/applications/acme/webhooks", body=hook).body
    globex_hook = platform("POST", "/v1/applications/globex/webhooks", body=hook).body

    deleted = platform("DELETE", "/v1/applications/acme")

    assert deleted.status == 200
    assert deleted.body == {"object": "application", "id": "acme", "deleted": True}
    assert platform("GET", "/v1/applications/acme").status == 404
    assert platform("GET", "/v1/applications/acme/webhooks").status == 404
    assert platform("GET", f"/v1/applications/acme/webhooks/{acme_hook['id']}").status == 404
    assert platform("GET", "/v1/webhooks", token=key).status == 401
    assert platform("GET", "/v1/webhooks", token=session).status == 401
    webhooks = WebhookStore(aws.dynamodb, aws.table_name)
    assert webhooks.find("acme", acme_hook["id"]) is None
    assert webhooks.find("globex", globex_hook["id"]) is not None
    assert platform("GET", f"/v1/applications/globex/webhooks/{globex_hook['id']}").status == 200
    assert platform("DELETE", "/v1/applications/acme").status == 404


def test_a_deleted_applications_id_is_not_given_out_again_while_its_data_lives(platform: Platform) -> None:
    platform.create("acme")
    platform("DELETE", "/v1/applications/acme")

    response = platform("POST", "/v1/applications", body={"id": "acme", "name": "new acme"})

    assert response.status == 409
    assert "deleted recently" in response.body["error"]["message"]
