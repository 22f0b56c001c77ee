"""Each seed profile's API dialect (the profile's `api`), through the real management and ingest handlers.

The dialect's requests are answered as the seed documents show; the /v1 API answers as it always
does under every profile; the credential checks run on the /v1 route an alias stands for.
"""

from __future__ import annotations

from typing import Any

import pytest

from functions.ingest import handler as ingest
from tests.integration.conftest import APPLICATION, OTHER_APPLICATION, CallApi, ManagementApi, seed_failed_delivery

URL = "https://hooks.example.com/dovecote"


def test_mutx_registers_with_a_trailing_slash_and_is_active(management_api: ManagementApi) -> None:
    management_api.switch_profile("mutx")
    body = {"url": URL, "events": ["agent.*", "deployment.*"], "secret": "your-webhook-secret", "is_active": True}

    created = management_api("POST", "/v1/webhooks/", body=body)

    assert created.status == 201, created.body
    assert (created.body["is_active"], created.body["enabled"], created.body["secret"]) == (
        True,
        True,
        "your-webhook-secret",
    )
    listed = management_api("GET", "/v1/webhooks/", query={"limit": "10"})
    assert [w["is_active"] for w in listed.body["data"]] == [True]


def test_mutx_updates_is_active_and_reads_it_back(management_api: ManagementApi) -> None:
    management_api.switch_profile("mutx")
    webhook = management_api.create_webhook()

    updated = management_api(
        "PATCH", f"/v1/webhooks/{webhook['id']}", body={"url": "https://new-url.com/webhook", "is_active": False}
    )
    read = management_api("GET", f"/v1/webhooks/{webhook['id']}")

    assert updated.status == 200, updated.body
    assert (read.body["is_active"], read.body["enabled"], read.body["url"]) == (
        False,
        False,
        "https://new-url.com/webhook",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": URL, "events": ["*"], "is_active": "yes"}, "is_active: Input should be a valid boolean"),
        ({"url": URL, "events": ["*"], "is_active": True, "enabled": True}, "is_active: is enabled under another name"),
    ],
)
def test_a_bad_dialect_field_is_a_422_naming_the_dialects_field(
    management_api: ManagementApi, body: dict[str, Any], message: str
) -> None:
    management_api.switch_profile("mutx")

    refused = management_api("POST", "/v1/webhooks", body=body)

    assert refused.status == 422
    assert refused.body["error"]["message"].startswith(message), refused.body


@pytest.fixture
def mutx_deliveries_path(management_api: ManagementApi, aws: Any) -> str:
    """Under the mutx profile: the deliveries path of a webhook with one failed delivery."""
    management_api.switch_profile("mutx")
    seeded = seed_failed_delivery(aws, management_api, APPLICATION)
    return f"/v1/webhooks/{seeded['webhook_id']}/deliveries"


def test_mutx_filters_deliveries_by_success_and_names_success_attempts_error_message(
    management_api: ManagementApi, mutx_deliveries_path: str
) -> None:
    path = mutx_deliveries_path

    failed = management_api("GET", path, query={"success": "false", "limit": "20"})
    succeeded = management_api("GET", path, query={"success": "true"})

    assert failed.status == 200, failed.body
    [item] = failed.body["data"]
    assert (item["success"], item["attempts"], item["status"]) == (False, item["attempt_count"], "failed")
    assert item["error_message"] == item["status_reason"]
    assert succeeded.body["data"] == []


def test_an_unknown_filter_value_is_a_422_naming_the_filter_after_the_credential_check(
    management_api: ManagementApi, mutx_deliveries_path: str
) -> None:
    path = mutx_deliveries_path

    refused = management_api("GET", path, query={"success": "maybe"})
    anonymous = management_api("GET", path, query={"success": "maybe"}, application=None)

    assert (refused.status, refused.body["error"]["message"]) == (422, "success: must be one of true, false")
    assert anonymous.status == 401


