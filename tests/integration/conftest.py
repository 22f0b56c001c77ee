"""Shared fixtures for integration tests: Dovecote's AWS resources under moto.

`aws` starts `mock_aws`, creates what the stack creates (the table with the layout of
functions/store/table.py, the events and deliveries queues with their DLQs, a retry state
machine), points the settings environment (functions/runtime/settings.py) at them, and drops
every handler's cached dependencies so the next request builds them against moto.

Convention: a module that caches dependencies exposes `reset_dependencies()`; every
imported `functions.*` module that has one is reset here, so new handlers need no edit.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws

from functions.core.constants import MAX_RECEIVE_COUNT
from functions.core.ids import new_id
from functions.core.models import Delivery, DeliveryStatus, Event, SigningSecret, Webhook, utc_now
from functions.management import handler as management
from functions.management.dependencies import ManagementDependencies, use_dependencies
from functions.pipeline.operational import OPERATIONAL_APPLICATION, OPERATIONAL_WEBHOOK_ID
from functions.runtime import settings as settings_env
from functions.runtime.settings import Settings
from functions.store.deliveries import DeliveryStore
from functions.store.events import EventStore
from functions.store.table import GSI1, TTL_ATTRIBUTE
from functions.store.webhooks import WebhookStore

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

REGION = "us-east-1"
TABLE_NAME = "dovecote-test"
EVENTS_QUEUE = "dovecote-test-events"
DELIVERIES_QUEUE = "dovecote-test-deliveries"
STATE_MACHINE = "dovecote-test-retries"
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::123456789012:role/dovecote-test-retries"
_PLACEHOLDER_DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


@dataclass(frozen=True)
class AwsResources:
    dynamodb: Any
    sqs: Any
    stepfunctions: Any
    table_name: str
    events_queue_url: str
    deliveries_queue_url: str
    state_machine_arn: str


def create_table(client: Any, name: str) -> None:
    """The single table: pk/sk, GSI gsi1 on gsi1pk/gsi1sk (ALL), on-demand, TTL."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"} for attribute in ("pk", "sk", "gsi1pk", "gsi1sk")
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": GSI1,
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


def create_queue_with_dlq(client: Any, name: str) -> str:
    dlq_url = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)})
    return str(client.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive})["QueueUrl"])


@cache
def _clients() -> tuple[Any, Any, Any]:
    """Built once per session: moto intercepts every client created after it is imported, and
    building clients is most of a test's setup time."""
    return (
        boto3.client("dynamodb", region_name=REGION),
        boto3.client("sqs", region_name=REGION),
        boto3.client("stepfunctions", region_name=REGION),
    )


def reset_all_dependencies() -> None:
    for name, module in list(sys.modules.items()):
        reset = getattr(module, "reset_dependencies", None)
        if name.startswith("functions.") and callable(reset):
            reset()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsResources]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        dynamodb, sqs, stepfunctions = _clients()
        create_table(dynamodb, TABLE_NAME)
        resources = AwsResources(
            dynamodb=dynamodb,
            sqs=sqs,
            stepfunctions=stepfunctions,
            table_name=TABLE_NAME,
            events_queue_url=create_queue_with_dlq(sqs, EVENTS_QUEUE),
            deliveries_queue_url=create_queue_with_dlq(sqs, DELIVERIES_QUEUE),
            state_machine_arn=stepfunctions.create_state_machine(
                name=STATE_MACHINE, definition=json.dumps(_PLACEHOLDER_DEFINITION), roleArn=PLACEHOLDER_ROLE_ARN
            )["stateMachineArn"],
        )
        monkeypatch.setenv(settings_env.ENV_TABLE, resources.table_name)
        monkeypatch.setenv(settings_env.ENV_EVENTS_QUEUE, resources.events_queue_url)
        monkeypatch.setenv(settings_env.ENV_DELIVERIES_QUEUE, resources.deliveries_queue_url)
        monkeypatch.setenv(settings_env.ENV_STATE_MACHINE, resources.state_machine_arn)
        monkeypatch.setenv(settings_env.ENV_PROFILE, "standard")
        monkeypatch.delenv(settings_env.ENV_ALLOW_HTTP_LOOPBACK, raising=False)
        reset_all_dependencies()
        yield resources
    reset_all_dependencies()


@pytest.fixture
def dovecote_logs() -> Iterator[io.StringIO]:
    """The JSON lines Powertools' `dovecote` logger writes during the test (every function logs there)."""
    handlers = [h for h in logging.getLogger("dovecote").handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "no Powertools Logger(service='dovecote') has been created"
    captured = io.StringIO()
    previous = [h.setStream(captured) for h in handlers]
    yield captured
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)


