"""The AWS senders' classification, the sender per type, and the role credentials' cache.

AWS's answers are given by botocore's Stubber (throttling cannot be made to happen under
moto); tests/integration/test_destinations_aws.py sends to real moto targets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from functions.core.classify import Verdict
from functions.core.destinations import AwsDestination, DestinationType
from functions.core.models import Webhook
from functions.pipeline.destinations import DestinationSender
from functions.pipeline.destinations.aws import EventBridgeSender, SnsSender, SqsSender, classify_aws_error
from functions.pipeline.sender import SendResult, SignedMessage
from functions.runtime.assumed_roles import CachedRoleAssumer, RoleCredentials
from tests.unit.records import webhook_record

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::111122223333:role/dovecote-delivery-x"
TARGETS = {
    DestinationType.SQS: "https://sqs.us-east-1.amazonaws.com/111122223333/orders",
    DestinationType.SNS: "arn:aws:sns:us-east-1:111122223333:orders",
    DestinationType.EVENTBRIDGE: "arn:aws:events:us-east-1:111122223333:event-bus/orders",
}
OPERATIONS = {
    DestinationType.SQS: "send_message",
    DestinationType.SNS: "publish",
    DestinationType.EVENTBRIDGE: "put_events",
}
SERVICES = {DestinationType.SQS: "sqs", DestinationType.SNS: "sns", DestinationType.EVENTBRIDGE: "events"}
SENDERS = {
    DestinationType.SQS: SqsSender,
    DestinationType.SNS: SnsSender,
    DestinationType.EVENTBRIDGE: EventBridgeSender,
}
MESSAGE = SignedMessage(
    delivery_id="del_1",
    event_type="order.paid",
    body=b'{"type":"order.paid"}',
    headers={"webhook-id": "del_1", "webhook-signature": "v1,abc"},
)


def endpoint(kind: DestinationType) -> Webhook:
    destination = AwsDestination(role_arn=ROLE, external_id="dvc_ext_1", region="us-east-1", account="111122223333")
    return webhook_record(type=kind, url=TARGETS[kind], destination=destination, created_at=NOW, updated_at=NOW)


class StubbedClients:
    """`RoleClients` with one stubbed client per service; `denied` makes AssumeRole fail."""

    def __init__(self, denied: bool = False) -> None:
        self.denied = denied
        self.stubs: dict[str, Stubber] = {}
        self.clients: dict[str, Any] = {}

    def stub(self, service: str) -> Stubber:
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")  # type: ignore[call-overload]
        self.clients[service] = client
        self.stubs[service] = Stubber(client)
        self.stubs[service].activate()
        return self.stubs[service]

    def client(self, service: str, region: str, role_arn: str, external_id: str) -> Any:
        if self.denied:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDenied",
                        "Message": f"not authorized to perform sts:AssumeRole on {role_arn}",
                    },
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                },
                "AssumeRole",
            )
        return self.clients[service]


def send_with_error(kind: DestinationType, code: str, status: int, message: str = "it failed") -> SendResult:
    clients = StubbedClients()
    clients.stub(SERVICES[kind]).add_client_error(
        OPERATIONS[kind], service_error_code=code, service_message=message, http_status_code=status
    )
    return SENDERS[kind](clients).send(endpoint(kind), MESSAGE)  # type: ignore[arg-type]


CODES_BY_KIND = {
    # the kind named in the log → the verdict, and the (code → http status) AWS answers of that kind
    "throttled": (
        Verdict.RETRY,
        {"ThrottlingException": 400, "Throttling": 400, "Throttled": 400, "RequestThrottled": 403},
    ),
    "server": (Verdict.RETRY, {"InternalError": 500, "ServiceUnavailable": 503}),
    "denied": (Verdict.RETRY, {"AccessDenied": 403, "AccessDeniedException": 400, "AuthorizationError": 403}),
    "missing": (
        Verdict.GONE,
        {"AWS.SimpleQueueService.NonExistentQueue": 400, "NotFound": 404, "ResourceNotFoundException": 400},
    ),
    "rejected": (Verdict.RETRY, {"InvalidParameterValue": 400}),
}
MATRIX = [
    (code, status, verdict, label)
    for label, (verdict, statuses) in CODES_BY_KIND.items()
    for code, status in statuses.items()
]


@pytest.mark.parametrize("kind", list(SENDERS))
@pytest.mark.parametrize(("code", "status", "verdict", "label"), MATRIX)
def test_each_sender_classifies_aws_errors_and_logs_the_code_and_message(
    kind: DestinationType, code: str, status: int, verdict: Verdict, label: str
) -> None:
    result = send_with_error(kind, code, status)

    assert result.verdict is verdict
    assert result.status == status
    action = {"sqs": "sqs:SendMessage", "sns": "sns:Publish", "events": "events:PutEvents"}[SERVICES[kind]]
    assert result.error == f"{action} failed ({label}): {code}: it failed"
    if verdict is Verdict.GONE:
        noun = {"sqs": "queue", "sns": "topic", "events": "event bus"}[SERVICES[kind]]
        assert result.gone_reason == f"the {noun} no longer exists ({code})"


def test_a_denied_assume_role_is_retried_and_logged_without_calling_the_target() -> None:
    result = SqsSender(StubbedClients(denied=True)).send(endpoint(DestinationType.SQS), MESSAGE)  # type: ignore[arg-type]
    assert result.verdict is Verdict.RETRY
    assert (
        result.error
        == f"sts:AssumeRole failed (denied): AccessDenied: not authorized to perform sts:AssumeRole on {ROLE}"
    )


def test_access_key_ids_in_an_aws_message_are_masked() -> None:
    result = send_with_error(DestinationType.SQS, "AccessDenied", 403, "ASIAXXXXXXXXXXXXXXXX is not authorized")
    assert result.error is not None
    assert "ASIA" not in result.error
    assert "[access key id] is not authorized" in result.error


def test_a_network_error_is_retried_with_its_text() -> None:
    clients = StubbedClients()
    clients.stub("sqs")

    def unreachable(**_: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com/")

    clients.clients["sqs"].send_message = unreachable
    result = SqsSender(clients).send(endpoint(DestinationType.SQS), MESSAGE)  # type: ignore[arg-type]
    assert result.verdict is Verdict.RETRY
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith("sqs:SendMessage failed: Could not connect to the endpoint URL")


def test_an_eventbridge_entry_that_failed_inside_a_200_answer_is_classified() -> None:
    clients = StubbedClients()
    clients.stub("events").add_response(
        "put_events",
        {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}]},
    )
    result = EventBridgeSender(clients).send(endpoint(DestinationType.EVENTBRIDGE), MESSAGE)  # type: ignore[arg-type]
    assert result.verdict is Verdict.RETRY
    assert result.error == "events:PutEvents failed (throttled): ThrottlingException: slow down"


def test_a_sent_sqs_message_carries_the_body_and_the_headers_as_attributes() -> None:
    clients = StubbedClients()
    clients.stub("sqs").add_response(
        "send_message",
        {"MessageId": "m-1", "MD5OfMessageBody": "x"},
        {
            "QueueUrl": TARGETS[DestinationType.SQS],
            "MessageBody": MESSAGE.body.decode(),
            "MessageAttributes": {
                "webhook-id": {"DataType": "String", "StringValue": "del_1"},
                "webhook-signature": {"DataType": "String", "StringValue": "v1,abc"},
            },
        },
    )
    result = SqsSender(clients).send(endpoint(DestinationType.SQS), MESSAGE)  # type: ignore[arg-type]
    assert result.verdict is Verdict.SUCCEEDED
    assert result.response_excerpt == "MessageId: m-1"
    clients.stubs["sqs"].assert_no_pending_responses()


class RecordingSender:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[str] = []

    def send(self, endpoint: Webhook, message: SignedMessage) -> SendResult:
        self.sent.append(endpoint.id)
        return SendResult(Verdict.SUCCEEDED, 1, 200, response_excerpt=self.name)


def test_the_destination_sender_hands_each_endpoint_to_the_sender_of_its_type() -> None:
    senders = {kind: RecordingSender(kind.value) for kind in DestinationType}
    sender = DestinationSender(senders)
    for kind in SENDERS:
        assert sender.send(endpoint(kind), MESSAGE).response_excerpt == kind.value
    assert [len(s.sent) for s in senders.values()] == [0, 1, 1, 1]


def test_a_type_this_deployment_cannot_send_to_is_retried_not_sent() -> None:
    result = DestinationSender({}).send(endpoint(DestinationType.SQS), MESSAGE)
    assert result.verdict is Verdict.RETRY
    assert result.error == "this deployment does not deliver to sqs endpoints"


def test_classify_aws_error_only_gives_up_on_a_missing_target() -> None:
    assert classify_aws_error("QueueDoesNotExist", 400) is Verdict.GONE
    assert classify_aws_error("AccessDenied", 403) is Verdict.RETRY


class CountingAssumer:
    def __init__(self, lifetime: timedelta) -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.now = NOW

    def credentials(self, role_arn: str, external_id: str) -> RoleCredentials:
        self.calls += 1
        return RoleCredentials(f"ASIA{self.calls}", "secret", "token", self.now + self.lifetime)


def test_role_credentials_are_reused_until_shortly_before_they_expire() -> None:
    inner = CountingAssumer(timedelta(hours=1))
    cached = CachedRoleAssumer(inner, clock=lambda: inner.now)

    first = cached.credentials(ROLE, "dvc_ext_1")
    inner.now = NOW + timedelta(minutes=54)
    assert cached.credentials(ROLE, "dvc_ext_1") is first
    assert inner.calls == 1
    inner.now = NOW + timedelta(minutes=56)  # within 5 minutes of the expiry: renewed
    assert cached.credentials(ROLE, "dvc_ext_1").access_key_id == "ASIA2"
    assert inner.calls == 2


def test_role_credentials_are_cached_per_role_and_external_id() -> None:
    inner = CountingAssumer(timedelta(hours=1))
    cached = CachedRoleAssumer(inner, clock=lambda: inner.now)
    cached.credentials(ROLE, "dvc_ext_1")
    cached.credentials(ROLE, "dvc_ext_2")
    cached.credentials(ROLE.replace("-x", "-y"), "dvc_ext_1")
    cached.credentials(ROLE, "dvc_ext_1")
    assert inner.calls == 3


def test_credentials_do_not_show_their_secret_parts_when_printed() -> None:
    text = repr(RoleCredentials("ASIA1", "the-secret", "the-token", NOW))
    assert "the-secret" not in text
    assert "the-token" not in text
