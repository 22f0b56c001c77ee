"""IAM coverage: every AWS call each function makes is granted to it, and nothing else is.

An e2e-style flow drives every route and every pipeline path on the local stack (publish with
and without an idempotency key, a publish SQS refuses, test events, 2xx / 5xx / 410 endpoints, retries through the
state machine, a disable and a delete that cancel running retries, a manual retry, a
recovery, a rotation, a repeated DELETE), while a botocore hook records each operation with
the function whose handler made it (tests/reliability/reliability_support.py,
AwsCallRecorder; an SQS poller's calls count for the function it feeds, as Lambda's event
source mapping uses that function's role). The synthesized template (infra.assembly's
synthesize_template, the one the local stack runs) must grant each function each action it
used, on the resource it used it on; and no function may hold an action it never used,
except the entries of ALLOWED_UNUSED, each justified below.
"""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from dovecote_local.customer import CustomerAccount
from dovecote_local.templates import ensure_templates
from functions.store.queues import Queue, QueueSendError
from infra.handlers import FUNCTION_NAMES
from tests.infra.infra_test_support import actions_of, functions_by_name, role_statements
from tests.reliability.reliability_support import (
    AwsCall,
    AwsCallRecorder,
    LocalStackHarness,
    endpoints,
    eventually,
    report_figures,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

PROFILE = "mutx"
LOCAL_STACK_OPTIONS = {"profile": PROFILE, "time_scale": 0.0005, "record_aws_calls": True}
RETRY_STATE_MACHINE_NAME = "Dovecote-retries"

# Granted but never called by the function's code, on purpose. Each entry says why it stays.
ALLOWED_UNUSED: dict[str, str] = {
    "xray:PutTraceSegments": "active X-Ray tracing: the Lambda service sends the segments with the function's role",
    "xray:PutTelemetryRecords": "active X-Ray tracing, as above",
    "dynamodb:DescribeTable": "added by Table.grant_read_write_data (CDK) for SDK helpers; reads metadata only",
    "dynamodb:ConditionCheckItem": "added by Table.grant_read_write_data; a condition check writes nothing",
    "dynamodb:GetRecords": "added by Table.grant_read_write_data; a stream action, inert: the table has no stream",
    "dynamodb:GetShardIterator": "added by Table.grant_read_write_data; inert like GetRecords",
    "sqs:GetQueueAttributes": "added by Queue.grant_send_messages / the SQS event source; Lambda's poller reads it",
    "sqs:GetQueueUrl": "added by Queue.grant_send_messages / the SQS event source; resolves names, reads nothing",
    "sqs:ChangeMessageVisibility": "the SQS event source mapping's grant; Lambda's poller may extend visibility",
}


@pytest.fixture(scope="module")
def recorded(local_stack: LocalStackHarness) -> AwsCallRecorder:
    stack = local_stack
    recorder = stack.recorder
    assert recorder is not None
    key = stack.api_key

    def call(method: str, path: str, expect: int, **options: Any) -> Any:
        response = stack.api(method, path, key, **options)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def deliveries(webhook_id: str) -> list[dict[str, Any]]:
        return list(call("GET", f"/v1/webhooks/{webhook_id}/deliveries", 200)["data"])

    def settled(webhook_id: str, count: int) -> bool:
        listed = deliveries(webhook_id)
        return len(listed) >= count and all(d["status"] != "pending" for d in listed)

    # An AWS destination: a queue in moto's customer account, reached through its role.
    customer = CustomerAccount(stack.stack.moto_endpoint)
    role = customer.role()
    queue = customer.queue("iam-orders")
    to_queue = call("POST", "/v1/webhooks", 201, json_body={"type": "sqs", "target": queue, "role_arn": role,
                                                           "events": ["agent.*"]})  # fmt: skip
    customer.trust([to_queue["external_id"]])

    with endpoints() as receivers:
        # Operational events are stored and queued only for a platform that set an operational webhook.
        operations = stack.api(
            "PUT", "/v1/operational-webhook", stack.stack.platform_key, json_body={"url": receivers.add(200)}
        )
        assert operations.status_code == 200, operations.text
        ok = call("POST", "/v1/webhooks", 201, json_body={"url": receivers.add(200), "events": ["agent.*"]})["id"]
        answered: list[str] = []

        def fails_once(path: str, headers: dict[str, str], body: bytes) -> int:
            answered.append(path)
            return 503 if len(answered) == 1 else 200

        flaky_url = receivers.add(fails_once)
        flaky = call("POST", "/v1/webhooks", 201, json_body={"url": flaky_url, "events": ["agent.heartbeat"]})["id"]
        failing = call("POST", "/v1/webhooks", 201, json_body={"url": receivers.add(500), "events": ["deployment.*"]})
        gone = call("POST", "/v1/webhooks", 201, json_body={"url": receivers.add(410), "events": ["metrics.*"]})["id"]
        failing_id = failing["id"]
        call("GET", "/v1/webhooks", 200)
        call("GET", f"/v1/webhooks/{ok}", 200)
        call("PATCH", f"/v1/webhooks/{ok}", 200, json_body={"description": "primary"})
        call("GET", "/v1/event-types", 200)
        event = call("POST", "/v1/events", 202, json_body={"type": "agent.status", "data": {"n": 1}},
                     headers={"Idempotency-Key": "iam-1"})  # fmt: skip
        again = call("POST", "/v1/events", 202, json_body={"type": "agent.status", "data": {"n": 1}},
                     headers={"Idempotency-Key": "iam-1"})  # fmt: skip
        assert again["id"] == event["id"]
        call("POST", "/v1/events", 202, json_body={"type": "metrics.report", "data": {}})
        # SQS refuses a publish: the idempotency claim is released (503), and the retry succeeds.
        with mock.patch.object(Queue, "send", side_effect=QueueSendError("injected: SendMessage failed")):
            call("POST", "/v1/events", 503, json_body={"type": "agent.started", "data": {}},
                 headers={"Idempotency-Key": "iam-2"})  # fmt: skip
        call("POST", "/v1/events", 202, json_body={"type": "agent.started", "data": {}},
             headers={"Idempotency-Key": "iam-2"})  # fmt: skip
        call("POST", f"/v1/webhooks/{ok}/test", 202)
        eventually(lambda: settled(ok, 2), message="the event and the test event delivered")
        eventually(lambda: settled(to_queue["id"], 1), message="the queue's delivery")
        eventually(lambda: settled(gone, 1), message="410 ends the delivery")
        # A retry group that settles before its table runs out: its Attempt stops its execution.
        call("POST", "/v1/events", 202, json_body={"type": "agent.heartbeat", "data": {}})
        eventually(lambda: settled(flaky, 1), message="the flaky endpoint's delivery succeeds at attempt 2")
        assert [d["attempt_count"] for d in deliveries(flaky)] == [2]
        call("GET", f"/v1/events/{event['id']}", 200)
        for delivery in deliveries(ok):
            call("GET", f"/v1/deliveries/{delivery['id']}", 200)
        # Retries that get cancelled: by disabling the endpoint, then by deleting it.
        call("POST", "/v1/events", 202, json_body={"type": "deployment.failed", "data": {"n": 1}})
        eventually(lambda: any(d["attempt_count"] >= 2 for d in deliveries(failing_id)), message="a retry ran")
        call("PATCH", f"/v1/webhooks/{failing_id}", 200, json_body={"enabled": False})
        eventually(lambda: settled(failing_id, 1), message="the disable cancels")
        call("PATCH", f"/v1/webhooks/{failing_id}", 200, json_body={"enabled": True})
        # A delivery that runs out of attempts, then a manual retry and a recovery of it.
        call("POST", "/v1/events", 202, json_body={"type": "deployment.created", "data": {"n": 2}})
        eventually(lambda: settled(failing_id, 2), timeout=60, message="four attempts fail")
        failed = next(d for d in deliveries(failing_id) if d["status"] == "failed")
        call("POST", f"/v1/deliveries/{failed['id']}/retry", 202)
        eventually(lambda: settled(failing_id, 2), timeout=60, message="the retried series fails")
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        call("POST", f"/v1/webhooks/{failing_id}/recover", 202, json_body={"since": since})
        eventually(lambda: any(d["attempt_count"] >= 2 and d["status"] == "pending" for d in deliveries(failing_id))
                   or settled(failing_id, 2), timeout=60, message="the recovery runs")  # fmt: skip
        call("POST", f"/v1/webhooks/{ok}/rotate-secret", 200)
        call("DELETE", f"/v1/webhooks/{failing_id}", 200)
        call("DELETE", f"/v1/webhooks/{failing_id}", 200)
        eventually(lambda: not stack.executions("RUNNING"), timeout=60, message="executions end")
    return recorder


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(json.loads(ensure_templates([PROFILE])[PROFILE].read_text(encoding="utf-8")))


def _resource_text(statement: dict[str, Any]) -> str:
    return json.dumps(statement.get("Resource"))


def _logical_resource(call: AwsCall, stack: LocalStackHarness, template: dict[str, Any]) -> str | None:
    """What a statement granting `call` must name: a logical id, or the state machine's name."""
    if call.resource is None:
        return None
    if call.resource == stack.table_name:
        return next(lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table")
    for logical_id, url in stack.queue_urls().items():
        if call.resource == url:
            return logical_id
    if call.action == "sts:AssumeRole":  # granted on a role ARN pattern, not on the ARN itself
        return None
    if f":{RETRY_STATE_MACHINE_NAME}" in call.resource or call.resource.startswith("arn:aws:states:"):
        return RETRY_STATE_MACHINE_NAME
    return call.resource


def test_the_flow_reached_every_function(recorded: AwsCallRecorder) -> None:
    assert set(recorded.calls) == set(FUNCTION_NAMES), {name: sorted(recorded.actions(name)) for name in recorded.calls}


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_every_aws_call_a_function_makes_is_granted_to_it_on_that_resource(
    recorded: AwsCallRecorder, template: dict[str, Any], local_stack: LocalStackHarness, function: str
) -> None:
    logical_id, _ = functions_by_name(template)[function]  # type: ignore[index]
    statements = role_statements(template, logical_id)
    missing = []
    for call in sorted(recorded.calls[function], key=lambda c: (c.action, c.resource or "")):
        allowing = [s for s in statements if call.action in actions_of([s])]
        resource = _logical_resource(call, local_stack, template)
        if not allowing or (resource is not None and not any(resource in _resource_text(s) for s in allowing)):
            missing.append((call.action, resource))
    assert missing == [], f"{function} uses actions its role does not grant: {missing}"
    report_figures("iam-used", function=function, actions_used=sorted(recorded.actions(function)), ungranted=0)


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_no_function_is_granted_an_action_it_never_uses(
    recorded: AwsCallRecorder, template: dict[str, Any], function: str
) -> None:
    logical_id, _ = functions_by_name(template)[function]  # type: ignore[index]
    granted = actions_of(role_statements(template, logical_id))
    unused = sorted(granted - recorded.actions(function) - set(ALLOWED_UNUSED))
    assert unused == [], f"{function} is granted actions it never uses: {unused}"
    report_figures("iam-unused", function=function, granted=sorted(granted), unused=unused)


def test_deliver_assumes_only_roles_its_pattern_grants_and_sends_to_targets_as_them(
    recorded: AwsCallRecorder, template: dict[str, Any], local_stack: LocalStackHarness
) -> None:
    logical_id, _ = functions_by_name(template)["deliver"]
    granted = [s for s in role_statements(template, logical_id) if "sts:AssumeRole" in actions_of([s])]
    assumed = {call.resource for call in recorded.calls["deliver"] if call.action == "sts:AssumeRole"}
    assert assumed
    assert all(fnmatch.fnmatchcase(str(role), str(s["Resource"])) for role in assumed for s in granted)
    assert all(s["Condition"] == {"StringLike": {"sts:ExternalId": "dvc_ext_*"}} for s in granted)
    # The send itself is authorized by the customer's role: it is never made with the function's own.
    assert {call.action for call in recorded.as_assumed_role} == {"sqs:SendMessage"}
    # With its own role it sends only operational events (a 410 disabled an endpoint) to Dovecote's events queue.
    own_sends = {c.resource for c in recorded.calls["deliver"] if c.action == "sqs:SendMessage"}
    [events_queue] = [
        url
        for logical_id, url in local_stack.queue_urls().items()
        if logical_id.startswith("QueuesEvents") and "Dlq" not in logical_id
    ]
    assert own_sends == {events_queue}


def test_the_retry_state_machine_may_invoke_exactly_the_deliver_function(template: dict[str, Any]) -> None:
    machine = next(r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in template["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    deliver_id, _ = functions_by_name(template)["deliver"]
    invoking = [s for s in statements if "lambda:InvokeFunction" in actions_of([s])]
    assert invoking
    assert all(deliver_id in json.dumps(s["Resource"]) for s in invoking)
    other_ids = [lid for name, (lid, _) in functions_by_name(template).items() if name != "deliver"]
    assert not any(other in json.dumps(statements) for other in other_ids)
