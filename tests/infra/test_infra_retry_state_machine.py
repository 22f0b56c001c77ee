"""The retry state machine: generated from each profile's table, checked in the synthesized
template and executed under moto's Step Functions interpreter."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from aws_cdk.assertions import Match, Template
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import DefaultConfig
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from dovecote.profiles import shipped_profile_names
from functions.core.profile import Profile, load_profile
from functions.core.timestamps import iso
from functions.pipeline.contract import (
    AttemptTask,
    MarkFailedTask,
    RetryGroup,
    RetryMember,
    StateError,
    parse_task,
)
from functions.runtime.settings import ENV_STATE_MACHINE
from infra.retry_definition import (
    LAMBDA_SERVICE_ERRORS,
    MARK_FAILED,
    attempt_state,
    retry_state_machine_definition,
    wait_state,
)
from infra.template import STATE_MACHINE_TYPE, resources_of_type, retry_state_machine_definition_from_template
from tests.infra.infra_test_support import functions_by_name, retry_path_waits

pytestmark = pytest.mark.xdist_group("infra")

REGION = "us-east-1"
DELIVER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:deliver"
DELIVERY_ID = "del_01HZX3"
FIRST_ATTEMPT_AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def due(attempt: int) -> str:
    """When the (fake) deliver function says attempt `attempt` is due (distinct for each attempt)."""
    return iso(FIRST_ATTEMPT_AT + timedelta(seconds=attempt, milliseconds=attempt))


GROUP = RetryGroup(
    application_id="app_1",
    webhook_id="wh_01HZX3",
    members=[RetryMember(delivery_id=DELIVERY_ID), RetryMember(delivery_id="del_01HZX4", series=2)],
    next_attempt_at=FIRST_ATTEMPT_AT + timedelta(seconds=2, milliseconds=2),
)
IDS = GROUP.model_dump(exclude={"next_attempt_at"})
GROUP_IDS = {"application_id": "app_1", "webhook_id": "wh_01HZX3"}


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    return retry_state_machine_definition_from_template(template, DELIVER_ARN)


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_synthesized_waits_one_per_retry_of_the_table_each_until_the_due_time_in_the_data(every_profile, profile_name):
    synthesized = every_profile[profile_name]
    definition = _definition(synthesized.template)

    waits = retry_path_waits(definition)

    # Wait 2 until the execution input's time, each later one until the time the Attempt before it answered.
    delays = synthesized.profile.retry_delays_seconds
    assert waits == ["$.next_attempt_at"] + ["$.result.next_attempt_at"] * (len(delays) - 1)
    for attempt in range(2, synthesized.profile.max_attempts + 1):
        assert "Seconds" not in definition["States"][wait_state(attempt)]
    assert definition["Comment"].endswith(", ".join(f"{seconds}s" for seconds in delays))


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_synthesized_definition_is_the_one_generated_from_the_profile(every_profile, profile_name):
    synthesized = every_profile[profile_name]

    assert _definition(synthesized.template) == retry_state_machine_definition(synthesized.profile, DELIVER_ARN)


def test_definition_refers_to_the_deliver_function_only(standard):
    (machine,) = resources_of_type(standard.template, STATE_MACHINE_TYPE).values()
    deliver_id, _ = functions_by_name(standard.template)["deliver"]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    references = [part for part in parts if isinstance(part, dict)]

    assert references
    assert all(part == {"Fn::GetAtt": [deliver_id, "Arn"]} for part in references)


def test_each_attempt_invokes_deliver_with_the_group_and_its_number_and_carries_the_pending_members(standard):
    profile = standard.profile
    states = _definition(standard.template)["States"]

    for attempt in range(2, profile.max_attempts + 1):
        state = states[attempt_state(attempt)]
        assert state["Resource"] == "arn:aws:states:::lambda:invoke"
        assert state["Parameters"] == {
            "FunctionName": DELIVER_ARN,
            "Payload": {
                "action": "attempt",
                "application_id.$": "$.application_id",
                "webhook_id.$": "$.webhook_id",
                # The first retry attempts the input's members, each later one those still pending.
                "members.$": "$.members" if attempt == 2 else "$.result.members",
                "attempt": attempt,
                # The moment its Wait waited until: each member is sent as much later as its own due time is.
                "next_attempt_at.$": "$.next_attempt_at" if attempt == 2 else "$.result.next_attempt_at",
                # Its own execution: an Attempt that leaves no member pending stops it.
                "execution_arn.$": "$$.Execution.Id",
            },
        }
        assert state["ResultSelector"] == {
            "outcome.$": "$.Payload.outcome",
            "members.$": "$.Payload.members",
            "next_attempt_at.$": "$.Payload.next_attempt_at",
        }
        assert state["ResultPath"] == "$.result"
        assert state["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": MARK_FAILED}]
        service_errors, function_errors = state["Retry"]
        assert set(service_errors["ErrorEquals"]) == set(LAMBDA_SERVICE_ERRORS)
        assert function_errors["ErrorEquals"] == ["States.ALL"]
        for retry in (service_errors, function_errors):
            assert 1 <= retry["MaxAttempts"] <= 3
            assert retry["IntervalSeconds"] <= 5


def test_each_attempt_goes_straight_to_the_next_wait_and_the_last_ends_the_execution(standard):
    profile = standard.profile
    states = _definition(standard.template)["States"]

    for attempt in range(2, profile.max_attempts):
        # No Choice: an Attempt that leaves no member pending stops its own execution.
        assert states[attempt_state(attempt)]["Next"] == f"Wait {attempt + 1}"
    last = states[attempt_state(profile.max_attempts)]
    assert last["End"] is True
    assert "Next" not in last
    assert not [name for name, state in states.items() if state["Type"] in {"Choice", "Succeed"}]


def test_each_retry_has_a_wait_and_an_attempt_and_nothing_else_but_mark_failed(every_profile):
    for synthesized in every_profile.values():
        profile = synthesized.profile
        states = _definition(synthesized.template)["States"]
        retries = profile.max_attempts - 1
        assert len(states) == 2 * retries + 1


def test_mark_failed_invokes_deliver_with_the_groups_members_and_the_error_and_is_terminal(standard):
    mark_failed = _definition(standard.template)["States"][MARK_FAILED]

    assert mark_failed["End"] is True
    assert mark_failed["Parameters"]["FunctionName"] == DELIVER_ARN
    assert mark_failed["Parameters"]["Payload"] == {
        "action": "mark_failed",
        "application_id.$": "$.application_id",
        "webhook_id.$": "$.webhook_id",
        "members.$": "$.members",
        "reason.$": "$.error",
    }


def test_state_machine_is_standard_named_logged_and_traced(standard_template: Template):
    standard_template.has_resource_properties(
        STATE_MACHINE_TYPE,
        {
            "StateMachineName": "Dovecote-retries",
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {
                "Level": "ALL",
                "Destinations": [
                    {"CloudWatchLogsLogGroup": {"LogGroupArn": Match.object_like({"Fn::GetAtt": Match.any_value()})}}
                ],
            },
        },
    )


def test_functions_that_use_the_state_machine_get_its_arn(standard):
    (machine,) = resources_of_type(standard.template, STATE_MACHINE_TYPE).values()
    name = machine["Properties"]["StateMachineName"]
    functions = functions_by_name(standard.template)

    for function_name in ("deliver", "management"):
        arn = functions[function_name][1]["Properties"]["Environment"]["Variables"][ENV_STATE_MACHINE]
        assert arn["Fn::Join"][1][-1] == f":stateMachine:{name}"


# --- the synthesized definition, executed ------------------------------------------------


@dataclass
class RetryRun:
    status: str
    execution_name: str
    waits: list[str]
    """The moment each Wait waited until (its `TimestampPath`'s value)."""
    invocations: list[dict[str, Any]]
    entered_states: list[str]


Respond = Callable[[dict[str, Any]], dict[str, Any] | Exception]


def execute_retry_definition(template: dict[str, Any], respond: Respond) -> RetryRun:
    """Run the template's retry definition in moto: Lambda invokes answered by `respond`, Waits recorded
    (not waited). As the deliver function does, an Attempt before the last whose answer leaves no member
    pending stops its own execution (the `execution_arn` of its payload)."""
    waits: list[str] = []
    invocations: list[dict[str, Any]] = []
    states = retry_state_machine_definition_from_template(template, "deliver")["States"]
    last_attempt = max(int(name.removeprefix("Attempt ")) for name in states if name.startswith("Attempt "))

    def invoke(self, function_name, qualifier, body, headers, response_headers):
        payload = json.loads(body)
        invocations.append(payload)
        answer = respond(payload)
        if isinstance(answer, Exception):
            response_headers["x-amz-function-error"] = "Unhandled"
            answer = {"errorType": type(answer).__name__, "errorMessage": str(answer)}
        elif payload["action"] == "attempt" and not answer["members"] and payload["attempt"] < last_attempt:
            boto3.client("stepfunctions", region_name=REGION).stop_execution(
                executionArn=payload["execution_arn"], error="Dovecote.Settled"
            )
        return json.dumps(answer).encode()

    def record_wait(self, env):
        self.string.eval(env=env)
        waits.append(env.stack.pop())

    config: DefaultConfig = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with (
        mock_aws(config=config),
        mock.patch.object(LambdaSimpleBackend, "invoke", invoke),
        mock.patch.object(WaitFunction, "_eval_body", record_wait),
    ):
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="dovecote-test", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        deliver_arn = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="deliver",
            Runtime="python3.12",
            Role=role,
            Handler="functions.deliver.handler.handler",
            Code={"ZipFile": _placeholder_zip()},
        )["FunctionArn"]
        stepfunctions = boto3.client("stepfunctions", region_name=REGION)
        definition = retry_state_machine_definition_from_template(template, deliver_arn)
        machine_arn = stepfunctions.create_state_machine(
            name="retries", definition=json.dumps(definition), roleArn=role
        )["stateMachineArn"]
        execution_arn = stepfunctions.start_execution(
            stateMachineArn=machine_arn, name=DELIVERY_ID, input=GROUP.to_json()
        )["executionArn"]
        deadline = time.monotonic() + 20
        while (description := stepfunctions.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the retry execution did not finish"
            time.sleep(0.02)
        events = stepfunctions.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return RetryRun(
        status=description["status"],
        execution_name=description["name"],
        waits=waits,
        invocations=invocations,
        entered_states=[
            event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event
        ],
    )


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "")
    return buffer.getvalue()


