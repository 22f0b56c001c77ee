"""The SDK's platform surface: applications, an application's routes, keys, portal sessions, platform keys."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from dovecote import (
    ApiKey,
    ApiKeyWithSecret,
    Application,
    AsyncDovecote,
    DeletedApplication,
    DeletedOperationalWebhook,
    Dovecote,
    OperationalWebhook,
    OperationalWebhookWithSecret,
    PermissionDeniedError,
    PortalSession,
)
from dovecote.cli import main
from tests.unit.test_client_fake_api import TIMESTAMP, FakeApi, list_json, webhook_json

PLATFORM_KEY = "dvc_plat_test"


def application_json(application_id: str = "acme", **fields: Any) -> dict[str, Any]:
    return {
        "object": "application",
        "id": application_id,
        "name": "Acme",
        "metadata": {},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        **fields,
    }


def key_json(key_id: str = "key_1", **fields: Any) -> dict[str, Any]:
    return {
        "object": "api_key",
        "id": key_id,
        "kind": "application",
        "application_id": "acme",
        "display_prefix": "dvc_live_AbCd",
        "description": "",
        "created_at": TIMESTAMP,
        "revoked_at": None,
        **fields,
    }


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with FakeApi() as fake:
        yield fake


@pytest.fixture
def client(api: FakeApi) -> Iterator[Dovecote]:
    with Dovecote(api_key=PLATFORM_KEY, base_url=api.url, max_retries=0) as dovecote:
        yield dovecote


def test_an_application_is_created_with_only_the_given_fields(api: FakeApi, client: Dovecote) -> None:
    api.add("POST", "/v1/applications", 201, application_json())

    application = client.applications.create("Acme", id="acme")

    assert isinstance(application, Application)
    assert application.id == "acme"
    assert api.requests_to("POST", "/v1/applications")[0].body == {"id": "acme", "name": "Acme"}


def test_applications_are_listed_read_updated_and_deleted(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/applications", body=list_json([application_json("a1"), application_json("a2")]))
    api.add("GET", "/v1/applications/a1", body=application_json("a1"))
    api.add("PATCH", "/v1/applications/a1", body=application_json("a1", name="Renamed"))
    api.add("DELETE", "/v1/applications/a1", body={"object": "application", "id": "a1", "deleted": True})

    assert [a.id for a in client.applications.list()] == ["a1", "a2"]
    assert client.applications.get("a1").name == "Acme"
    assert client.applications.update("a1", name="Renamed").name == "Renamed"
    assert api.requests_to("PATCH", "/v1/applications/a1")[0].body == {"name": "Renamed"}
    deleted = client.applications.delete("a1")
    assert isinstance(deleted, DeletedApplication)
    assert deleted.deleted


def test_an_applications_default_rate_limit_is_set_on_create_changed_and_cleared(
    api: FakeApi, client: Dovecote
) -> None:
    api.add("POST", "/v1/applications", 201, application_json("a1", rate_limit_per_second=50))
    api.add("PATCH", "/v1/applications/a1", body=application_json("a1", rate_limit_per_second=20))
    api.add("PATCH", "/v1/applications/a1", body=application_json("a1"))

    assert client.applications.create("Acme", id="a1", rate_limit_per_second=50).rate_limit_per_second == 50
    assert client.applications.update("a1", rate_limit_per_second=20).rate_limit_per_second == 20
    assert client.applications.update("a1", clear_rate_limit=True).rate_limit_per_second is None
    assert api.requests_to("POST", "/v1/applications")[0].body == {
        "id": "a1",
        "name": "Acme",
        "rate_limit_per_second": 50,
    }
    patches = [request.body for request in api.requests_to("PATCH", "/v1/applications/a1")]
    assert patches == [{"rate_limit_per_second": 20}, {"rate_limit_per_second": None}]


def test_an_applications_routes_go_under_its_path(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/applications/acme/webhooks", body=list_json([webhook_json()]))
    api.add("POST", "/v1/applications/acme/events", 202, {"id": "evt_1", "object": "event", "type": "a.b"})

    acme = client.application("acme")
    assert [w.id for w in acme.webhooks.list()] == ["wh_1"]
    acme.events.send("a.b", {"n": 1})

    assert api.requests_to("POST", "/v1/applications/acme/events")[0].body == {"type": "a.b", "data": {"n": 1}}


def test_an_application_id_is_escaped_as_one_path_segment(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/applications/a%2Fb/webhooks", body=list_json([]))

    list(client.application("a/b").webhooks.list())

    assert len(api.requests_to("GET", "/v1/applications/a%2Fb/webhooks")) == 1


def test_keys_and_portal_sessions_of_an_application(api: FakeApi, client: Dovecote) -> None:
    api.add("POST", "/v1/applications/acme/api-keys", 201, key_json(key="dvc_live_secret"))
    api.add("GET", "/v1/applications/acme/api-keys", body=list_json([key_json()]))
    api.add("DELETE", "/v1/applications/acme/api-keys/key_1", body=key_json(revoked_at=TIMESTAMP))
    session = {
        "object": "portal_session",
        "id": "key_2",
        "application_id": "acme",
        "url": "https://api.example.com/portal#token=dvc_sess_x",
        "token": "dvc_sess_x",
        "read_only": True,
        "expires_at": TIMESTAMP,
    }
    api.add("POST", "/v1/applications/acme/portal-sessions", 201, session)

    acme = client.application("acme")
    created = acme.api_keys.create(description="backend")
    assert isinstance(created, ApiKeyWithSecret)
    assert created.key == "dvc_live_secret"
    assert [k.id for k in acme.api_keys.list()] == ["key_1"]
    revoked = acme.api_keys.revoke("key_1")
    assert isinstance(revoked, ApiKey)
    assert revoked.revoked_at is not None
    opened = acme.portal_sessions.create(ttl_seconds=600, read_only=True)
    assert isinstance(opened, PortalSession)
    assert opened.url.endswith("#token=dvc_sess_x")
    assert api.requests_to("POST", "/v1/applications/acme/portal-sessions")[0].body == {
        "ttl_seconds": 600,
        "read_only": True,
    }


def test_platform_keys(api: FakeApi, client: Dovecote) -> None:
    platform_key = key_json("key_p", kind="platform", application_id=None)
    api.add("POST", "/v1/platform-keys", 201, {**platform_key, "key": "dvc_plat_new"})
    api.add("GET", "/v1/platform-keys", body=list_json([platform_key]))
    api.add("DELETE", "/v1/platform-keys/key_p", body=platform_key)

    assert client.platform_keys.create(description="ci").key == "dvc_plat_new"
    assert [k.kind for k in client.platform_keys.list()] == ["platform"]
    assert client.platform_keys.revoke("key_p").id == "key_p"


def test_a_403_is_a_permission_error(api: FakeApi, client: Dovecote) -> None:
    api.add(
        "GET", "/v1/applications", 403, {"error": {"type": "forbidden", "message": "this route needs a platform key"}}
    )

    with pytest.raises(PermissionDeniedError) as raised:
        client.applications.list()

    assert raised.value.status == 403
    assert raised.value.error_type == "forbidden"


def test_the_async_client_has_the_same_platform_surface(api: FakeApi) -> None:
    api.add("POST", "/v1/applications", 201, application_json())
    api.add("GET", "/v1/applications/acme/webhooks", body=list_json([webhook_json()]))

    async def scenario() -> tuple[str, list[str]]:
        async with AsyncDovecote(api_key=PLATFORM_KEY, base_url=api.url, max_retries=0) as client:
            created = await client.applications.create("Acme", id="acme")
            page = await client.application("acme").webhooks.list()
            return created.id, [w.id async for w in page]

    assert asyncio.run(scenario()) == ("acme", ["wh_1"])


def test_the_cli_acts_for_an_application_with_app(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("GET", "/v1/applications/acme/webhooks", body=list_json([webhook_json()]))
    api.add("POST", "/v1/applications/acme/api-keys", 201, key_json(key="dvc_live_secret"))

    listed = main(["--api-url", api.url, "--api-key", PLATFORM_KEY, "--app", "acme", "webhooks", "list", "--json"])
    created = main(["--api-url", api.url, "--api-key", PLATFORM_KEY, "api-keys", "create", "--app", "acme"])

    assert (listed, created) == (0, 0)
    assert "dvc_live_secret" in capsys.readouterr().out
    assert len(api.requests_to("GET", "/v1/applications/acme/webhooks")) == 1


def test_the_cli_asks_for_app_where_a_key_command_needs_it(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--api-url", "http://127.0.0.1:9", "--api-key", PLATFORM_KEY, "api-keys", "list"])

    assert status == 2
    assert "--app is required" in capsys.readouterr().err


def operational_webhook_json(**fields: Any) -> dict[str, Any]:
    return {
        "object": "operational_webhook",
        "id": "wh_ops",
        "url": "https://ops.example.com/",
        "events": ["*"],
        "enabled": True,
        "disabled_reason": None,
        "disabled_at": None,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        **fields,
    }


def test_the_operational_webhook_is_set_read_and_deleted(api: FakeApi, client: Dovecote) -> None:
    api.add("PUT", "/v1/operational-webhook", body=operational_webhook_json(secret="whsec_abc"))
    api.add("GET", "/v1/operational-webhook", body=operational_webhook_json(enabled=False, disabled_reason="410"))
    api.add(
        "DELETE", "/v1/operational-webhook", body={"object": "operational_webhook", "id": "wh_ops", "deleted": True}
    )

    created = client.operational_webhook.set("https://ops.example.com/", events=["endpoint.disabled"])
    shown = client.operational_webhook.get()
    deleted = client.operational_webhook.delete()

    assert isinstance(created, OperationalWebhookWithSecret)
    assert created.secret == "whsec_abc"
    assert api.requests_to("PUT", "/v1/operational-webhook")[0].body == {
        "url": "https://ops.example.com/",
        "events": ["endpoint.disabled"],
    }
    assert isinstance(shown, OperationalWebhook)
    assert (shown.enabled, shown.disabled_reason) == (False, "410")
    assert isinstance(deleted, DeletedOperationalWebhook)
    assert deleted.deleted


def test_the_async_client_and_the_cli_set_the_operational_webhook(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("PUT", "/v1/operational-webhook", body=operational_webhook_json(secret="whsec_abc"))

    async def scenario() -> str | None:
        async with AsyncDovecote(api_key=PLATFORM_KEY, base_url=api.url, max_retries=0) as client:
            return (await client.operational_webhook.set("https://ops.example.com/")).secret

    secret = asyncio.run(scenario())
    code = main(
        ["--api-url", api.url, "--api-key", PLATFORM_KEY, "operational-webhook", "set", "https://ops.example.com/",
         "--events", "endpoint.disabled,delivery.exhausted"]
    )  # fmt: skip

    assert (secret, code) == ("whsec_abc", 0)
    assert "whsec_abc" in capsys.readouterr().out
    bodies = [request.body for request in api.requests_to("PUT", "/v1/operational-webhook")]
    assert bodies == [
        {"url": "https://ops.example.com/"},
        {"url": "https://ops.example.com/", "events": ["endpoint.disabled", "delivery.exhausted"]},
    ]
