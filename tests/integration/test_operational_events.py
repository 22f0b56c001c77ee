"""Operational events through the real pipeline under moto: stored in the reserved operational
application, queued for the operational webhook, delivered signed to it, and put on the default
event bus (read back through a rule to an SQS queue, as the local stack does)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from unittest import mock

import boto3
import pytest

from dovecote.verify import verify
from dovecote_local.operational import read_operational_events, route_default_bus
from functions.core.models import Delivery, DeliveryStatus, utc_now
from functions.pipeline.contract import EventReference
from functions.pipeline.operational import OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID
from functions.store.event_bus import DefaultEventBus
from functions.store.webhooks import WebhookStore
from tests.integration.conftest import OPERATIONAL_SECRET, ManagementApi, set_operational_webhook
from tests.integration.pipeline_support import Pipeline, receiver
from tests.integration.test_platform_routes import Platform

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def bus_inbox(aws: Any) -> str:
    return route_default_bus(boto3.client("events", region_name="us-east-1"), aws.sqs)


def bus_events(aws: Any, inbox: str) -> list[dict[str, Any]]:
    read: list[dict[str, Any]] = []
    for _ in range(100):  # bounded: at most 1,000 events
        batch = read_operational_events(aws.sqs, inbox)
        if not batch:
            return read
        read.extend(batch)
    return read


def queued_operational(pipeline: Pipeline) -> list[tuple[dict[str, Any], EventReference]]:
    """The events queue's messages that are operational events (received, left in flight for `run_fanout`)."""
    messages = pipeline.receive(pipeline.aws.events_queue_url, max_messages=100)
    return [
        (message, reference)
        for message in messages
        if (reference := EventReference.model_validate_json(message["Body"])).application_id == OPERATIONAL_APPLICATION
    ]


def stored_types(pipeline: Pipeline, references: list[EventReference]) -> Counter[str]:
    stored = [pipeline.events.find(OPERATIONAL_APPLICATION, reference.event_id) for reference in references]
    return Counter(event.type for event in stored if event is not None)


def test_repeated_410s_emit_exactly_one_endpoint_disabled_stored_queued_and_on_the_bus(
    pipeline: Pipeline, bus_inbox: str
) -> None:
    with receiver(default=410) as gone, receiver() as operations:
        set_operational_webhook(pipeline.aws, operations.url)
        webhook, _ = pipeline.add_webhook(gone.url)
        for number in range(3):
            assert pipeline.publish("order.created", {"n": number}).status == 202
        pipeline.run_fanout()
        pipeline.run_deliver()  # the three attempts run at once: each answers 410

        queued = queued_operational(pipeline)
        types = Counter(reference.event_type for _, reference in queued)
        on_bus = bus_events(pipeline.aws, bus_inbox)
        pipeline.run_fanout([message for message, _ in queued])
        pipeline.run_all_deliveries()

    assert len(gone.requests) == 3
    assert types["endpoint.disabled"] == 1
    assert types["delivery.exhausted"] == 3
    assert stored_types(pipeline, [reference for _, reference in queued]) == types
    bus_types = Counter(event["detail-type"] for event in on_bus)
    assert bus_types == types
    assert {event["source"] for event in on_bus} == {"dovecote"}
    [disabled] = [event["detail"] for event in on_bus if event["detail-type"] == "endpoint.disabled"]
    assert disabled["data"]["webhook_id"] == webhook.id
    assert disabled["data"]["reason"] == "the endpoint answered 410 Gone"
    stored = pipeline.webhooks.get(webhook.application_id, webhook.id)
    assert disabled["id"] == next(r.event_id for _, r in queued if r.event_type == "endpoint.disabled")
    assert disabled["data"]["disabled_at"].startswith(stored.disabled_at.strftime("%Y-%m-%dT%H:%M:%S"))
    received = Counter(json.loads(request.body)["type"] for request in operations.requests)
    assert received == types
    for request in operations.requests:
        assert verify("standard", request.body, request.headers, OPERATIONAL_SECRET)


def delivered_to_the_end(pipeline: Pipeline, *replies: int, default: int = 200) -> Delivery:
    """One event to an endpoint answering `replies`, then `default`, attempted until its delivery ends."""
    with receiver(*replies, default=default) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        assert pipeline.publish("order.created").status == 202
        pipeline.run_fanout()
        pipeline.run_deliver()
        pipeline.wait_for_executions()
    return pipeline.only_delivery(webhook)


def test_a_delivery_that_runs_out_of_attempts_emits_delivery_exhausted(pipeline: Pipeline, bus_inbox: str) -> None:
    delivery = delivered_to_the_end(pipeline, default=503)

    assert delivery.status is DeliveryStatus.FAILED
    [exhausted] = [event["detail"] for event in bus_events(pipeline.aws, bus_inbox)]
    assert exhausted["type"] == "delivery.exhausted"
    assert exhausted["data"]["delivery_id"] == delivery.id
    assert exhausted["data"]["attempts"] == pipeline.profile.max_attempts
    assert exhausted["data"]["reason"] == f"all {pipeline.profile.max_attempts} attempts failed"
    assert queued_operational(pipeline) == []  # no operational webhook is set: the bus only
    assert pipeline.events.find(OPERATIONAL_APPLICATION, exhausted["id"]) is None


