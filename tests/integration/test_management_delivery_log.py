"""The delivery log, events and the event-type catalog through the management handler."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.api.responses import DeliveryWithAttempts, EventObject
from functions.core.ids import new_id
from functions.core.models import Attempt, Delivery, DeliveryStatus, Event, utc_now
from functions.store.deliveries import DeliveryStore
from functions.store.events import EventStore
from tests.integration.conftest import OTHER_APPLICATION, AwsResources, ManagementApi


def seed_delivery(
    aws: AwsResources,
    application: str,
    webhook_id: str,
    *,
    status: DeliveryStatus = DeliveryStatus.SUCCEEDED,
    event_type: str = "user.created",
    attempts: int = 1,
    offset_ms: int = 0,
) -> Delivery:
    now = utc_now()
    now_ms = int(now.timestamp() * 1000) + offset_ms
    delivery = Delivery(
        id=new_id("del", now_ms=now_ms),
        application_id=application,
        webhook_id=webhook_id,
        event_id=new_id("evt", now_ms=now_ms),
        event_type=event_type,
        status=status,
        created_at=now,
        updated_at=now,
        attempts=[
            Attempt(
                number=n,
                attempted_at=now + timedelta(seconds=n),
                response_status=500 if n < attempts else 200,
                latency_ms=12 * n,
                error=None,
                response_excerpt="oops" if n < attempts else "ok",
            )
            for n in range(1, attempts + 1)
        ],
    )
    assert DeliveryStore(aws.dynamodb, aws.table_name).create_with_outcome(delivery, attempt_keys=frozenset())
    return delivery


def test_deliveries_list_newest_first_and_filters_by_status_and_event(management_api: ManagementApi, aws):
    webhook = management_api.create_webhook()
    application = "acme"
    older = seed_delivery(aws, application, webhook["id"], status=DeliveryStatus.FAILED, attempts=3, offset_ms=-2000)
    newer = seed_delivery(aws, application, webhook["id"], event_type="user.deleted", offset_ms=-1000)
    other_webhook = management_api.create_webhook()
    seed_delivery(aws, application, other_webhook["id"])

    everything = management_api("GET", f"/v1/webhooks/{webhook['id']}/deliveries")
    failed = management_api("GET", f"/v1/webhooks/{webhook['id']}/deliveries", query={"status": "failed"})
    deleted = management_api("GET", f"/v1/webhooks/{webhook['id']}/deliveries", query={"event": "user.deleted"})

    assert everything.status == 200
    assert everything.body["object"] == "list"
    assert everything.body["url"] == f"/v1/webhooks/{webhook['id']}/deliveries"
    assert [d["id"] for d in everything.body["data"]] == [newer.id, older.id]
    assert [d["id"] for d in failed.body["data"]] == [older.id]
    assert failed.body["data"][0]["attempt_count"] == 3
    assert "attempts" not in failed.body["data"][0]
    assert [d["id"] for d in deleted.body["data"]] == [newer.id]


def test_deliveries_list_pages_with_a_cursor(management_api: ManagementApi, aws):
    webhook = management_api.create_webhook()
    seeded = [seed_delivery(aws, "acme", webhook["id"], offset_ms=-i * 60_000).id for i in range(3)]

    first = management_api("GET", f"/v1/webhooks/{webhook['id']}/deliveries", query={"limit": "2"})
    rest = management_api(
        "GET", f"/v1/webhooks/{webhook['id']}/deliveries", query={"limit": "2", "cursor": first.body["next_cursor"]}
    )

    assert first.body["has_more"] is True
    assert [d["id"] for d in first.body["data"] + rest.body["data"]] == seeded
    assert rest.body["has_more"] is False


@pytest.mark.parametrize(
    ("query", "field"),
    [({"status": "exploded"}, "status"), ({"event": "Bad Type"}, "event"), ({"limit": "500"}, "limit")],
)
def test_deliveries_list_refuses_bad_filters_with_422(management_api: ManagementApi, query, field):
    webhook = management_api.create_webhook()

    response = management_api("GET", f"/v1/webhooks/{webhook['id']}/deliveries", query=query)

    assert response.status == 422
    assert response.body["error"]["message"].startswith(f"{field}:")


def test_deliveries_of_an_unknown_webhook_are_a_404(management_api: ManagementApi):
    response = management_api("GET", f"/v1/webhooks/{new_id('wh')}/deliveries")

    assert response.status == 404


def test_a_delivery_is_returned_with_every_attempt(management_api: ManagementApi, aws):
    webhook = management_api.create_webhook()
    delivery = seed_delivery(aws, "acme", webhook["id"], attempts=2)

    response = management_api("GET", f"/v1/deliveries/{delivery.id}")

    assert response.status == 200
    assert response.body == DeliveryWithAttempts.from_record(delivery).model_dump(mode="json")
    assert [a["number"] for a in response.body["attempts"]] == [1, 2]
    assert response.body["attempts"][0]["response_status"] == 500


def test_an_event_is_returned_as_published(management_api: ManagementApi, aws):
    event = Event(id=new_id("evt"), application_id="acme", type="user.created", data={"n": 1.5}, created_at=utc_now())
    EventStore(aws.dynamodb, aws.table_name).put_new(event, expires_at_epoch=int(utc_now().timestamp()) + 3600)

    response = management_api("GET", f"/v1/events/{event.id}")

    assert response.status == 200
    assert response.body == EventObject.from_record(event).model_dump(mode="json")


@pytest.mark.parametrize("path", ["/v1/deliveries/wh_nope", "/v1/events/evt_short", "/v1/events/not-an-id"])
def test_malformed_delivery_and_event_ids_are_a_404(management_api: ManagementApi, path):
    assert management_api("GET", path).status == 404


def test_an_unknown_event_is_a_404(management_api: ManagementApi):
    assert management_api("GET", f"/v1/events/{new_id('evt')}").status == 404


def test_event_types_list_the_profile_catalog(management_api: ManagementApi):
    management_api.switch_profile("mutx")

    response = management_api("GET", "/v1/event-types")

    assert response.status == 200
    assert response.body["object"] == "list"
    assert response.body["catalog"] is True
    assert response.body["has_more"] is False
    assert {
        "object": "event_type",
        "name": "agent.started",
        "description": "Agent started running",
        "schema": None,
        "example": None,
        "deprecated": False,
        "source": "profile",
    } in response.body["data"]
    assert len(response.body["data"]) == 10


def test_event_types_are_empty_with_catalog_false_without_a_catalog(management_api: ManagementApi):
    response = management_api("GET", "/v1/event-types")

    assert response.status == 200
    assert response.body["data"] == []
    assert response.body["catalog"] is False


def test_another_application_sees_none_of_the_log(management_api: ManagementApi, aws):
    webhook = management_api.create_webhook()
    delivery = seed_delivery(aws, "acme", webhook["id"])

    assert management_api("GET", f"/v1/deliveries/{delivery.id}", application=OTHER_APPLICATION).status == 404
    assert (
        management_api("GET", f"/v1/webhooks/{webhook['id']}/deliveries", application=OTHER_APPLICATION).status == 404
    )
