"""POST /v1/events/batch: up to 100 events in one request, one result per event, each as idempotent as a publish."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from functions.store.queues import Queue
from tests.integration.pipeline_support import Pipeline, dynamodb_calls, pipeline_under_moto


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


def batch(pipeline: Pipeline, events: list[dict[str, Any]]) -> Any:
    return pipeline.api("POST", "/v1/events/batch", body={"events": events})


def queued(pipeline: Pipeline) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while messages := pipeline.receive(pipeline.aws.events_queue_url):
        bodies.extend(json.loads(m["Body"]) for m in messages)
    return bodies


def test_a_batch_of_a_hundred_events_is_queued_with_one_write_each_and_sqs_batches(pipeline: Pipeline) -> None:
    events = [{"type": "order.created", "data": {"n": n}, "idempotency_key": f"k-{n}"} for n in range(100)]
    sending = mock.patch.object(Queue, "send_batch", autospec=True, side_effect=Queue.send_batch)
    with sending as send_batch, dynamodb_calls() as calls:
        answer = batch(pipeline, events)
    assert answer.status == 202, answer.body
    assert (answer.body["accepted"], answer.body["failed"]) == (100, 0)
    assert [item["index"] for item in answer.body["data"]] == list(range(100))
    assert all(item["status"] == 202 and not item["repeat"] for item in answer.body["data"])
    assert calls == ["GetItem"] + ["PutItem"] * 100  # the type's catalog entry (once a minute), one row per event
    assert send_batch.call_count == 10
    assert sorted(message["event_id"] for message in queued(pipeline)) == sorted(i["id"] for i in answer.body["data"])


def test_each_event_fails_alone_and_a_repeat_is_the_same_event(pipeline: Pipeline) -> None:
    first = batch(pipeline, [{"type": "order.created", "data": {"n": 1}, "id": "order-1"}])
    answer = batch(
        pipeline,
        [
            {"type": "order.created", "data": {"n": 1}, "id": "order-1"},  # the same event again
            {"type": "order.created", "data": {"n": 2}, "id": "order-1"},  # its id for another event
            {"type": "Not A Type", "data": {}},
            {"type": "order.created", "data": {}, "id": "has space"},
            {"type": "order.paid", "data": {"n": 3}},
        ],
    )
    assert answer.status == 202
    repeat, conflict, bad_type, bad_id, fresh = answer.body["data"]
    assert (repeat["status"], repeat["repeat"], repeat["id"]) == (202, True, first.body["data"][0]["id"])
    assert (conflict["status"], conflict["error"]["type"]) == (409, "conflict")
    assert (bad_type["status"], bad_type["error"]["message"].split(":")[0]) == (422, "type")
    assert (bad_id["status"], bad_id["error"]["message"].split(":")[0]) == (422, "id")
    assert (fresh["status"], fresh["repeat"]) == (202, False)
    assert (answer.body["accepted"], answer.body["failed"]) == (2, 3)


def test_a_batch_body_that_is_not_a_list_of_one_to_a_hundred_events_is_refused(pipeline: Pipeline) -> None:
    assert batch(pipeline, []).status == 422
    too_many = batch(pipeline, [{"type": "order.created", "data": {}}] * 101)
    assert too_many.status == 422
    assert "events" in too_many.body["error"]["message"]


def test_when_sqs_refuses_some_events_only_those_answer_503_and_leave_nothing_behind(pipeline: Pipeline) -> None:
    def refuse_the_second(self: Queue, bodies: list[str]) -> list[int]:
        return [1]

    with mock.patch.object(Queue, "send_batch", refuse_the_second):
        answer = batch(pipeline, [{"type": "order.created", "data": {"n": n}, "id": f"e-{n}"} for n in range(3)])
    statuses = [item["status"] for item in answer.body["data"]]
    assert statuses == [202, 503, 202]
    assert pipeline.events.find("acme", "e-1") is None  # retrying it starts afresh
    assert pipeline.events.find("acme", "e-0") is not None