def test_a_delivery_that_succeeds_after_failures_emits_delivery_recovered(pipeline: Pipeline, bus_inbox: str) -> None:
    delivery = delivered_to_the_end(pipeline, 503, 503)

    assert delivery.status is DeliveryStatus.SUCCEEDED
    [recovered] = [event["detail"] for event in bus_events(pipeline.aws, bus_inbox)]
    assert recovered["type"] == "delivery.recovered"
    assert recovered["data"]["delivery_id"] == delivery.id
    assert recovered["data"]["attempts"] == 3


def test_a_delivery_that_succeeds_at_once_emits_nothing(pipeline: Pipeline, bus_inbox: str) -> None:
    with receiver() as healthy:
        pipeline.first_attempt(healthy.url)

    assert bus_events(pipeline.aws, bus_inbox) == []
    assert queued_operational(pipeline) == []


def test_the_deliver_function_builds_its_operational_events_only_when_a_delivery_has_one_to_emit(
    pipeline: Pipeline, bus_inbox: str
) -> None:
    from functions.pipeline.operational import OperationalEvents  # noqa: PLC0415 - counted, not used

    built: list[OperationalEvents] = []
    real_init = OperationalEvents.__init__

    def counted(self: OperationalEvents, *arguments: Any, **options: Any) -> None:
        built.append(self)
        real_init(self, *arguments, **options)

    def deliver_once(url: str, event_type: str) -> None:
        pipeline.add_webhook(url, events=[event_type])
        pipeline.publish(event_type)
        pipeline.run_fanout()
        pipeline.run_deliver()

    with mock.patch.object(OperationalEvents, "__init__", counted):
        with receiver() as healthy:
            deliver_once(healthy.url, "order.created")
        assert len(healthy.requests) == 1
        assert built == []  # the happy path: no events, and no SQS or EventBridge client built for them
        with receiver(default=410) as gone:
            deliver_once(gone.url, "order.shipped")

    assert len(built) == 1
    assert Counter(event["detail-type"] for event in bus_events(pipeline.aws, bus_inbox)) == {
        "endpoint.disabled": 1,
        "delivery.exhausted": 1,
    }


def test_the_operational_webhook_failing_emits_nothing_about_itself(pipeline: Pipeline, bus_inbox: str) -> None:
    with receiver(default=410) as gone, receiver(default=410) as operations:
        set_operational_webhook(pipeline.aws, operations.url)
        pipeline.first_attempt(gone.url)
        queued = queued_operational(pipeline)
        assert {reference.event_type for _, reference in queued} == {"endpoint.disabled", "delivery.exhausted"}
        on_bus_before = bus_events(pipeline.aws, bus_inbox)
        pipeline.run_fanout([message for message, _ in queued])
        pipeline.run_all_deliveries()  # the operational webhook answers 410: it is disabled

    assert len(operations.requests) == 2
    operational = pipeline.webhooks.get(OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID)
    assert not operational.enabled
    assert operational.disabled_reason == "the endpoint answered 410 Gone"
    assert len(on_bus_before) == 2
    assert bus_events(pipeline.aws, bus_inbox) == []
    assert queued_operational(pipeline) == []


def test_an_emission_that_fails_is_retried_with_its_message_under_the_same_id(
    pipeline: Pipeline, bus_inbox: str
) -> None:
    real_put = DefaultEventBus.put
    calls: list[str] = []

    def throttled_once(bus: DefaultEventBus, detail_type: str, detail: dict[str, Any]) -> None:
        calls.append(detail_type)
        if len(calls) == 1:
            raise RuntimeError("ThrottlingException")
        real_put(bus, detail_type, detail)

    with (
        receiver(default=410) as gone,
        receiver() as operations,
        mock.patch.object(DefaultEventBus, "put", throttled_once),
    ):
        set_operational_webhook(pipeline.aws, operations.url)
        webhook, _ = pipeline.add_webhook(gone.url)
        assert pipeline.publish("order.created").status == 202
        pipeline.run_fanout()
        first = pipeline.run_deliver()
        assert len(first["batchItemFailures"]) == 1  # the message comes back
        second = pipeline.run_deliver()

    assert second == {"batchItemFailures": []}
    assert len(gone.requests) == 1  # the logged attempt is not repeated
    on_bus = bus_events(pipeline.aws, bus_inbox)
    assert Counter(event["detail-type"] for event in on_bus) == {"endpoint.disabled": 1, "delivery.exhausted": 1}
    queued = Counter((r.event_type, r.event_id) for _, r in queued_operational(pipeline))
    # queued by the first try (before its put failed) and by the retry: the same event, the same id
    assert {event_type for event_type, _ in queued} == {"endpoint.disabled", "delivery.exhausted"}
    assert len(queued) == 2
    assert pipeline.webhooks.get(webhook.application_id, webhook.id).enabled is False


