"""POST /v1/events and the fan-out behind it: validation, idempotency, matching, scale."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from botocore.client import BaseClient

from functions.core.ids import new_id
from functions.core.models import Event, iso, utc_now
from functions.core.timestamps import milliseconds, parse_iso
from functions.pipeline.fanout import delivery_id_for
from functions.pipeline.publishing import idempotent_event_id, request_fingerprint
from functions.store.queues import Queue, QueueSendError
from tests.integration.pipeline_support import Pipeline, custom_profile, dynamodb_calls, pipeline_under_moto, receiver

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


def events_queued(pipeline: Pipeline) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in pipeline.receive(pipeline.aws.events_queue_url)]


def table_items(pipeline: Pipeline) -> list[dict[str, Any]]:
    return list(pipeline.aws.dynamodb.scan(TableName=pipeline.aws.table_name)["Items"])


# Publishing -------------------------------------------------------------------------------


def test_publishing_answers_202_once_the_event_is_stored_and_queued(pipeline: Pipeline) -> None:
    with dynamodb_calls() as calls:
        response = pipeline.publish("user.created", {"id": 7, "score": 0.25})
    assert response.status == 202
    assert set(response.body) == {"id", "object", "type", "created_at"}
    assert response.body["object"] == "event"
    assert response.body["id"].startswith("evt_")
    [message] = events_queued(pipeline)
    assert message == {  # what fan-out needs: ids and the type, never the data
        "application_id": "acme",
        "event_id": response.body["id"],
        "event_type": "user.created",
        "created_at": response.body["created_at"],
    }
    [item] = table_items(pipeline)
    assert item["sk"] == {"S": "EVT"}
    assert pipeline.events.get("acme", response.body["id"]).data == {"id": 7, "score": 0.25}  # before any fan-out
    # the type's catalog entry (read once per function instance and minute), the event row, nothing else
    assert calls == ["GetItem", "PutItem"]
    with dynamodb_calls() as again:
        assert pipeline.publish("user.created", {"id": 8}).status == 202
    assert again == ["PutItem"]  # the type is remembered: a steady stream of events costs one write each


def test_an_idempotency_key_or_a_caller_id_costs_one_write_the_event_row(pipeline: Pipeline) -> None:
    assert pipeline.publish("order.created").status == 202  # the type's catalog entry is read (once) here
    with dynamodb_calls() as keyed:
        assert pipeline.publish("order.created", headers={"idempotency-key": "k-writes"}).status == 202
    with dynamodb_calls() as with_id:
        assert pipeline.publish("order.created", id=new_id("evt")).status == 202
    assert keyed == ["PutItem"]  # the event row is the key's claim
    assert with_id == ["PutItem"]
    assert [i["sk"]["S"] for i in table_items(pipeline)] == ["EVT", "EVT", "EVT"]


@pytest.mark.parametrize("dedupe", ["key", "id"])
def test_a_repeated_publish_gets_the_same_answer_and_delivers_once(pipeline: Pipeline, dedupe: str) -> None:
    options: dict[str, Any] = {"headers": {"idempotency-key": "order-42"}} if dedupe == "key" else {"id": new_id("evt")}
    with receiver(200) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        first = pipeline.publish("order.created", {"order": 42}, **dict(options))
        second = pipeline.publish("order.created", {"order": 42}, **dict(options))
        assert first.status == second.status == 202
        assert first.body == second.body
        if dedupe == "id":
            assert first.body["id"] == options["id"]
        queued = pipeline.receive(pipeline.aws.events_queue_url)  # again: the first may have stopped before
        assert [json.loads(m["Body"])["event_id"] for m in queued] == [first.body["id"]] * 2
        assert {json.loads(m["Body"])["created_at"] for m in queued} == {first.body["created_at"]}
        assert pipeline.run_fanout(queued) == {"batchItemFailures": []}
        assert pipeline.publish("order.created", {"order": 42}, **dict(options)).body == first.body
        assert pipeline.run_fanout() == {"batchItemFailures": []}
        pipeline.run_all_deliveries()
    assert len(pipeline.deliveries.list_for_webhook("acme", webhook.id, limit=5).items) == 1
    assert len(server.requests) == 1
    assert [i["sk"]["S"] for i in table_items(pipeline)].count("EVT") == 1


def test_idempotency_is_per_application(pipeline: Pipeline) -> None:
    headers = {"idempotency-key": "same-key"}
    ours = pipeline.publish("order.created", {}, headers=headers)
    theirs = pipeline.publish("order.created", {}, headers=headers, application="globex")
    assert ours.body["id"] != theirs.body["id"]
    assert len(events_queued(pipeline)) == 2


@pytest.mark.parametrize("dedupe", ["key", "id"])
def test_reusing_a_key_or_id_for_a_different_event_is_a_conflict(pipeline: Pipeline, dedupe: str) -> None:
    options: dict[str, Any] = {"headers": {"idempotency-key": "k1"}} if dedupe == "key" else {"id": new_id("evt")}
    assert pipeline.publish("order.created", {"order": 1}, **dict(options)).status == 202
    conflict = pipeline.publish("order.created", {"order": 2}, **dict(options))
    assert conflict.status == 409
    assert conflict.error_type == "conflict"
    assert len(events_queued(pipeline)) == 1


def test_a_repeat_after_the_first_request_stopped_before_queueing_queues_the_event(pipeline: Pipeline) -> None:
    first_at = milliseconds(utc_now() - timedelta(minutes=5))
    event_id = idempotent_event_id("acme", "k1")
    first = Event(id=event_id, application_id="acme", type="order.created", data={"order": 1}, created_at=first_at)
    # the first request stored its event row (the claim of its key) and stopped (a crash, a timeout) before queueing it
    fingerprint = request_fingerprint("order.created", '{"order":1}')
    assert pipeline.events.put_new(first, 2**31, fingerprint) is None
    response = pipeline.publish("order.created", {"order": 1}, headers={"idempotency-key": "k1"})
    assert response.status == 202
    assert response.body["id"] == event_id
    [message] = events_queued(pipeline)
    assert message["event_id"] == event_id
    assert message["created_at"] == iso(first_at)
    assert pipeline.events.get("acme", event_id).created_at == first_at


def test_when_sqs_refuses_the_answer_is_503_and_the_key_can_be_used_again(pipeline: Pipeline) -> None:
    headers = {"idempotency-key": "k-503"}
    with mock.patch.object(Queue, "send", side_effect=QueueSendError("SQS is down")):
        refused = pipeline.publish("order.created", {"order": 1}, headers=headers)
    assert refused.status == 503
    assert refused.error_type == "service_unavailable"
    assert table_items(pipeline) == []  # the event was not kept: the key is free again
    accepted = pipeline.publish("order.created", {"order": 1}, headers=headers)
    assert accepted.status == 202
    assert len(events_queued(pipeline)) == 1
    assert pipeline.events.find("acme", accepted.body["id"]) is not None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"type": "Not A Type", "data": {}}, 422),
        ({"type": "user.created", "data": [1, 2]}, 422),
        ({"type": "user.created", "data": {}, "extra": 1}, 422),
        ({"type": "user.created", "data": {}, "id": "order 42"}, 422),
        ({"type": "user.created", "data": {}, "id": ""}, 422),
        ({"type": "user.created", "data": {}, "id": "x" * 129}, 422),
        ({"data": {}}, 422),
        ('{"type": "user.created", "data": {"x": NaN}}', 400),  # NaN is not JSON (RFC 8259)
        ("{not json", 400),
    ],
)
def test_invalid_events_are_refused_with_the_error_envelope(pipeline: Pipeline, body: Any, status: int) -> None:
    response = pipeline.api("POST", "/v1/events", body=body)
    assert response.status == status, response.body
    assert set(response.body["error"]) == {"type", "message"}
    assert events_queued(pipeline) == []


def test_the_catalog_of_the_profile_limits_event_types(pipeline: Pipeline) -> None:
    pipeline.use_profile("delegated")
    assert pipeline.publish("task.completed").status == 202
    refused = pipeline.publish("user.created")
    assert refused.status == 422
    assert "catalog" in refused.body["error"]["message"]


def test_an_event_over_the_profiles_size_limit_is_413(pipeline: Pipeline, tmp_path: Any) -> None:
    pipeline.use_profile(custom_profile(tmp_path, max_payload_bytes=1024))
    assert pipeline.publish("user.created", {"text": "x" * 900}).status == 202
    too_large = pipeline.publish("user.created", {"text": "x" * 1100})
    assert too_large.status == 413
    assert too_large.error_type == "payload_too_large"


def test_publishing_without_a_application_is_401(pipeline: Pipeline) -> None:
    assert pipeline.publish("user.created", application=None).status == 401


# Fan-out -----------------------------------------------------------------------------------


def test_fan_out_creates_one_delivery_per_enabled_matching_endpoint_of_the_application(pipeline: Pipeline) -> None:
    url = "http://127.0.0.1:9/hooks"
    family, _ = pipeline.add_webhook(url, events=["order.*"])
    everything, _ = pipeline.add_webhook(url, events=["*"])
    exact, _ = pipeline.add_webhook(url, events=["order.created"])
    other_type, _ = pipeline.add_webhook(url, events=["user.created", "order.shipped"])
    disabled, _ = pipeline.add_webhook(url, events=["*"], enabled=False)
    other_application, _ = pipeline.add_webhook(url, events=["*"], application="globex")
    published = pipeline.publish("order.created").body
    event_id, published_at = published["id"], parse_iso(published["created_at"])
    assert pipeline.run_fanout() == {"batchItemFailures": []}
    messages = [json.loads(m["Body"]) for m in pipeline.receive(pipeline.aws.deliveries_queue_url)]
    matched = {w.id: delivery_id_for(event_id, w.id, published_at) for w in (family, everything, exact)}
    assert {m["delivery_id"] for m in messages} == set(matched.values())
    for message in messages:
        assert (message["application_id"], message["series"]) == ("acme", 1)
        assert matched[message["new"]["webhook_id"]] == message["delivery_id"]
        assert (message["new"]["event_id"], message["new"]["event_type"]) == (event_id, "order.created")
    assert not {other_type.id, disabled.id, other_application.id} & {m["new"]["webhook_id"] for m in messages}
    assert [i["sk"]["S"] for i in table_items(pipeline)].count("DEL") == 0  # stored by the deliver function


def test_fan_out_reads_no_endpoint_urls_or_secrets(pipeline: Pipeline) -> None:
    pipeline.add_webhook("http://127.0.0.1:9/hooks", events=["order.*"])
    pipeline.add_webhook("http://127.0.0.1:9/hooks", events=["user.*"])
    pipeline.publish("order.created")
    returned: list[dict[str, Any]] = []
    real_call = BaseClient._make_api_call

    def call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        response = real_call(client, operation_name, api_params)
        if operation_name == "Query":
            returned.extend(response["Items"])
        return response

    with mock.patch.object(BaseClient, "_make_api_call", call):
        assert pipeline.run_fanout() == {"batchItemFailures": []}
    assert len(returned) == 2
    assert {name for item in returned for name in item} == {"id", "events", "enabled"}
    assert pipeline.queued(pipeline.aws.deliveries_queue_url) == 1


def test_the_event_is_stored_once_with_its_data_as_sent_and_an_expiry(pipeline: Pipeline) -> None:
    data = {"price": 10.0, "ratio": 0.1, "tiny": 1e-7, "big": 12345678901234567890, "text": "naïve"}
    event_id = pipeline.publish("order.created", data).body["id"]
    pipeline.run_fanout()
    event = pipeline.events.get("acme", event_id)
    assert event.data == data
    [item] = [i for i in table_items(pipeline) if i["sk"]["S"] == "EVT"]
    expires = int(item["expires_at_epoch"]["N"])
    assert abs(expires - (event.created_at + timedelta(days=pipeline.profile.event_retention_days)).timestamp()) < 2


def test_a_redelivered_event_message_creates_no_second_delivery(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook, _ = pipeline.add_webhook(server.url)
        pipeline.publish("order.created")
        [message] = pipeline.receive(pipeline.aws.events_queue_url)
        assert pipeline.run_fanout([message]) == {"batchItemFailures": []}
        assert pipeline.run_fanout([message]) == {"batchItemFailures": []}
        pipeline.run_all_deliveries()
    assert len(pipeline.deliveries.list_for_webhook("acme", webhook.id, limit=5).items) == 1
    assert len(server.requests) == 1


def test_a_test_event_fans_out_to_its_endpoint_only(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        target, _ = pipeline.add_webhook(server.url, events=["order.created"])
        bystander, _ = pipeline.add_webhook(server.url, events=["*"])
        response = pipeline.api("POST", f"/v1/webhooks/{target.id}/test")
        assert response.status == 202
        assert response.body["type"] == pipeline.profile.test_event_type
        pipeline.run_fanout()
        pipeline.run_all_deliveries()
    [request] = server.requests
    assert json.loads(request.body)["type"] == "webhook.test"
    assert json.loads(request.body)["data"]["webhook_id"] == target.id
    assert pipeline.deliveries.list_for_webhook("acme", bystander.id, limit=5).items == []


@pytest.mark.slow  # about 12 s with dovecote_local.moto_fixes (145 s without): out of make test-fast
def test_fan_out_to_a_thousand_endpoints(pipeline: Pipeline) -> None:
    for _ in range(1000):
        pipeline.add_webhook("http://127.0.0.1:9/hooks", events=["order.*"])
    event_id = pipeline.publish("order.created").body["id"]
    with dynamodb_calls() as calls:
        assert pipeline.run_fanout() == {"batchItemFailures": []}
    assert set(calls) == {"Query"}  # the endpoints, in pages; no writes
    bodies: list[dict[str, Any]] = []
    while batch := pipeline.aws.sqs.receive_message(
        QueueUrl=pipeline.aws.deliveries_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600
    ).get("Messages", []):
        bodies.extend(json.loads(m["Body"]) for m in batch)
    assert len(bodies) == len({b["delivery_id"] for b in bodies}) == 1000
    assert all(b["new"]["event_id"] == event_id for b in bodies)
