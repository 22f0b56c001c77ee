"""Webhook routes through the management handler, against moto."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest

from dovecote.schemes import StandardWebhooks
from functions.core.ids import new_id
from functions.core.models import Delivery, DeliveryStatus, utc_now
from functions.store.deliveries import DeliveryStore
from functions.store.webhooks import WebhookStore
from tests.integration.conftest import APPLICATION, OTHER_APPLICATION, AwsResources, ManagementApi


def stored_webhook(aws: AwsResources, webhook_id: str, application: str = APPLICATION):
    return WebhookStore(aws.dynamodb, aws.table_name).find(application, webhook_id)


def test_create_returns_the_webhook_and_a_standard_webhooks_secret_once(management_api: ManagementApi, aws):
    response = management_api(
        "POST",
        "/v1/webhooks",
        body={"url": "https://hooks.example.com/in", "events": ["user.created", "user.*"], "description": "CRM"},
    )

    assert response.status == 201
    created = response.body
    assert created["object"] == "webhook"
    assert created["id"].startswith("wh_")
    assert created["url"] == "https://hooks.example.com/in"
    assert created["events"] == ["user.created", "user.*"]
    assert created["enabled"] is True
    assert created["status"] == "enabled"
    assert created["secret"].startswith("whsec_")
    assert len(StandardWebhooks().key(created["secret"])) == 32
    assert "application_id" not in created
    stored = stored_webhook(aws, created["id"])
    assert stored is not None
    assert stored.secrets[0].value == created["secret"]

    fetched = management_api("GET", f"/v1/webhooks/{created['id']}")
    assert fetched.status == 200
    assert "secret" not in fetched.body
    assert fetched.body == {k: v for k, v in created.items() if k != "secret"}


def test_create_keeps_a_valid_caller_secret(management_api: ManagementApi):
    secret = "whsec_" + base64.b64encode(bytes(range(24))).decode()

    created = management_api.create_webhook(secret=secret)

    assert created["secret"] == secret


def test_create_under_a_hex_profile_generates_its_secret_format(management_api: ManagementApi):
    management_api.switch_profile("delegated")

    created = management_api.create_webhook(events=["task.completed"])

    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) == len("whsec_") + 64
    int(created["secret"][len("whsec_") :], 16)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://10.0.0.1/hook", "events": ["*"]}, "url"),
        ({"url": "https://metadata.example.com/", "events": ["*"]}, "url"),
        ({"url": "https://internal.example.com/", "events": ["*"]}, "url"),
        ({"url": "http://hooks.example.com/", "events": ["*"]}, "url"),
        ({"url": "https://user:pw@hooks.example.com/", "events": ["*"]}, "url"),
        ({"url": "https://hooks.example.com/" + "a" * 2048, "events": ["*"]}, "url"),
        ({"url": "https://hooks.example.com/", "events": []}, "events"),
        ({"url": "https://hooks.example.com/", "events": ["Not A Type"]}, "events[0]"),
        ({"url": "https://hooks.example.com/", "events": [f"t.e{i}" for i in range(101)]}, "events"),
        ({"url": "https://hooks.example.com/", "events": ["*"], "description": "d" * 257}, "description"),
        ({"url": "https://hooks.example.com/", "events": ["*"], "secret": "short"}, "secret"),
        ({"url": "https://hooks.example.com/", "events": ["*"], "secret": "whsec_not base64!"}, "secret"),
        ({"url": "https://hooks.example.com/", "events": ["*"], "secret": "s3cr3t-but-not-whsec"}, "secret"),
        ({"url": "https://hooks.example.com/", "events": "*"}, "events"),
        ({"url": "https://hooks.example.com/", "events": ["*"], "enabled": "yes"}, "enabled"),
        ({"url": "https://hooks.example.com/", "events": ["*"], "colour": "blue"}, "colour"),
        ({"events": ["*"]}, "url"),
    ],
)
def test_create_refuses_an_invalid_field_with_422_naming_it(management_api: ManagementApi, body, field):
    response = management_api("POST", "/v1/webhooks", body=body)

    assert response.status == 422, response.body
    assert response.error_type in ("invalid_request", "invalid_url")
    assert response.body["error"]["message"].startswith(f"{field}:")


def test_loopback_receivers_need_the_local_switch(management_api: ManagementApi):
    body = {"url": "http://127.0.0.1:8787/hook", "events": ["*"]}

    refused = management_api("POST", "/v1/webhooks", body=body)
    management_api.allow_loopback()
    accepted = management_api("POST", "/v1/webhooks", body=body)

    assert refused.status == 422
    assert refused.error_type == "invalid_url"
    assert accepted.status == 201


def test_create_refuses_event_types_outside_the_profile_catalog(management_api: ManagementApi):
    management_api.switch_profile("mutx")

    accepted = management_api("POST", "/v1/webhooks", body={"url": "https://h.example.com/", "events": ["agent.*"]})
    unknown = management_api("POST", "/v1/webhooks", body={"url": "https://h.example.com/", "events": ["agent.x"]})
    no_match = management_api("POST", "/v1/webhooks", body={"url": "https://h.example.com/", "events": ["billing.*"]})

    assert accepted.status == 201
    assert unknown.status == 422
    assert unknown.body["error"]["message"].startswith("events[0]:")
    assert no_match.status == 422
    assert "catalog" in no_match.body["error"]["message"]


def test_invalid_json_is_a_400(management_api: ManagementApi):
    response = management_api("POST", "/v1/webhooks", body='{"url": ')

    assert response.status == 400
    assert response.error_type == "invalid_json"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinities_are_not_json_a_400(management_api: ManagementApi, constant: str):
    body = '{"url": "https://h.example.com/", "events": ["*"], "filter": {"data": {"cpu": {"$gte": %s}}}}'
    response = management_api("POST", "/v1/webhooks", body=body % constant)

    assert response.status == 400
    assert response.error_type == "invalid_json"


def test_an_oversized_body_is_a_413(management_api: ManagementApi):
    response = management_api("POST", "/v1/webhooks", body='{"description": "' + "x" * (600 * 1024) + '"}')

    assert response.status == 413
    assert response.error_type == "payload_too_large"


def test_list_pages_newest_first_with_a_cursor(management_api: ManagementApi):
    created = [management_api.create_webhook(description=f"n{i}")["id"] for i in range(5)]
    management_api.create_webhook(application=OTHER_APPLICATION)

    first = management_api("GET", "/v1/webhooks", query={"limit": "2"})
    second = management_api("GET", "/v1/webhooks", query={"limit": "2", "cursor": first.body["next_cursor"]})
    last = management_api("GET", "/v1/webhooks", query={"limit": "2", "cursor": second.body["next_cursor"]})

    assert first.status == second.status == last.status == 200
    assert first.body["object"] == "list"
    assert first.body["url"] == "/v1/webhooks"
    listed = [w["id"] for page in (first, second, last) for w in page.body["data"]]
    assert listed == list(reversed(created))
    assert first.body["has_more"]
    assert second.body["has_more"]
    assert not last.body["has_more"]
    assert last.body["next_cursor"] is None


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"cursor": "%%%"}])
def test_list_refuses_bad_paging_with_422(management_api: ManagementApi, query):
    response = management_api("GET", "/v1/webhooks", query=query)

    assert response.status == 422
    assert response.body["error"]["message"].split(":")[0] in ("limit", "cursor")


def test_patch_changes_only_the_fields_sent_and_revalidates(management_api: ManagementApi, aws):
    created = management_api.create_webhook(events=["user.created"], description="before")

    patched = management_api(
        "PATCH", f"/v1/webhooks/{created['id']}", body={"events": ["user.*", "user.*"], "description": None}
    )
    refused = management_api("PATCH", f"/v1/webhooks/{created['id']}", body={"url": "https://192.168.0.1/"})
    null_url = management_api("PATCH", f"/v1/webhooks/{created['id']}", body={"url": None})

    assert patched.status == 200
    assert patched.body["events"] == ["user.*"]
    assert patched.body["description"] == ""
    assert patched.body["url"] == created["url"]
    assert patched.body["updated_at"] >= created["updated_at"]
    assert refused.status == 422
    assert refused.error_type == "invalid_url"
    assert null_url.status == 422
    assert null_url.body["error"]["message"] == "url: may not be null"
    assert stored_webhook(aws, created["id"]).url == created["url"]


def seed_pending_delivery(aws: AwsResources, webhook_id: str, application: str = APPLICATION) -> str:
    now = utc_now()
    delivery = Delivery(
        id=f"del_{webhook_id[3:]}",
        application_id=application,
        webhook_id=webhook_id,
        event_id=f"evt_{webhook_id[3:]}",
        event_type="user.created",
        created_at=now,
        updated_at=now,
    )
    assert DeliveryStore(aws.dynamodb, aws.table_name).create_with_outcome(delivery, attempt_keys=frozenset())
    return delivery.id


def delivery_status(aws: AwsResources, delivery_id: str, application: str = APPLICATION) -> DeliveryStatus:
    return DeliveryStore(aws.dynamodb, aws.table_name).get(application, delivery_id).status


def test_disabling_cancels_pending_retries_and_enabling_clears_the_reason(management_api: ManagementApi, aws):
    created = management_api.create_webhook()
    pending = seed_pending_delivery(aws, created["id"])

    disabled = management_api("PATCH", f"/v1/webhooks/{created['id']}", body={"enabled": False})
    enabled = management_api("PATCH", f"/v1/webhooks/{created['id']}", body={"enabled": True})

    assert disabled.status == 200
    assert disabled.body["enabled"] is False
    assert disabled.body["status"] == "disabled"
    assert disabled.body["disabled_reason"]
    assert disabled.body["disabled_at"] is not None
    assert delivery_status(aws, pending) is DeliveryStatus.CANCELLED
    assert enabled.body["enabled"] is True
    assert enabled.body["disabled_reason"] is None
    assert enabled.body["disabled_at"] is None


def test_delete_cancels_pending_retries_and_is_idempotent(management_api: ManagementApi, aws):
    created = management_api.create_webhook()
    pending = seed_pending_delivery(aws, created["id"])

    first = management_api("DELETE", f"/v1/webhooks/{created['id']}")
    second = management_api("DELETE", f"/v1/webhooks/{created['id']}")

    expected = {"id": created["id"], "object": "webhook", "deleted": True}
    assert (first.status, first.body) == (200, expected)
    assert (second.status, second.body) == (200, expected)
    assert stored_webhook(aws, created["id"]) is None
    assert delivery_status(aws, pending) is DeliveryStatus.CANCELLED
    assert management_api("GET", f"/v1/webhooks/{created['id']}").status == 404


def test_deleting_an_id_this_application_never_had_is_not_found(management_api: ManagementApi):
    response = management_api("DELETE", f"/v1/webhooks/{new_id('wh')}")

    assert response.status == 404
    assert response.body["error"]["type"] == "not_found"


def test_rotate_secret_returns_a_new_secret_and_keeps_the_old_one_signing_for_the_grace_period(
    management_api: ManagementApi, aws
):
    created = management_api.create_webhook()
    before = utc_now()

    rotated = management_api("POST", f"/v1/webhooks/{created['id']}/rotate-secret")

    assert rotated.status == 200
    assert rotated.body["secret"].startswith("whsec_")
    assert rotated.body["secret"] != created["secret"]
    grace = timedelta(days=1)  # the standard profile's rotation_grace_seconds
    expires = datetime.fromisoformat(rotated.body["previous_secret_expires_at"].replace("Z", "+00:00"))
    assert before + grace <= expires <= utc_now() + grace
    webhook = stored_webhook(aws, created["id"])
    assert webhook.signing_secrets(utc_now()) == [rotated.body["secret"], created["secret"]]
    assert webhook.signing_secrets(expires + timedelta(seconds=1)) == [rotated.body["secret"]]
    assert "secret" not in management_api("GET", f"/v1/webhooks/{created['id']}").body


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/rotate-secret"), ("GET", "/deliveries")],
)
def test_a_malformed_webhook_id_is_a_404(management_api: ManagementApi, method, suffix):
    body = {"description": "x"} if method == "PATCH" else None

    response = management_api(method, f"/v1/webhooks/not-an-id{suffix}", body=body)

    assert response.status == 404
    assert response.error_type == "not_found"


def test_logs_carry_the_request_and_ids_but_never_a_secret(management_api: ManagementApi, dovecote_logs):
    created = management_api.create_webhook(secret="whsec_" + base64.b64encode(b"k" * 32).decode())
    rotated = management_api("POST", f"/v1/webhooks/{created['id']}/rotate-secret")

    logged = dovecote_logs.getvalue()
    assert "webhook created" in logged
    assert "webhook secret rotated" in logged
    assert created["id"] in logged
    assert '"application_id":"acme"' in logged
    assert '"correlation_id":"req-integration"' in logged
    assert created["secret"] not in logged
    assert rotated.body["secret"] not in logged
