"""What the deliver and management functions' INIT (import, then what the first request builds) imports:
collaborators only some invocations need are built on first use (not how long anything takes).

- deliver: operational events (failure, recovery and disable paths), rate limits (limited endpoints)
  and AWS destinations (sqs, sns, eventbridge endpoints);
- management: operational events (the operational-webhook and enable/disable routes);
- ingest: the redelivery of the test, retry and recover routes, and fan-out (POST /v1/events needs neither).
"""

from __future__ import annotations

import json
import os

from functions.core.classify import Verdict
from functions.core.destinations import DestinationType
from functions.core.models import Webhook, utc_now
from functions.pipeline.destinations import delivery_sender
from functions.pipeline.sender import SendResult, SignedMessage
from tests.unit.fresh_python import FUNCTION_ENVIRONMENT, REPO_ROOT, imported_after, run_python

OPERATIONAL_EVENTS = {"functions.pipeline.operational", "functions.store.event_bus"}
RATE_LIMITS = {"functions.pipeline.rate_limit", "functions.store.rate_limits"}
AWS_DESTINATIONS = {"functions.pipeline.destinations.aws", "functions.runtime.assumed_roles"}


def test_the_deliver_functions_init_imports_no_operational_events_rate_limits_nor_aws_destinations():
    modules = imported_after("import functions.deliver.handler as h\nh.dependencies()")

    assert {"boto3", "functions.pipeline.delivery", "functions.core.profile"} <= modules  # the worker was built
    assert not modules & OPERATIONAL_EVENTS
    assert not modules & RATE_LIMITS
    assert not modules & AWS_DESTINATIONS


def test_the_management_functions_init_imports_no_operational_events():
    modules = imported_after(
        "import functions.management.handler\n"
        "from functions.management.dependencies import dependencies\n"
        "dependencies()"
    )

    assert "functions.management.operational_webhook" in modules  # its routes are in the route table
    assert not modules & OPERATIONAL_EVENTS


def test_the_ingest_functions_init_imports_neither_redelivery_nor_fan_out():
    modules = imported_after(
        "import functions.ingest.handler\nfrom functions.ingest.dependencies import dependencies\ndependencies()"
    )

    assert {"boto3", "functions.pipeline.publishing"} <= modules  # the publisher was built
    assert not modules & {"functions.pipeline.redelivery", "functions.store.deliveries", "functions.store.webhooks"}
    assert not modules & {"functions.pipeline.fanout", "functions.core.filters"}


def record_validators_built_after(code: str) -> dict[str, bool]:
    """Which records of functions/core/models.py have their validator built once a fresh interpreter ran `code`."""
    script = (
        f"{code}\nimport json\nfrom functions.core import models as m\n"
        "records = (m.Webhook, m.Event, m.Attempt, m.Delivery, m.SigningSecret, m.ApiKey, m.Application)\n"
        "print(json.dumps({r.__name__: r.__pydantic_complete__ for r in records}))"
    )
    environment = {**os.environ, **FUNCTION_ENVIRONMENT, "PYTHONPATH": str(REPO_ROOT)}
    completed = run_python("-c", script, environment=environment)
    assert completed.returncode == 0, completed.stderr
    return dict(json.loads(completed.stdout.splitlines()[-1]))


def test_fan_outs_init_builds_no_record_validator():
    built = record_validators_built_after("import functions.fanout.handler as h\nh.dependencies()")

    assert not any(built.values()), built


def test_the_deliver_functions_init_builds_the_record_validators_its_batch_threads_share():
    built = record_validators_built_after("import functions.deliver.handler as h\nh.dependencies()")

    assert {name for name, complete in built.items() if complete} == {"Webhook", "Event", "Attempt", "Delivery"}


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, endpoint: Webhook, message: SignedMessage) -> SendResult:
        self.sent.append(endpoint.url)
        return SendResult(Verdict.SUCCEEDED, 1, status=200)


def endpoint(kind: DestinationType, url: str) -> Webhook:
    now = utc_now()
    return Webhook(
        id="wh_1", application_id="acme", type=kind, url=url, events=["*"], secrets=[], created_at=now, updated_at=now
    )


def test_the_delivery_sender_hands_each_type_to_its_sender_with_the_aws_ones_built_on_first_use():
    https = RecordingSender()
    sender = delivery_sender(https, lambda: None)
    message = SignedMessage(delivery_id="del_1", event_type="order.created", body=b"{}", headers={})

    delivered = sender.send(endpoint(DestinationType.HTTPS, "https://example.com/hook"), message)
    aws_types = (DestinationType.SQS, DestinationType.SNS, DestinationType.EVENTBRIDGE)
    refused = {kind: sender.send(endpoint(kind, "arn:aws:sqs:us-east-1:123456789012:q"), message) for kind in aws_types}

    assert delivered.verdict is Verdict.SUCCEEDED
    assert https.sent == ["https://example.com/hook"]
    # no role on these endpoints: each AWS sender answers for its own type, none is sent through HTTPS
    assert {kind: result.error for kind, result in refused.items()} == {
        kind: f"the {kind} endpoint has no role to assume" for kind in aws_types
    }
