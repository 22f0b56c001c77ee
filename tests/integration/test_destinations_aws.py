"""AWS destinations under moto: a customer's queue, topic and bus, reached through an assumed role.

The customer's resources live in another moto account (dovecote_local/customer.py); moto's
AssumeRole is made to check the role's trust policy and its ExternalId condition
(dovecote_local/trust.py, the local stack's emulation of what IAM does). Endpoints are
registered through the management API, events published through the ingest API, and the
real fanout and deliver handlers and the synthesized retry state machine do the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dovecote.verify import verify
from dovecote_local.customer import CustomerAccount, headers_of
from dovecote_local.trust import patch_trust_policies
from functions.core.models import DeliveryStatus
from functions.management import handler as management
from tests.integration.conftest import APPLICATION
from tests.integration.pipeline_support import Pipeline, aws_calls, pipeline_under_moto

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    undo = patch_trust_policies()
    try:
        with pipeline_under_moto(aws, call_api, monkeypatch) as running:
            yield running
    finally:
        undo()


@pytest.fixture
def customer(pipeline: Pipeline) -> CustomerAccount:
    account = CustomerAccount()
    account.role()
    return account


def manage(pipeline: Pipeline, method: str, path: str, **options: Any) -> Any:
    """The management API, as the application's key."""
    return pipeline._call_api(management.handler, method, path, application=APPLICATION, **options)


def register(pipeline: Pipeline, body: dict[str, Any]) -> dict[str, Any]:
    response = manage(pipeline, "POST", "/v1/webhooks", body={"events": ["*"], **body})
    assert response.status == 201, response.body
    return dict(response.body)


def aws_endpoint(pipeline: Pipeline, customer: CustomerAccount, kind: str, target: str, **extra: Any) -> dict[str, Any]:
    """Registered, and trusted by the customer's role (as the customer would after reading external_id)."""
    role_arn = f"arn:aws:iam::{customer.account}:role/dovecote-delivery-demo"
    created = register(pipeline, {"type": kind, "target": target, "role_arn": role_arn, **extra})
    customer.trust([created["external_id"]])
    return created


def deliver_one(pipeline: Pipeline, event_type: str = "order.paid") -> None:
    assert pipeline.publish(event_type, {"order": 42}).status == 202
    assert pipeline.run_fanout() == {"batchItemFailures": []}
    assert pipeline.run_deliver() == {"batchItemFailures": []}


def only_delivery(pipeline: Pipeline, webhook_id: str) -> Any:
    page = pipeline.deliveries.list_for_webhook(APPLICATION, webhook_id, limit=10)
    assert len(page.items) == 1
    return pipeline.delivery(page.items[0].id)


# registration --------------------------------------------------------------------------------


def test_an_sqs_endpoint_is_registered_with_a_generated_external_id(pipeline: Pipeline) -> None:
    created = register(
        pipeline,
        {
            "type": "sqs",
            "target": "arn:aws:sqs:eu-west-1:111122223333:orders",
            "role_arn": "arn:aws:iam::111122223333:role/dovecote-delivery-orders",
        },
    )
    assert created["type"] == "sqs"
    assert created["target"] == created["url"] == "https://sqs.eu-west-1.amazonaws.com/111122223333/orders"
    assert created["role_arn"] == "arn:aws:iam::111122223333:role/dovecote-delivery-orders"
    assert created["external_id"].startswith("dvc_ext_")
    other = register(
        pipeline, {"type": "sns", "target": "arn:aws:sns:us-east-1:111122223333:t", "role_arn": created["role_arn"]}
    )
    assert other["external_id"] != created["external_id"]  # one per endpoint


ROLE = "arn:aws:iam::111122223333:role/dovecote-delivery-x"
QUEUE = "arn:aws:sqs:us-east-1:111122223333:q"
BUS = "arn:aws:events:us-east-1:111122223333:event-bus/b"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "sqs", "target": "arn:aws:sqs:us-east-1:1111:orders", "role_arn": ROLE}, "target"),
        ({"type": "sqs", "target": "https://sqs.nowhere/111122223333/q", "role_arn": ROLE}, "target"),
        ({"type": "sns", "target": QUEUE, "role_arn": ROLE}, "target"),
        ({"type": "eventbridge", "target": BUS.replace("us-east-1", "moon-1"), "role_arn": ROLE}, "target"),
        ({"type": "sqs", "role_arn": ROLE}, "target"),
        ({"type": "sqs", "target": QUEUE}, "role_arn"),
        ({"type": "sqs", "target": QUEUE, "role_arn": ROLE.replace("dovecote-delivery-x", "admin")}, "role_arn"),
        ({"type": "sqs", "target": QUEUE, "role_arn": ROLE.replace("111122223333", "1")}, "role_arn"),
        ({"type": "sqs", "url": "https://h.example.com/", "target": QUEUE, "role_arn": ROLE}, "url"),
        ({"type": "sqs", "target": QUEUE, "role_arn": ROLE, "message_group_id": "g"}, "message_group_id"),
        ({"type": "sqs", "target": QUEUE, "role_arn": ROLE, "source": "shop"}, "source"),
        ({"type": "eventbridge", "target": BUS, "role_arn": ROLE, "source": "aws.shop"}, "source"),
        ({"url": "https://hooks.example.com/", "role_arn": ROLE}, "role_arn"),
        ({"type": "https"}, "url"),
        ({"type": "kinesis", "target": "x", "role_arn": ROLE}, "type"),
        ({"type": "sqs", "target": QUEUE, "role_arn": ROLE, "headers": {"X-Customer": "acme"}}, "headers"),
    ],
)  # fmt: skip
def test_registration_refuses_a_bad_destination_naming_the_field(
    pipeline: Pipeline, body: dict[str, Any], field: str
) -> None:
    response = manage(pipeline, "POST", "/v1/webhooks", body={"events": ["*"], **body})
    assert response.status == 422, response.body
    assert field in response.body["error"]["message"]