def _pending(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [RetryMember.model_validate(m).model_dump() for m in payload["members"]]


def _answer(payload: dict[str, Any], members: list[dict[str, Any]], outcome: str = "retry") -> dict[str, Any]:
    """The deliver function's `TaskResult`: with members pending, when the next attempt is due."""
    return {"outcome": outcome, "members": members, "next_attempt_at": due(payload["attempt"] + 1) if members else None}


def _attempt_numbers(run: RetryRun) -> list[int]:
    return [call["attempt"] for call in run.invocations if call["action"] == "attempt"]


def _mark_failed_calls(run: RetryRun) -> list[dict[str, Any]]:
    return [call for call in run.invocations if call["action"] == "mark_failed"]


@pytest.mark.parametrize("profile_name", ["standard", "miteos"])
def test_executed_definition_waits_the_table_attempts_each_retry_and_ends_with_the_last(
    aws_credentials, every_profile, profile_name
):
    synthesized = every_profile[profile_name]
    profile: Profile = synthesized.profile

    run = execute_retry_definition(synthesized.template, lambda payload: _answer(payload, _pending(payload)))

    assert run.status == "SUCCEEDED"
    assert run.execution_name == DELIVERY_ID
    # Wait 2 until the input's due time, each later Wait until the one the Attempt before it answered.
    assert run.waits == [due(attempt) for attempt in range(2, profile.max_attempts + 1)]
    assert _attempt_numbers(run) == list(range(2, profile.max_attempts + 1))
    assert all({key: call[key] for key in GROUP_IDS} == GROUP_IDS for call in run.invocations)
    assert all(call["members"] == IDS["members"] for call in run.invocations)
    assert _mark_failed_calls(run) == []
    assert run.entered_states[-1] == attempt_state(profile.max_attempts)
    # Wait + Attempt per retry: the transitions billed.
    assert len(run.entered_states) == 2 * (profile.max_attempts - 1)
    tasks = [parse_task(payload) for payload in run.invocations]  # every payload is a task of the contract
    assert [type(task) for task in tasks] == [AttemptTask] * (profile.max_attempts - 1)


def test_executed_definition_carries_only_the_pending_members_to_the_next_attempt(aws_credentials, standard):
    def first_member_succeeds_on_second(payload):
        members = _pending(payload)
        if payload["attempt"] == 2:
            members = members[1:]
        return _answer(payload, members, "retry" if members else "succeeded")

    run = execute_retry_definition(standard.template, first_member_succeeds_on_second)

    assert [len(call["members"]) for call in run.invocations][:2] == [2, 1]
    assert run.invocations[1]["members"] == [IDS["members"][1]]


def test_executed_definition_ends_where_an_attempt_settles_every_member(aws_credentials, standard):
    def succeed_on_third(payload):
        if payload.get("attempt") == 3:
            return _answer(payload, [], "succeeded")
        return _answer(payload, _pending(payload))

    run = execute_retry_definition(standard.template, succeed_on_third)

    assert run.status == "ABORTED"  # stopped by Attempt 3, which left no member pending
    assert run.waits == [due(2), due(3)]
    assert _attempt_numbers(run) == [2, 3]
    assert all(call["execution_arn"].endswith(f":{DELIVERY_ID}") for call in run.invocations)
    assert _mark_failed_calls(run) == []
    assert run.entered_states == ["Wait 2", "Attempt 2", "Wait 3", "Attempt 3"]  # 4 transitions, no Choice


def test_executed_definition_retries_an_attempt_that_raises_then_marks_failed(aws_credentials, every_profile):
    synthesized = every_profile["miteos"]

    def raise_on_attempt(payload):
        return RuntimeError("table unavailable") if payload["action"] == "attempt" else {}

    run = execute_retry_definition(synthesized.template, raise_on_attempt)

    assert run.waits == [due(2)]
    assert _attempt_numbers(run) == [2, 2, 2]  # the attempt, then its two retries
    (mark_failed,) = _mark_failed_calls(run)
    assert "Error" in mark_failed["reason"]
    assert mark_failed["members"] == IDS["members"]  # every member: the deliver function skips the ended
    assert run.entered_states[-1] == MARK_FAILED
    task = parse_task(mark_failed)
    assert isinstance(task, MarkFailedTask)
    assert isinstance(task.reason, StateError)


def test_a_table_without_retries_goes_straight_to_mark_failed():
    profile = load_profile("standard").model_copy(update={"retry_schedule_seconds": [0]})

    definition = retry_state_machine_definition(profile, DELIVER_ARN)

    assert definition["StartAt"] == MARK_FAILED
    assert set(definition["States"]) == {MARK_FAILED}
    assert definition["States"][MARK_FAILED]["Parameters"]["Payload"]["reason"] == {"outcome": "retry"}