@pytest.fixture
def use_profile(aws: AwsResources, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Switch the deployment profile (a shipped name or a path) for the rest of the test."""

    def switch(name: str) -> None:
        monkeypatch.setenv(settings_env.ENV_PROFILE, name)
        reset_all_dependencies()

    return switch


@dataclass
class FakeLambdaContext:
    function_name: str = "dovecote-test"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:dovecote-test"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/dovecote-test"
    log_stream_name: str = "2026/01/01/[$LATEST]0"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


HttpEvent = Callable[..., dict[str, Any]]


@pytest.fixture
def http_event() -> HttpEvent:
    """An HTTP API (payload 2.0) proxy event as API Gateway sends it after the authorizer ran.

    `application` sets requestContext.authorizer.lambda.application_id; `auth_error` the authorizer's
    refusal; `context` the authorizer's whole context; none leaves the authorizer context empty.
    `body` may be a str (sent as is) or any JSON value.
    """

    def build(
        method: str,
        path: str,
        *,
        application: str | None = None,
        auth_error: str | None = None,
        context: dict[str, Any] | None = None,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        authorizer: dict[str, Any] = {}
        if context is not None:
            authorizer = {"lambda": context}
        elif application is not None:
            authorizer = {"lambda": {"application_id": application}}
        elif auth_error is not None:
            authorizer = {"lambda": {"auth_error": auth_error}}
        raw_body = body if body is None or isinstance(body, str) else json.dumps(body)
        query_string = urlencode(query or {})
        return {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query_string,
            "headers": {"content-type": "application/json", "host": "api.example.com", **(headers or {})},
            "queryStringParameters": dict(query) if query else None,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "dovecote",
                "domainName": "api.example.com",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
                "requestId": "req-integration",
                "routeKey": "$default",
                "stage": "$default",
                "authorizer": authorizer,
            },
            "body": raw_body,
            "isBase64Encoded": False,
        }

    return build


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error_type(self) -> str | None:
        return self.body["error"]["type"] if isinstance(self.body, dict) and "error" in self.body else None


CallApi = Callable[..., ApiResponse]


@pytest.fixture
def call_api(http_event: HttpEvent, lambda_context: FakeLambdaContext) -> CallApi:
    """`call_api(handler, method, path, **http_event options)`: the handler's response, body parsed."""

    def call(
        handler: Callable[[dict[str, Any], Any], dict[str, Any]], method: str, path: str, **options: Any
    ) -> ApiResponse:
        raw = handler(http_event(method, path, **options), lambda_context)
        body = raw.get("body")
        return ApiResponse(
            status=int(raw["statusCode"]), body=json.loads(body) if body else None, headers=raw["headers"]
        )

    return call


# Management API -------------------------------------------------------------------------

APPLICATION = "acme"
OTHER_APPLICATION = "globex"
PUBLIC_ADDRESS = "93.184.216.34"
RESOLVED_ADDRESSES = {"internal.example.com": ["10.1.2.3"], "metadata.example.com": ["169.254.169.254"]}


def fake_resolver(host: str, port: int) -> list[str]:
    """DNS for tests: a few names resolve to private addresses, every other name to a public one."""
    return RESOLVED_ADDRESSES.get(host, [PUBLIC_ADDRESS])


class ManagementApi:
    """Calls the management handler as `application` (pass application=None for no authorizer context)."""

    def __init__(self, aws: AwsResources, call_api: CallApi, monkeypatch: pytest.MonkeyPatch) -> None:
        self._aws = aws
        self._call_api = call_api
        self._monkeypatch = monkeypatch
        self._install()

    def _install(self) -> None:
        reset_all_dependencies()
        use_dependencies(
            ManagementDependencies(
                settings=Settings.from_environment(),
                dynamodb=self._aws.dynamodb,
                stepfunctions=lambda: self._aws.stepfunctions,
                url_resolver=fake_resolver,
            )
        )

    def switch_profile(self, name: str) -> None:
        self._monkeypatch.setenv(settings_env.ENV_PROFILE, name)
        self._install()

    def allow_loopback(self) -> None:
        self._monkeypatch.setenv(settings_env.ENV_ALLOW_HTTP_LOOPBACK, "1")
        self._install()

    def __call__(self, method: str, path: str, *, application: str | None = APPLICATION, **options: Any) -> ApiResponse:
        return self._call_api(management.handler, method, path, application=application, **options)

    def create_webhook(self, application: str = APPLICATION, **fields: Any) -> dict[str, Any]:
        body = {"url": "https://hooks.example.com/dovecote", "events": ["*"], **fields}
        response = self("POST", "/v1/webhooks", application=application, body=body)
        assert response.status == 201, response.body
        return dict(response.body)


@pytest.fixture
def pipeline(aws: AwsResources, call_api: CallApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The pipeline's handlers under moto, state machines executed (tests/integration/pipeline_support.py)."""
    from tests.integration.pipeline_support import pipeline_under_moto  # noqa: PLC0415 - it imports this module

    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


@pytest.fixture
def management_api(aws: AwsResources, call_api: CallApi, monkeypatch: pytest.MonkeyPatch) -> ManagementApi:
    return ManagementApi(aws, call_api, monkeypatch)


def seed_failed_delivery(aws: AwsResources, management_api: ManagementApi, application: str) -> dict[str, str]:
    """A webhook of `application` with a failed delivery (retryable, recoverable) and its event: their ids."""
    webhook = management_api.create_webhook(application=application)
    now = utc_now()
    event = Event(id=new_id("evt"), application_id=application, type="user.created", data={}, created_at=now)
    EventStore(aws.dynamodb, aws.table_name).put_new(event, expires_at_epoch=int(now.timestamp()) + 3600)
    delivery = Delivery(
        id=new_id("del"),
        application_id=application,
        webhook_id=webhook["id"],
        event_id=event.id,
        event_type=event.type,
        status=DeliveryStatus.FAILED,
        created_at=now,
        updated_at=now,
    )
    DeliveryStore(aws.dynamodb, aws.table_name).create_with_outcome(delivery, attempt_keys=frozenset())
    return {"webhook_id": webhook["id"], "delivery_id": delivery.id, "event_id": event.id}


OPERATIONAL_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def set_operational_webhook(aws: AwsResources, url: str, secret: str = OPERATIONAL_SECRET) -> None:
    """The platform's operational webhook, stored as `PUT /v1/operational-webhook` stores it."""
    now = utc_now()
    webhook = Webhook(
        id=OPERATIONAL_WEBHOOK_ID,
        application_id=OPERATIONAL_APPLICATION,
        url=url,
        events=["*"],
        secrets=[SigningSecret(value=secret)],
        created_at=now,
        updated_at=now,
    )
    WebhookStore(aws.dynamodb, aws.table_name).create(webhook)