# deliveries ----------------------------------------------------------------------------------


def test_an_sqs_endpoint_receives_the_envelope_with_a_signature_that_verifies(
    pipeline: Pipeline, customer: CustomerAccount
) -> None:
    queue = customer.queue("orders")
    created = aws_endpoint(pipeline, customer, "sqs", queue)
    deliver_one(pipeline)

    [message] = customer.receive(queue)
    headers = headers_of(message)
    assert verify(pipeline.profile, message["Body"], headers, created["secret"])
    assert json.loads(message["Body"])["type"] == "order.paid"
    delivery = only_delivery(pipeline, created["id"])
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert headers["webhook-id"] == delivery.id
    [attempt] = delivery.attempts
    assert attempt.response_status == 200
    assert attempt.response_excerpt == f"MessageId: {message['MessageId']}"


def test_an_sns_endpoint_publishes_the_envelope_with_its_signature_as_attributes(
    pipeline: Pipeline, customer: CustomerAccount
) -> None:
    topic, inbox = customer.topic("orders-topic")
    created = aws_endpoint(pipeline, customer, "sns", topic)
    deliver_one(pipeline)

    [message] = customer.receive(inbox)
    assert verify(pipeline.profile, message["Body"], headers_of(message), created["secret"])
    assert only_delivery(pipeline, created["id"]).status is DeliveryStatus.SUCCEEDED


def test_an_eventbridge_endpoint_puts_an_event_whose_detail_verifies(
    pipeline: Pipeline, customer: CustomerAccount
) -> None:
    bus, inbox = customer.bus("orders-bus")
    created = aws_endpoint(pipeline, customer, "eventbridge", bus, source="shop.orders")
    deliver_one(pipeline)

    [message] = customer.receive(inbox)
    event = json.loads(message["Body"])
    assert event["detail-type"] == "order.paid"
    assert event["source"] == "shop.orders"
    detail = event["detail"]
    assert verify(pipeline.profile, detail["body"], detail["headers"], created["secret"])
    assert detail["payload"] == json.loads(detail["body"])
    assert only_delivery(pipeline, created["id"]).status is DeliveryStatus.SUCCEEDED


