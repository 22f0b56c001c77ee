"""A StartExecution storm never loses a delivery.

The Step Functions client behind the deliver function's `RetryExecutions` is wrapped so
that StartExecution answers `ThrottlingException` (as AWS does past its token bucket);
everything else reaches moto, which runs the synthesized retry machine. Messages a batch
did not acknowledge come back at once (as after their visibility timeout), with their
real receive counts, against a queue whose redrive policy is the deployed one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.core.constants import MAX_RECEIVE_COUNT
from functions.core.models import DeliveryStatus
from functions.deliver import handler as deliver
from functions.pipeline.delivery import UNSCHEDULED_REASON
from tests.integration.conftest import DELIVERIES_QUEUE
from tests.integration.pipeline_support import Pipeline, Reply, pipeline_under_moto, receiver

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ENDPOINTS = 4


class ThrottlingStepFunctions:
    """The real client, except that StartExecution is refused as throttled `throttle(call)` says."""

    def __init__(self, client: Any, throttled_starts: int | None) -> None:
        self._client = client
        self._throttled_starts = throttled_starts
        """How many StartExecution calls are refused before they are let through (None: all)."""
        self.starts = 0
        self.refused = 0

    def start_execution(self, **kwargs: Any) -> Any:
        self.starts += 1
        if self._throttled_starts is None or self.refused < self._throttled_starts:
            self.refused += 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")
        return self._client.start_execution(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


def throttle_starts(throttled_starts: int | None) -> ThrottlingStepFunctions:
    executions = deliver.dependencies().worker.executions
    stub = ThrottlingStepFunctions(executions._client, throttled_starts)
    executions._client = stub
    return stub


def deliver_until_the_queue_is_empty(pipeline: Pipeline) -> int:
    """Run the deliver function on every receivable message until none is left; returns the rounds."""
    for rounds in range(1, 3 * MAX_RECEIVE_COUNT):
        batch = pipeline.receive(pipeline.aws.deliveries_queue_url)
        if not batch:
            return rounds
        pipeline.run_deliver(batch)
    raise AssertionError("the deliveries queue never emptied")


def dead_letters(pipeline: Pipeline) -> int:
    sqs = pipeline.aws.sqs
    url = sqs.get_queue_url(QueueName=f"{DELIVERIES_QUEUE}-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def publish_to_failing_endpoints(pipeline: Pipeline, url: str) -> list[Any]:
    webhooks = [pipeline.add_webhook(f"{url}/{n}")[0] for n in range(ENDPOINTS)]
    assert pipeline.publish("user.created", {"n": 1}).status == 202
    assert pipeline.run_fanout() == {"batchItemFailures": []}
    return webhooks


def test_a_throttled_start_comes_back_with_its_message_and_every_delivery_is_still_delivered(
    pipeline: Pipeline,
) -> None:
    # Each endpoint fails its first attempt, then accepts; the first starts of the storm are refused.
    with receiver(*[Reply(503)] * ENDPOINTS, default=200) as server:
        webhooks = publish_to_failing_endpoints(pipeline, server.url)
        stub = throttle_starts(throttled_starts=2 * ENDPOINTS)
        deliver_until_the_queue_is_empty(pipeline)
        executions = pipeline.wait_for_executions()

    assert stub.refused == 2 * ENDPOINTS
    assert len(executions) == ENDPOINTS
    assert dead_letters(pipeline) == 0
    for webhook in webhooks:
        delivery = pipeline.only_delivery(webhook)
        assert delivery.status is DeliveryStatus.SUCCEEDED
        # The attempt was not repeated on the receives that only repeated the start.
        assert [(a.number, a.response_status) for a in delivery.attempts] == [(1, 503), (2, 200)]
    assert len(server.requests) == 2 * ENDPOINTS


def test_a_start_throttled_on_every_receive_ends_the_delivery_in_its_log_never_silently_in_the_dlq(
    pipeline: Pipeline,
) -> None:
    with receiver(default=503) as server:
        webhooks = publish_to_failing_endpoints(pipeline, server.url)
        stub = throttle_starts(throttled_starts=None)
        deliver_until_the_queue_is_empty(pipeline)

    assert stub.refused == ENDPOINTS * MAX_RECEIVE_COUNT  # one start per receive, each refused
    assert pipeline.executions() == []
    assert dead_letters(pipeline) == 0
    for webhook in webhooks:
        delivery = pipeline.only_delivery(webhook)
        assert delivery.status is DeliveryStatus.FAILED
        assert delivery.status_reason == UNSCHEDULED_REASON
        assert [a.number for a in delivery.attempts] == [1]  # sent once, logged once
        # The platform's outage is not held against the endpoint.
        assert pipeline.webhooks.get("acme", webhook.id).consecutive_failures == 0
    assert len(server.requests) == ENDPOINTS