def test_mynd_creates_with_200_and_names_latency_ms(management_api: ManagementApi, aws: Any) -> None:
    seeded = seed_failed_delivery(aws, management_api, APPLICATION)
    management_api.switch_profile("mynd")
    body = {"url": URL, "events": ["run.completed", "run.awaiting_approval"], "description": "prod event consumer"}

    created = management_api("POST", "/v1/webhooks", body=body)

    assert created.status == 200, created.body
    assert {"id", "object", "url", "events", "secret", "status"} <= set(created.body)
    assert (created.body["object"], created.body["status"]) == ("webhook", "enabled")
    listed = management_api("GET", f"/v1/webhooks/{seeded['webhook_id']}/deliveries", query={"status": "failed"})
    [item] = listed.body["data"]
    assert item["ms"] == item["latency_ms"]
    deleted = management_api("DELETE", f"/v1/webhooks/{created.body['id']}")
    assert (deleted.status, deleted.body) == (200, {"id": created.body["id"], "object": "webhook", "deleted": True})


def test_delegated_registers_at_api_webhooks_create(management_api: ManagementApi) -> None:
    management_api.switch_profile("delegated")
    body = {"url": URL, "events": ["task.created", "task.completed", "agent.alert"], "secret": "your-webhook-secret"}

    created = management_api("POST", "/api/webhooks/create", body=body)

    assert created.status == 201, created.body
    assert (created.body["events"], created.body["secret"]) == (body["events"], "your-webhook-secret")
    assert management_api("GET", f"/v1/webhooks/{created.body['id']}").status == 200


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ({}, 401),
        ({"application_id": APPLICATION, "credential": "session", "read_only": "true"}, 403),
        ({"credential": "platform", "key_id": "key_p"}, 403),
    ],
)
def test_an_alias_route_is_guarded_like_the_route_it_stands_for(
    management_api: ManagementApi, caller: dict[str, str], status: int
) -> None:
    management_api.switch_profile("delegated")

    body = {"url": URL, "events": ["task.created"]}

    refused = management_api("POST", "/api/webhooks/create", application=None, context=caller, body=body)

    assert refused.status == status, refused.body
    assert set(refused.body["error"]) == {"type", "message"}


def test_an_alias_acts_on_the_callers_own_application_only(management_api: ManagementApi) -> None:
    management_api.switch_profile("delegated")
    created = management_api("POST", "/api/webhooks/create", body={"url": URL, "events": ["task.created"]})

    assert management_api("GET", f"/v1/webhooks/{created.body['id']}", application=OTHER_APPLICATION).status == 404


@pytest.mark.parametrize("profile", ["standard", "miteos", "mynd", "meetloyd", "delegated", "mutx"])
@pytest.mark.parametrize(("method", "path"), [("POST", "/api/webhooks/nothing"), ("GET", "/v2/webhooks")])
def test_an_unknown_route_is_the_error_envelope_under_every_profile(
    management_api: ManagementApi, profile: str, method: str, path: str
) -> None:
    management_api.switch_profile(profile)

    answer = management_api(method, path, body={})

    assert answer.status == 404
    assert answer.body == {"error": {"type": "not_found", "message": "no such route"}}


@pytest.mark.parametrize("profile", ["standard", "miteos", "meetloyd"])
def test_the_v1_api_is_unchanged_under_profiles_without_a_dialect(management_api: ManagementApi, profile: str) -> None:
    management_api.switch_profile(profile)

    created = management_api("POST", "/v1/webhooks", body={"url": URL, "events": ["*"]})

    assert created.status == 201
    assert not {"is_active", "ms", "success"} & set(created.body)
    assert management_api("POST", "/api/webhooks/create", body={"url": URL, "events": ["*"]}).status == 404


def test_mutx_test_route_is_the_v1_test_route(management_api: ManagementApi, call_api: CallApi, aws: Any) -> None:
    management_api.switch_profile("mutx")
    webhook = management_api.create_webhook(events=["agent.*"])

    sent = call_api(ingest.handler, "POST", f"/v1/webhooks/{webhook['id']}/test", application=APPLICATION)

    assert sent.status == 202, sent.body
    assert sent.body["object"] == "event"


def test_dovecotes_own_clients_get_the_v1_answer_under_any_dialect(management_api: ManagementApi) -> None:
    management_api.switch_profile("mynd")
    body = {"url": URL, "events": ["*"]}

    plain = management_api("POST", "/v1/webhooks", body=body, headers={"Dovecote-Dialect": "none"})
    dialect = management_api("POST", "/v1/webhooks", body=body)

    assert (plain.status, dialect.status) == (201, 200)