def test_a_fifo_queue_gets_the_delivery_id_as_deduplication_id_and_the_configured_group(
    pipeline: Pipeline, customer: CustomerAccount
) -> None:
    queue = customer.queue("orders.fifo")
    created = aws_endpoint(pipeline, customer, "sqs", queue, message_group_id="tenant-7")
    deliver_one(pipeline)

    sqs = customer.client("sqs")
    [message] = sqs.receive_message(QueueUrl=queue, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    delivery = only_delivery(pipeline, created["id"])
    assert message["Attributes"]["MessageGroupId"] == "tenant-7"
    assert message["Attributes"]["MessageDeduplicationId"] == delivery.id


def test_the_test_route_sends_a_sample_event_to_an_aws_destination(
    pipeline: Pipeline, customer: CustomerAccount
) -> None:
    queue = customer.queue("orders")
    created = aws_endpoint(pipeline, customer, "sqs", queue)
    response = pipeline.api("POST", f"/v1/webhooks/{created['id']}/test")
    assert response.status in {200, 202}, response.body
    pipeline.run_fanout()
    pipeline.run_all_deliveries()
    [message] = customer.receive(queue)
    assert verify(pipeline.profile, message["Body"], headers_of(message), created["secret"])


def test_role_credentials_are_assumed_once_for_many_deliveries(pipeline: Pipeline, customer: CustomerAccount) -> None:
    queue = customer.queue("orders")
    aws_endpoint(pipeline, customer, "sqs", queue)
    with aws_calls("sts") as calls:
        for _ in range(3):
            deliver_one(pipeline)
    assert calls == ["AssumeRole"]
    assert len(customer.receive(queue)) == 3


# failures ------------------------------------------------------------------------------------


def test_a_wrong_external_id_logs_access_denied_and_retries_on_the_table(
    pipeline: Pipeline, customer: CustomerAccount
) -> None:
    queue = customer.queue("orders")
    created = aws_endpoint(pipeline, customer, "sqs", queue)
    customer.trust(["dvc_ext_someone-else"])  # the role trusts another ExternalId, not this endpoint's
    deliver_one(pipeline)
    pipeline.wait_for_executions()

    delivery = only_delivery(pipeline, created["id"])
    assert pipeline.waits == pipeline.profile.retry_delays_seconds
    assert delivery.status is DeliveryStatus.FAILED
    assert len(delivery.attempts) == pipeline.profile.max_attempts
    for attempt in delivery.attempts:
        assert attempt.error is not None
        assert attempt.error.startswith("sts:AssumeRole failed (denied): AccessDenied: ")
        assert created["role_arn"] in attempt.error
    assert pipeline.webhooks.get(APPLICATION, created["id"]).enabled  # fixable by the customer: not disabled
    assert customer.receive(queue) == []


def test_a_deleted_queue_fails_the_attempt_and_disables_the_endpoint(
    pipeline: Pipeline, customer: CustomerAccount
) -> None:
    queue = customer.queue("orders")
    created = aws_endpoint(pipeline, customer, "sqs", queue)
    customer.delete_queue(queue)
    deliver_one(pipeline)

    delivery = only_delivery(pipeline, created["id"])
    [attempt] = delivery.attempts
    assert delivery.status is DeliveryStatus.FAILED
    assert attempt.error is not None
    assert attempt.error.startswith("sqs:SendMessage failed (missing): AWS.SimpleQueueService.NonExistentQueue")
    webhook = pipeline.webhooks.get(APPLICATION, created["id"])
    assert not webhook.enabled
    assert webhook.disabled_reason == "the queue no longer exists (AWS.SimpleQueueService.NonExistentQueue)"
    assert pipeline.executions() == []  # no retries for a target that is gone


@pytest.mark.parametrize(
    ("kind", "target", "error"),
    [
        (
            "eventbridge",
            "arn:aws:events:us-east-1:{account}:event-bus/never-created",
            "events:PutEvents failed (missing): ResourceNotFoundException",
        ),
        ("sns", "arn:aws:sns:us-east-1:{account}:never-created", "sns:Publish failed (missing): NotFound"),
    ],
)  # fmt: skip
def test_a_missing_bus_or_topic_disables_the_endpoint(
    pipeline: Pipeline, customer: CustomerAccount, kind: str, target: str, error: str
) -> None:
    created = aws_endpoint(pipeline, customer, kind, target.format(account=customer.account))
    deliver_one(pipeline)

    [attempt] = only_delivery(pipeline, created["id"]).attempts
    assert attempt.error is not None
    assert attempt.error.startswith(error)
    assert not pipeline.webhooks.get(APPLICATION, created["id"]).enabled


def test_the_delivery_log_never_shows_role_credentials(pipeline: Pipeline, customer: CustomerAccount) -> None:
    queue = customer.queue("orders")
    created = aws_endpoint(pipeline, customer, "sqs", queue)
    customer.delete_queue(queue)
    with aws_calls("sts"):
        deliver_one(pipeline)
    delivery = only_delivery(pipeline, created["id"])
    response = manage(pipeline, "GET", f"/v1/deliveries/{delivery.id}")
    text = json.dumps(response.body)
    sts_backend_keys = [r.access_key_id for r in _assumed_roles()]
    assert sts_backend_keys
    for key in sts_backend_keys:
        assert key not in text
    assert "SessionToken" not in text


def _assumed_roles() -> list[Any]:
    from moto.sts.models import sts_backends  # noqa: PLC0415 - moto's state, read in this test only

    return [role for backend in sts_backends.values() for b in backend.values() for role in b.assumed_roles]


def test_patching_an_aws_endpoint_changes_target_and_role_and_keeps_its_external_id(pipeline: Pipeline) -> None:
    created = register(pipeline, {"type": "sqs", "target": "arn:aws:sqs:us-east-1:111122223333:a", "role_arn": ROLE})
    role = ROLE.replace("-x", "-y")
    response = manage(
        pipeline,
        "PATCH",
        f"/v1/webhooks/{created['id']}",
        body={"target": "arn:aws:sqs:eu-west-1:111122223333:b", "role_arn": role},
    )
    assert response.status == 200, response.body
    assert response.body["target"] == "https://sqs.eu-west-1.amazonaws.com/111122223333/b"
    assert response.body["role_arn"] == role
    assert response.body["external_id"] == created["external_id"]
    stored = pipeline.webhooks.get(APPLICATION, created["id"])
    assert stored.destination is not None
    assert stored.destination.region == "eu-west-1"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"url": "https://hooks.example.com/"}, "url"), ({"target": "arn:aws:sns:us-east-1:111122223333:t"}, "target")],
)
def test_patching_an_aws_endpoint_refuses_fields_of_another_type(
    pipeline: Pipeline, body: dict[str, Any], field: str
) -> None:
    created = register(pipeline, {"type": "sqs", "target": "arn:aws:sqs:us-east-1:111122223333:a", "role_arn": ROLE})
    response = manage(pipeline, "PATCH", f"/v1/webhooks/{created['id']}", body=body)
    assert response.status == 422, response.body
    assert response.body["error"]["message"].startswith(f"{field}: ")
