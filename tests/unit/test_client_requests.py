"""Every SDK method sends the documented request and returns a typed result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dovecote import (
    DeletedWebhook,
    Delivery,
    Dovecote,
    Event,
    EventType,
    Recovery,
    Webhook,
    WebhookWithSecret,
)
from tests.unit.test_client_fake_api import (
    SDK_API_KEY,
    TIMESTAMP,
    FakeApi,
    attempt_json,
    delivery_json,
    list_json,
    webhook_json,
)


def test_every_request_carries_the_bearer_key_and_a_user_agent(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks/wh_1", body=webhook_json())
    client.webhooks.get("wh_1")
    (request,) = api.requests
    assert request.headers["authorization"] == f"Bearer {SDK_API_KEY}"
    assert request.headers["user-agent"].startswith("dovecote-python/")
    assert request.headers["accept"] == "application/json"


def test_every_request_asks_for_the_plain_v1_answer_whatever_the_profiles_api_dialect(
    api: FakeApi, client: Dovecote
) -> None:
    api.add("GET", "/v1/webhooks/wh_1", body=webhook_json())
    client.webhooks.get("wh_1")
    (request,) = api.requests
    assert request.headers["dovecote-dialect"] == "none"


def test_create_posts_only_given_fields_and_returns_the_secret(api: FakeApi, client: Dovecote) -> None:
    api.add("POST", "/v1/webhooks", 201, webhook_json("wh_9", secret="whsec_abc"))
    webhook = client.webhooks.create("https://example.com/hook", ["order.created"], description="orders")
    assert api.requests_to("POST", "/v1/webhooks")[0].body == {
        "url": "https://example.com/hook",
        "events": ["order.created"],
        "description": "orders",
    }
    assert isinstance(webhook, WebhookWithSecret)
    assert webhook.secret == "whsec_abc"
    assert webhook.id == "wh_9"
    assert webhook.created_at == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_create_treats_a_single_event_string_as_one_event(api: FakeApi, client: Dovecote) -> None:
    api.add("POST", "/v1/webhooks", 201, webhook_json(secret="whsec_abc"))
    client.webhooks.create("https://example.com/hook", "order.created", enabled=False)
    assert api.requests[0].body["events"] == ["order.created"]
    assert api.requests[0].body["enabled"] is False


def test_get_returns_a_webhook_without_secret(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks/wh_1", body=webhook_json(status="disabled", enabled=False))
    webhook = client.webhooks.get("wh_1")
    assert type(webhook) is Webhook
    assert webhook.status == "disabled"
    assert not hasattr(webhook, "secret")


def test_update_patches_only_the_fields_given(api: FakeApi, client: Dovecote) -> None:
    api.add("PATCH", "/v1/webhooks/wh_1", body=webhook_json(description=""))
    client.webhooks.update("wh_1", description="", enabled=False)
    assert api.requests_to("PATCH", "/v1/webhooks/wh_1")[0].body == {"description": "", "enabled": False}


def test_delete_returns_the_deletion_marker(api: FakeApi, client: Dovecote) -> None:
    api.add("DELETE", "/v1/webhooks/wh_1", body={"id": "wh_1", "object": "webhook", "deleted": True})
    deleted = client.webhooks.delete("wh_1")
    assert isinstance(deleted, DeletedWebhook)
    assert deleted.deleted is True
    assert len(api.requests_to("DELETE", "/v1/webhooks/wh_1")) == 1


def test_deliveries_sends_filters_as_query_parameters(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks/wh_1/deliveries", body=list_json([delivery_json()]))
    page = client.webhooks.deliveries("wh_1", status="failed", event="order.created", limit=5)
    assert api.requests[0].query == {"status": ["failed"], "event": ["order.created"], "limit": ["5"]}
    assert [delivery.id for delivery in page.data] == ["del_1"]
    assert isinstance(page.data[0], Delivery)
    assert page.data[0].attempts is None


def test_test_and_rotate_secret_and_recover(api: FakeApi, client: Dovecote) -> None:
    api.add("POST", "/v1/webhooks/wh_1/test", 202, {"object": "event", "id": "evt_t"})
    api.add("POST", "/v1/webhooks/wh_1/rotate-secret", body=webhook_json(secret="whsec_new"))
    api.add(
        "POST",
        "/v1/webhooks/wh_1/recover",
        202,
        {"object": "recovery", "webhook_id": "wh_1", "since": "2026-01-01T00:00:00Z", "deliveries_requeued": 3},
    )
    event = client.webhooks.test("wh_1")
    rotated = client.webhooks.rotate_secret("wh_1")
    recovery = client.webhooks.recover("wh_1", datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))))
    assert isinstance(event, Event)
    assert event.id == "evt_t"
    assert event.type is None
    assert rotated.secret == "whsec_new"
    assert isinstance(recovery, Recovery)
    assert recovery.deliveries_requeued == 3
    assert api.requests_to("POST", "/v1/webhooks/wh_1/recover")[0].body == {"since": "2026-01-01T01:00:00+01:00"}


def test_recover_refuses_a_naive_datetime(client: Dovecote) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        client.webhooks.recover("wh_1", datetime(2026, 1, 1))


def test_delivery_get_includes_every_attempt(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/deliveries/del_1", body=delivery_json(attempts=[attempt_json(1), attempt_json(2)]))
    delivery = client.deliveries.get("del_1")
    assert delivery.attempts is not None
    assert [attempt.number for attempt in delivery.attempts] == [1, 2]
    assert delivery.attempts[1].latency_ms == 102


def test_delivery_retry_posts(api: FakeApi, client: Dovecote) -> None:
    api.add("POST", "/v1/deliveries/del_1/retry", 202, delivery_json(status="pending"))
    assert client.deliveries.retry("del_1").status == "pending"
    assert len(api.requests_to("POST", "/v1/deliveries/del_1/retry")) == 1


def test_events_send_and_get(api: FakeApi, client: Dovecote) -> None:
    api.add("POST", "/v1/events", 202, {"object": "event", "id": "evt_1"})
    api.add(
        "GET",
        "/v1/events/evt_1",
        body={"object": "event", "id": "evt_1", "type": "order.created", "data": {"n": 1}, "created_at": TIMESTAMP},
    )
    sent = client.events.send("order.created", {"n": 1}, id="evt_1")
    fetched = client.events.get("evt_1")
    assert api.requests_to("POST", "/v1/events")[0].body == {"type": "order.created", "data": {"n": 1}, "id": "evt_1"}
    assert sent.id == "evt_1"
    assert fetched.data == {"n": 1}
    assert fetched.type == "order.created"


def test_event_types_list(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/event-types", body=list_json([{"name": "order.created", "description": "An order"}]))
    event_types = list(client.event_types.list())
    assert event_types == [EventType(name="order.created", description="An order")]


def event_type_json(name: str = "invoice.paid", **fields: Any) -> dict[str, Any]:
    document = {
        "object": "event_type",
        "name": name,
        "description": "",
        "schema": {"type": "object"},
        "example": {"amount": 1},
        "deprecated": False,
        "source": "platform",
    }
    return document | fields


def test_event_types_are_registered_changed_and_deleted_on_the_deployment_wide_routes(
    api: FakeApi, client: Dovecote
) -> None:
    api.add("POST", "/v1/event-types", 201, event_type_json())
    api.add("GET", "/v1/event-types/invoice.paid", body=event_type_json())
    api.add("PATCH", "/v1/event-types/invoice.paid", body=event_type_json(schema=None, deprecated=True))
    api.add(
        "DELETE", "/v1/event-types/invoice.paid", body={"object": "event_type", "name": "invoice.paid", "deleted": True}
    )

    created = client.event_types.create("invoice.paid", schema={"type": "object"}, example={"amount": 1})
    assert (created.json_schema, created.example, created.to_dict()["schema"]) == (
        {"type": "object"},
        {"amount": 1},
        {"type": "object"},
    )
    assert client.event_types.get("invoice.paid").source == "platform"
    changed = client.application("acme").event_types.update("invoice.paid", schema=None, deprecated=True)
    assert (changed.json_schema, changed.deprecated) == (None, True)
    assert client.event_types.delete("invoice.paid").deleted is True

    assert api.requests_to("POST", "/v1/event-types")[0].body == {
        "name": "invoice.paid",
        "schema": {"type": "object"},
        "example": {"amount": 1},
    }
    # only the given fields; schema=None removes the schema; the catalog has no per-application route
    assert api.requests_to("PATCH", "/v1/event-types/invoice.paid")[0].body == {"deprecated": True, "schema": None}


def test_event_types_list_can_be_empty(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/event-types", body=list_json([]))
    assert list(client.event_types.list()) == []


def test_health_needs_no_special_handling(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/health", body={"status": "ok"})
    assert client.health() == {"status": "ok"}


def test_ids_are_escaped_as_one_path_segment(api: FakeApi, client: Dovecote) -> None:
    api.add("GET", "/v1/webhooks/..%2Fevents", body=webhook_json())
    client.webhooks.get("../events")
    assert api.requests[0].path == "/v1/webhooks/..%2Fevents"


def test_unknown_fields_are_kept_and_to_dict_returns_the_json_as_sent(api: FakeApi, client: Dovecote) -> None:
    sent = webhook_json(rate_limit={"per_second": 5})
    api.add("GET", "/v1/webhooks/wh_1", body=sent)
    webhook = client.webhooks.get("wh_1")
    assert webhook.rate_limit == {"per_second": 5}  # type: ignore[attr-defined]
    assert webhook.to_dict() == sent