def test_disabling_and_enabling_by_hand_emit_endpoint_disabled_then_enabled(
    management_api: ManagementApi, aws: Any, bus_inbox: str
) -> None:
    webhook = management_api.create_webhook()
    path = f"/v1/webhooks/{webhook['id']}"

    disabled = management_api("PATCH", path, body={"enabled": False})
    repeated = management_api("PATCH", path, body={"enabled": False})
    after_disable = bus_events(aws, bus_inbox)
    enabled = management_api("PATCH", path, body={"enabled": True})
    after_enable = bus_events(aws, bus_inbox)

    assert disabled.status == repeated.status == enabled.status == 200
    assert disabled.body["disabled_reason"] == "disabled through the API"
    assert disabled.body["disabled_at"] is not None
    assert [event["detail-type"] for event in after_disable] == ["endpoint.disabled", "endpoint.disabled"]
    assert len({event["detail"]["id"] for event in after_disable}) == 1  # the repeat has the same id
    assert after_disable[0]["detail"]["data"]["reason"] == "disabled through the API"
    assert enabled.body["disabled_reason"] is None
    assert enabled.body["disabled_at"] is None
    assert enabled.body["enabled"] is True
    [enabled_event] = after_enable
    assert enabled_event["detail-type"] == "endpoint.enabled"
    assert enabled_event["detail"]["data"]["webhook_id"] == webhook["id"]


@pytest.fixture
def platform(aws: Any, call_api: Any, management_api: ManagementApi) -> Platform:
    return Platform(aws, call_api)


def test_the_operational_webhook_is_set_shown_replaced_and_deleted_with_a_platform_key(platform: Platform) -> None:
    assert platform("GET", "/v1/operational-webhook").status == 404

    created = platform("PUT", "/v1/operational-webhook", body={"url": "https://ops.example.com/hooks"})
    shown = platform("GET", "/v1/operational-webhook")
    replaced = platform(
        "PUT", "/v1/operational-webhook", body={"url": "https://ops.example.com/v2", "events": ["endpoint.disabled"]}
    )
    deleted = platform("DELETE", "/v1/operational-webhook")

    assert created.status == 200
    assert created.body["object"] == "operational_webhook"
    assert created.body["secret"].startswith("whsec_")
    assert created.body["events"] == ["*"]
    assert shown.status == 200
    assert "secret" not in shown.body
    assert shown.body["url"] == "https://ops.example.com/hooks"
    assert replaced.body["secret"] is None  # it keeps its secret
    assert (replaced.body["url"], replaced.body["events"]) == ("https://ops.example.com/v2", ["endpoint.disabled"])
    assert replaced.body["id"] == created.body["id"]
    assert deleted.status == 200
    assert deleted.body == {"id": created.body["id"], "object": "operational_webhook", "deleted": True}
    assert platform("GET", "/v1/operational-webhook").status == 404
    assert platform("DELETE", "/v1/operational-webhook").status == 404


def test_setting_a_disabled_operational_webhook_again_enables_it(platform: Platform, aws: Any) -> None:
    platform("PUT", "/v1/operational-webhook", body={"url": "https://ops.example.com/hooks"})
    WebhookStore(aws.dynamodb, aws.table_name).disable(
        OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID, "the endpoint answered 410 Gone", utc_now()
    )
    disabled = platform("GET", "/v1/operational-webhook").body
    again = platform(
        "PUT",
        "/v1/operational-webhook",
        body={"url": "https://ops.example.com/hooks", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    )

    assert (disabled["enabled"], disabled["disabled_reason"]) == (False, "the endpoint answered 410 Gone")
    assert disabled["disabled_at"] is not None
    assert (again.body["enabled"], again.body["disabled_reason"], again.body["disabled_at"]) == (True, None, None)
    assert again.body["secret"] == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://ops.example.com/", "events": ["order.created"]}, "events.0"),
        ({"url": "https://ops.example.com/", "events": []}, "events"),
        ({"url": "https://ops.example.com/", "secret": "short"}, "secret"),
        ({"url": "https://ops.example.com/", "colour": "red"}, "colour"),
        ({"url": "http://10.0.0.1/hooks"}, "url"),
    ],
)
def test_a_bad_operational_webhook_answers_422_naming_the_field(
    platform: Platform, body: dict[str, Any], field: str
) -> None:
    response = platform("PUT", "/v1/operational-webhook", body=body)

    assert response.status == 422, response.body
    assert response.body["error"]["message"].startswith(f"{field}:"), response.body
    assert platform("GET", "/v1/operational-webhook").status == 404


def test_the_reserved_operational_application_is_neither_listed_nor_reachable(platform: Platform) -> None:
    platform("PUT", "/v1/operational-webhook", body={"url": "https://ops.example.com/hooks"})
    platform.create("acme")

    listed = platform("GET", "/v1/applications")
    scoped = platform("GET", f"/v1/applications/{OPERATIONAL_APPLICATION}/webhooks")
    created = platform("POST", "/v1/applications", body={"id": OPERATIONAL_APPLICATION, "name": "mine"})

    assert [application["id"] for application in listed.body["data"]] == ["acme"]
    assert scoped.status in {404, 422}
    assert created.status == 422
