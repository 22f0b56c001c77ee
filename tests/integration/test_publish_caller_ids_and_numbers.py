"""Publishing with the platform's own event ids, and bodies that re-serializing (JavaScript) receivers can verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.pipeline_support import Pipeline, pipeline_under_moto, receiver

BEYOND_2_53 = 2**53 + 1


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


@pytest.mark.parametrize(
    "event_id", ["order-42", "3f2b8c1e-7d4a-4b9e-9a0c-1d2e3f4a5b6c", "acme:orders.v2_7", "x" * 128]
)
def test_the_same_caller_id_published_twice_is_one_event_and_one_delivery(pipeline: Pipeline, event_id: str) -> None:
    with receiver() as server:
        pipeline.add_webhook(server.url)
        first = pipeline.publish("order.created", {"n": 1}, id=event_id)
        again = pipeline.publish("order.created", {"n": 1}, id=event_id)
        while pipeline.queued(pipeline.aws.events_queue_url):
            pipeline.run_fanout()
        pipeline.run_all_deliveries()
    assert (first.status, again.status) == (202, 202)
    assert first.body == again.body
    assert first.body["id"] == event_id
    assert len(server.requests) == 1


@pytest.mark.parametrize("event_id", ["", "order 42", "order/42", "ordér", "a#b", "x" * 129, 42, "batch"])
def test_a_bad_caller_id_is_a_422_naming_id(pipeline: Pipeline, event_id: Any) -> None:
    refused = pipeline.publish("order.created", {"n": 1}, id=event_id)

    assert refused.status == 422
    assert refused.body["error"]["message"].startswith("id:"), refused.body


@pytest.mark.parametrize("profile", ["delegated", "mutx"])
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": BEYOND_2_53}, "data.amount"),
        ({"order": {"lines": [{"qty": 1}, {"qty": -(2**64)}]}}, "data.order.lines[1].qty"),
        ({"big": 10**21}, "data.big"),
    ],
)
def test_under_a_reserializing_profile_a_number_javascript_cannot_carry_is_a_422_naming_it(
    pipeline: Pipeline, profile: str, data: dict[str, Any], field: str
) -> None:
    pipeline.use_profile(profile)
    event_type = "task.created" if profile == "delegated" else "agent.started"

    refused = pipeline.api("POST", "/v1/events", body=json.dumps({"type": event_type, "data": data}))

    assert refused.status == 422
    assert refused.body["error"]["message"].startswith(f"{field}: JavaScript cannot carry this number"), refused.body


@pytest.mark.parametrize("profile", ["delegated", "mutx"])
def test_under_a_reserializing_profile_numbers_javascript_carries_are_accepted(
    pipeline: Pipeline, profile: str
) -> None:
    pipeline.use_profile(profile)
    event_type = "task.created" if profile == "delegated" else "agent.started"
    data = {"safe": 2**53 - 1, "round": 10**20, "float": 1.0, "tiny": 1e-7, "text": "Crème ✓"}

    assert pipeline.api("POST", "/v1/events", body={"type": event_type, "data": data}).status == 202


def test_under_a_raw_body_profile_a_big_integer_is_sent_exactly(pipeline: Pipeline) -> None:
    with receiver() as server:
        pipeline.add_webhook(server.url)
        published = pipeline.api(
            "POST", "/v1/events", body=json.dumps({"type": "order.created", "data": {"n": BEYOND_2_53}})
        )
        while pipeline.queued(pipeline.aws.events_queue_url):
            pipeline.run_fanout()
        pipeline.run_all_deliveries()
    assert published.status == 202
    assert f'"n":{BEYOND_2_53}'.encode() in server.requests[0].body
