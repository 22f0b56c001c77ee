"""The delivery pipeline under moto, with real HTTP receivers on 127.0.0.1.

`Pipeline` drives the real handlers the way AWS would: the ingest handler through HTTP API
events, the fanout and deliver handlers with SQS batches received from moto's queues, and
the retry state machine synthesized by infra (infra/retry_definition.py) executed by moto,
whose Lambda tasks call the real deliver handler in-process and whose Wait states are
recorded instead of slept. `Receiver` is a ThreadingHTTPServer that answers from a script
(e.g. fail twice with 503, then 200) and records every request it gets.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest
from botocore.client import BaseClient
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from dovecote_local.moto_server import patch_atomic_dynamodb_writes
from functions.core.ids import new_id
from functions.core.models import Delivery, SigningSecret, Webhook, utc_now
from functions.core.profile import Profile, load_profile
from functions.core.timestamps import parse_iso
from functions.deliver import handler as deliver
from functions.fanout import handler as fanout
from functions.ingest import handler as ingest
from functions.management.secrets import generate_secret
from functions.runtime import settings as settings_env
from functions.store.deliveries import DeliveryStore
from functions.store.events import EventStore
from functions.store.webhooks import WebhookStore
from infra.retry_definition import retry_state_machine_definition
from tests.integration.conftest import (
    APPLICATION,
    ApiResponse,
    AwsResources,
    CallApi,
    FakeLambdaContext,
    reset_all_dependencies,
)

DELIVER_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:dovecote-test-deliver"
RETRY_MACHINE_ROLE = "arn:aws:iam::123456789012:role/dovecote-test-retries"
EXECUTION_TIMEOUT_SECONDS = 30
GATHER_SECONDS = 3


@dataclass(frozen=True)
class ReceivedRequest:
    arrived_at: float
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    delay_seconds: float = 0.0
    endless_body: bool = False
    """Send headers with a huge Content-Length, then trickle body bytes forever."""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Receiver:
    """An HTTP endpoint on 127.0.0.1 that answers from `script`, then with `default`."""

    script: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    requests: list[ReceivedRequest] = field(default_factory=list)
    gather: int = 0
    """Hold each request (for up to GATHER_SECONDS) until this many are in flight together."""
    in_flight: int = 0
    max_in_flight: int = 0
    """The most requests this receiver was handling at the same moment."""

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                reply = receiver._record(ReceivedRequest(time.monotonic(), self.path, dict(self.headers), body))
                receiver._gather()
                if reply.delay_seconds:
                    time.sleep(reply.delay_seconds)
                receiver._done()
                try:
                    self._answer(reply)
                except OSError:  # the sender hung up (its deadline passed): nothing left to answer
                    self.close_connection = True

            def _answer(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                if reply.endless_body:
                    self.send_header("Content-Length", str(10**9))
                    self.end_headers()
                    while True:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.05)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def _record(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.script.pop(0) if self.script else self.default

    def _gather(self) -> None:
        with self._lock:
            self._lock.notify_all()
            self._lock.wait_for(lambda: self.max_in_flight >= self.gather, timeout=GATHER_SECONDS)

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def delivery_ids(self, header: str) -> list[str | None]:
        return [request.header(header) for request in self.requests]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def receiver(*script: Reply | int, default: Reply | int = 200, gather: int = 0) -> Iterator[Receiver]:
    """`receiver(503, 503)`: fail twice with 503, then answer 200 (or `default`) for ever."""

    def as_reply(value: Reply | int) -> Reply:
        return value if isinstance(value, Reply) else Reply(status=value)

    server = Receiver(script=[as_reply(s) for s in script], default=as_reply(default), gather=gather)
    try:
        yield server
    finally:
        server.close()


class _SerialLambda:
    """moto's Lambda `Invoke`, routed to the real deliver handler, one invocation at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.invocations: list[dict[str, Any]] = []

    def invoke(
        self, backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        event = json.loads(body) if body else {}
        with self.lock:
            self.invocations.append(event)
            try:
                result = deliver.handler(event, FakeLambdaContext(function_name="dovecote-test-deliver"))
            except Exception as error:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()
        return json.dumps(result).encode()


class Pipeline:
    """The pipeline's handlers against moto; queues are drained explicitly, step by step."""

    def __init__(self, aws: AwsResources, call_api: CallApi, monkeypatch: pytest.MonkeyPatch) -> None:
        self.aws = aws
        self._call_api = call_api
        self._monkeypatch = monkeypatch
        self.waits_until: list[tuple[datetime, dict[str, Any]]] = []
        """Each Wait's due time (its `TimestampPath`'s value) and the state's input."""
        self.waits_released = threading.Event()
        self.waits_released.set()
        self.lambda_invocations = _SerialLambda()
        self.state_machine_arn = ""
        self.profile: Profile = load_profile("standard")
        self.deliveries = DeliveryStore(aws.dynamodb, aws.table_name)
        self.webhooks = WebhookStore(aws.dynamodb, aws.table_name)
        self.events = EventStore(aws.dynamodb, aws.table_name)

    # set-up -------------------------------------------------------------------------------

    def use_profile(self, name_or_path: str) -> Profile:
        """Deploy `name_or_path`: its settings and its synthesized retry state machine."""
        self.profile = load_profile(name_or_path)
        definition = retry_state_machine_definition(self.profile, DELIVER_FUNCTION_ARN)
        machine_name = f"dovecote-test-retries-{len(self.waits_until)}-{int(time.monotonic() * 1000)}"
        self.state_machine_arn = self.aws.stepfunctions.create_state_machine(
            name=machine_name, definition=json.dumps(definition), roleArn=RETRY_MACHINE_ROLE
        )["stateMachineArn"]
        self._monkeypatch.setenv(settings_env.ENV_PROFILE, name_or_path)
        self._monkeypatch.setenv(settings_env.ENV_STATE_MACHINE, self.state_machine_arn)
        reset_all_dependencies()
        return self.profile

    def add_webhook(
        self, url: str, *, events: list[str] | None = None, application: str = APPLICATION, enabled: bool = True
    ) -> tuple[Webhook, str]:
        """A webhook stored directly (registration rules are the management API's); returns it and its secret."""
        secret = generate_secret(self.profile.secret)
        now = utc_now()
        webhook = Webhook(
            id=new_id("wh"),
            application_id=application,
            url=url,
            events=events or ["*"],
            enabled=enabled,
            secrets=[SigningSecret(value=secret)],
            created_at=now,
            updated_at=now,
        )
        self.webhooks.create(webhook)
        return webhook, secret

    def rotate_secret(self, webhook: Webhook, grace: timedelta = timedelta(hours=1)) -> tuple[Webhook, str]:
        new_secret = generate_secret(self.profile.secret)
        old = [SigningSecret(value=s.value, expires_at=s.expires_at or utc_now() + grace) for s in webhook.secrets]
        rotated = webhook.model_copy(update={"secrets": [SigningSecret(value=new_secret), *old]})
        self.webhooks.save(rotated)
        return rotated, new_secret

    # the API ------------------------------------------------------------------------------

    def api(self, method: str, path: str, *, application: str | None = APPLICATION, **options: Any) -> ApiResponse:
        return self._call_api(ingest.handler, method, path, application=application, **options)

    def publish(self, event_type: str = "user.created", data: Any = None, **options: Any) -> ApiResponse:
        body = {"type": event_type, "data": {"n": 1} if data is None else data}
        if "id" in options:
            body["id"] = options.pop("id")
        return self.api("POST", "/v1/events", body=body, **options)

    # queues and handlers -----------------------------------------------------------------

    def receive(self, queue_url: str, max_messages: int = 10) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < max_messages:
            response = self.aws.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, max_messages - len(messages)),
                VisibilityTimeout=30,
                AttributeNames=["ApproximateReceiveCount"],
            )
            batch = response.get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        return messages

    def queued(self, queue_url: str) -> int:
        attributes = self.aws.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def _run(self, handler: Any, queue_url: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {
                        "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1")
                    },
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }
        result = dict(handler(event, FakeLambdaContext()))
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] in failed:  # visible again at once, as after the visibility timeout
                self.aws.sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.aws.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return result

    def run_fanout(self, messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        batch = messages if messages is not None else self.receive(self.aws.events_queue_url)
        return self._run(fanout.handler, self.aws.events_queue_url, batch)

    def run_deliver(self, messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        batch = messages if messages is not None else self.receive(self.aws.deliveries_queue_url)
        return self._run(deliver.handler, self.aws.deliveries_queue_url, batch)

    def first_attempt(self, url: str, event_type: str = "order.created") -> Webhook:
        """A webhook for `url` and one event published to it, fanned out and attempted once: the webhook."""
        webhook, _ = self.add_webhook(url)
        self.publish(event_type)
        self.run_fanout()
        self.run_deliver()
        return webhook

    def run_all_deliveries(self) -> None:
        """Deliver every queued delivery message, batch after batch, until the queue is empty."""
        while batch := self.receive(self.aws.deliveries_queue_url):
            self.run_deliver(batch)

    # retries ------------------------------------------------------------------------------

    @contextmanager
    def waits_held(self) -> Iterator[None]:
        """Executions stop in their Wait states until the block ends (to act on a running execution)."""
        self.waits_released.clear()
        try:
            yield
        finally:
            self.waits_released.set()

    @property
    def waits(self) -> list[int]:
        """Each Wait's delay in whole seconds after the logged attempt that set its due time (read
        from the log now, not in the Wait: a test's injected faults must not reach these reads)."""
        return [self.delay_before(due, state_input) for due, state_input in self.waits_until]

    def delay_before(self, due: datetime, state_input: dict[str, Any]) -> int:
        """A Wait's delay: from the attempt of one of the group's members whose log says the next is
        due then (`next_retry_at`), in whole seconds. No such attempt: the Wait and the log disagree."""
        for member in state_input["members"]:
            delivery = self.deliveries.find(state_input["application_id"], member["delivery_id"])
            for attempt in delivery.attempts if delivery else []:
                if attempt.next_retry_at == due:
                    return round((due - attempt.attempted_at).total_seconds())
        raise AssertionError(f"a Wait until {due}, which no member's logged attempt names as its next_retry_at")

    def wait_until_waiting(self, count: int = 1) -> None:
        deadline = time.monotonic() + EXECUTION_TIMEOUT_SECONDS
        while len(self.waits_until) < count:
            if time.monotonic() > deadline:
                raise AssertionError("no execution reached its Wait state")
            time.sleep(0.01)

    def executions(self) -> list[dict[str, Any]]:
        if not self.state_machine_arn:
            return []
        return list(self.aws.stepfunctions.list_executions(stateMachineArn=self.state_machine_arn)["executions"])

    def last_task_result(self, execution: dict[str, Any]) -> dict[str, Any]:
        """What the execution's last task answered (an execution its Attempt stopped has no output)."""
        events = self.aws.stepfunctions.get_execution_history(executionArn=execution["executionArn"])["events"]
        [*_, last] = [e["taskSucceededEventDetails"] for e in events if e["type"] == "TaskSucceeded"]
        result: dict[str, Any] = json.loads(last["output"])["Payload"]
        return result

    def wait_for_executions(self) -> list[dict[str, Any]]:
        """Every execution of the retry machine, once none is running any more."""
        deadline = time.monotonic() + EXECUTION_TIMEOUT_SECONDS
        while True:
            executions = [
                self.aws.stepfunctions.describe_execution(executionArn=e["executionArn"]) for e in self.executions()
            ]
            if all(e["status"] != "RUNNING" for e in executions):
                return executions
            if time.monotonic() > deadline:
                raise AssertionError(f"executions still running: {[e['name'] for e in executions]}")
            time.sleep(0.02)

    # reads --------------------------------------------------------------------------------

    def delivery(self, delivery_id: str, application: str = APPLICATION) -> Delivery:
        return self.deliveries.get(application, delivery_id)

    def only_delivery(self, webhook: Webhook) -> Delivery:
        page = self.deliveries.list_for_webhook(webhook.application_id, webhook.id, limit=10)
        assert len(page.items) == 1, [d.id for d in page.items]
        return self.delivery(page.items[0].id, webhook.application_id)


@contextmanager
def aws_calls(service: str) -> Iterator[list[str]]:
    """The operations of `service` ("dynamodb", "sts", …) any client in this process makes while the block runs."""
    calls: list[str] = []
    real = BaseClient._make_api_call

    def recording(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == service:
            calls.append(operation_name)
        return real(client, operation_name, api_params)

    with mock.patch.object(BaseClient, "_make_api_call", recording):
        yield calls


def dynamodb_calls() -> AbstractContextManager[list[str]]:
    return aws_calls("dynamodb")


@contextmanager
def pipeline_under_moto(aws: AwsResources, call_api: CallApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """moto executes state machines (Lambda tasks in-process, Waits recorded) for the duration."""
    pipeline = Pipeline(aws, call_api, monkeypatch)
    monkeypatch.setenv(settings_env.ENV_ALLOW_HTTP_LOOPBACK, "1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "DovecoteTest")

    def record_wait(self: Any, env: Any) -> None:
        self.string.eval(env=env)  # the retry machine's Waits are TimestampPaths
        pipeline.waits_until.append((parse_iso(env.stack.pop()), copy.deepcopy(env.states.get_input())))
        deadline = time.monotonic() + EXECUTION_TIMEOUT_SECONDS
        while not pipeline.waits_released.wait(0.01) and time.monotonic() < deadline:
            if not env.is_running():  # stopped (StopExecution) while held in the Wait
                return

    def invoke(self: Any, *args: Any) -> bytes:
        return pipeline.lambda_invocations.invoke(self, *args)

    moto_config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with (
        mock.patch.dict(default_user_config, moto_config),
        mock.patch.object(WaitFunction, "_eval_body", record_wait),
        mock.patch.object(LambdaSimpleBackend, "invoke", invoke),
    ):
        pipeline.use_profile("standard")
        undo_atomic_writes = patch_atomic_dynamodb_writes()
        try:
            yield pipeline
        finally:
            pipeline.waits_released.set()
            pipeline.wait_for_executions()
            undo_atomic_writes()


def custom_profile(directory: Any, base: str = "standard", **changes: Any) -> str:
    """A profile file: shipped profile `base` with `changes` applied; returns its path."""
    document = load_profile(base).model_dump(mode="json")
    document.update(changes)
    path = directory / f"{document['name']}-custom.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)
