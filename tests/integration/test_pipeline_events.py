"""The sample events in events/ (ingest_*, sqs_*, sfn_*) run through the real handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.core.models import Delivery, DeliveryStatus, SigningSecret, Webhook, iso, utc_now
from functions.deliver import handler as deliver
from functions.fanout import handler as fanout
from functions.ingest import handler as ingest
from tests.integration.pipeline_support import Pipeline, pipeline_under_moto

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

EVENTS = Path(__file__).resolve().parents[2] / "events"
APPLICATION = "demo"
WEBHOOK_ID = "wh_01jdq3xk5m8n2p4r6t8v0w2y4z"
DELIVERY_ID = "del_01jdq3xm0a1b2c3d4e5f6g7h8j"


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        now = utc_now()
        running.webhooks.create(
            Webhook(
                id=WEBHOOK_ID,
                application_id=APPLICATION,
                url="http://127.0.0.1:9/hooks",
                events=["task.*"],
                secrets=[SigningSecret(value="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
                created_at=now,
                updated_at=now,
            )
        )
        running.deliveries.create_with_outcome(
            Delivery(
                id=DELIVERY_ID,
                application_id=APPLICATION,
                webhook_id=WEBHOOK_ID,
                event_id="evt_01jdq3xk9z8y7x6w5v4t3s2r1q",
                event_type="task.completed",
                status=DeliveryStatus.FAILED,
                created_at=now,
                updated_at=now,
            ),
            attempt_keys=frozenset(),
        )
        yield running


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8")))


def status_of(response: dict[str, Any]) -> int:
    return int(response["statusCode"])


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("ingest_publish", 202),
        ("ingest_publish_invalid_type", 422),
        ("ingest_test_webhook", 202),
        ("ingest_retry_delivery", 202),
    ],
)
def test_ingest_samples(pipeline: Pipeline, lambda_context: Any, name: str, status: int) -> None:
    response = ingest.handler(sample(name), lambda_context)
    assert status_of(response) == status, response["body"]


def test_ingest_recover_sample(pipeline: Pipeline, lambda_context: Any) -> None:
    event = sample("ingest_recover")
    assert "since" in json.loads(event["body"])
    event["body"] = json.dumps({"since": iso(utc_now() - timedelta(hours=1))})  # the file's date ages
    response = ingest.handler(event, lambda_context)
    assert status_of(response) == 202, response["body"]
    assert json.loads(response["body"])["object"] == "recovery"


def test_sqs_events_batch_sample_fans_out(pipeline: Pipeline, lambda_context: Any) -> None:
    assert fanout.handler(sample("sqs_events_batch"), lambda_context) == {"batchItemFailures": []}
    messages = [json.loads(m["Body"]) for m in pipeline.receive(pipeline.aws.deliveries_queue_url)]
    assert sorted(m["new"]["event_id"] for m in messages) == [  # the event and the test event
        "evt_01jdq3xk9z8y7x6w5v4t3s2r1q",
        "evt_01jdq3xkb2c3d4e5f6g7h8j9k0",
    ]
    assert {m["new"]["webhook_id"] for m in messages} == {WEBHOOK_ID}


def test_sqs_deliveries_batch_sample_is_processed(pipeline: Pipeline, lambda_context: Any) -> None:
    assert deliver.handler(sample("sqs_deliveries_batch"), lambda_context) == {"batchItemFailures": []}
    [new_delivery] = [json.loads(r["body"]) for r in sample("sqs_deliveries_batch")["Records"] if "new" in r["body"]]
    stored = pipeline.delivery(new_delivery["delivery_id"], APPLICATION)
    assert stored.status is DeliveryStatus.FAILED  # the event is not stored: nothing to send
    assert pipeline.delivery(DELIVERY_ID, APPLICATION).status is DeliveryStatus.FAILED  # series 2 was never started


@pytest.mark.parametrize(
    ("name", "outcome"),
    [("sfn_attempt", "failed"), ("sfn_mark_failed", "failed"), ("sfn_mark_failed_after_error", "failed")],
)
def test_step_functions_samples(pipeline: Pipeline, lambda_context: Any, name: str, outcome: str) -> None:
    """The sample delivery has failed already: an attempt reports that, mark_failed changes nothing."""
    assert deliver.handler(sample(name), lambda_context) == {"outcome": outcome, "members": [], "next_attempt_at": None}
    assert pipeline.delivery(DELIVERY_ID, APPLICATION).status is DeliveryStatus.FAILED
