"""Least privilege, cfn-lint and the cdk-nag AwsSolutions checks on the synthesized stacks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint

from dovecote.profiles import shipped_profile_names
from infra.template import resources_of_type
from tests.infra.infra_test_support import (
    actions_of,
    functions_by_name,
    referenced_logical_ids,
    role_statements,
    statements_allowing,
)

pytestmark = pytest.mark.xdist_group("infra")


def _statements_by_function(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: role_statements(template, logical_id) for name, (logical_id, _) in functions_by_name(template).items()
    }


def _all_policy_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources_of_type(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


# --- least privilege -----------------------------------------------------------------------


def test_no_policy_grants_a_wildcard_action(standard):
    for action in actions_of(_all_policy_statements(standard.template)):
        assert action != "*"
        assert not action.endswith(":*"), action


def test_authorizer_may_only_get_items_from_the_table(standard):
    table_id, *_ = resources_of_type(standard.template, "AWS::DynamoDB::Table")
    statements = _statements_by_function(standard.template)["authorizer"]
    non_tracing = [
        statement
        for statement in statements
        if not actions_of([statement]) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    ]

    assert non_tracing == [
        {"Action": "dynamodb:GetItem", "Effect": "Allow", "Resource": {"Fn::GetAtt": [table_id, "Arn"]}}
    ]


def test_only_deliver_may_start_retry_executions(standard):
    (machine,) = resources_of_type(standard.template, "AWS::StepFunctions::StateMachine").values()
    machine_name = machine["Properties"]["StateMachineName"]

    for name, statements in _statements_by_function(standard.template).items():
        starting = statements_allowing(statements, "states:StartExecution")
        if name == "deliver":
            (statement,) = starting
            assert statement["Resource"]["Fn::Join"][1][-1] == f":stateMachine:{machine_name}"
        else:
            assert starting == [], name


def test_fanout_has_no_step_functions_permission(standard):
    fanout = _statements_by_function(standard.template)["fanout"]

    assert not any(action.startswith("states:") for action in actions_of(fanout))


def test_management_cannot_start_executions_but_can_stop_them(standard):
    management = _statements_by_function(standard.template)["management"]
    actions = actions_of(management)

    assert "states:StartExecution" not in actions
    (stopping,) = statements_allowing(management, "states:StopExecution")
    assert actions_of([stopping]) == {"states:StopExecution"}
    assert stopping["Resource"]["Fn::Join"][1][-1].endswith(":execution:Dovecote-retries:*")


def test_only_deliver_and_management_may_stop_retry_executions_and_only_those(standard):
    for name, statements in _statements_by_function(standard.template).items():
        stopping = statements_allowing(statements, "states:StopExecution")
        if name in {"deliver", "management"}:
            (statement,) = stopping
            assert actions_of([statement]) == {"states:StopExecution"}
            assert statement["Resource"]["Fn::Join"][1][-1].endswith(":execution:Dovecote-retries:*")
        else:
            assert stopping == [], name


def test_queue_senders_are_ingest_fanout_deliver_and_the_operational_event_emitters_on_the_right_queues(standard):
    template = standard.template
    consumed = {
        mapping["Properties"]["FunctionName"]["Ref"]: mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        for mapping in resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
    }
    functions = functions_by_name(template)
    events_queue = consumed[functions["fanout"][0]]
    deliveries_queue = consumed[functions["deliver"][0]]

    senders = {
        name: referenced_logical_ids(
            [statement["Resource"] for statement in statements_allowing(statements, "sqs:SendMessage")]
        )
        for name, statements in _statements_by_function(template).items()
    }

    assert senders == {
        "authorizer": set(),
        "management": {events_queue},  # operational events (endpoint.disabled/enabled by hand)
        "ingest": {events_queue, deliveries_queue},
        "fanout": {deliveries_queue},
        # operational events (disabled, exhausted, recovered); deliveries waiting for a rate-limit slot
        "deliver": {events_queue, deliveries_queue},
    }


def test_only_the_consumers_receive_from_the_queues(standard):
    receivers = {
        name
        for name, statements in _statements_by_function(standard.template).items()
        if "sqs:ReceiveMessage" in actions_of(statements)
    }

    assert receivers == {"fanout", "deliver"}


def test_state_machine_may_invoke_the_deliver_function_only(standard):
    template = standard.template
    deliver_id = functions_by_name(template)["deliver"][0]
    (machine,) = resources_of_type(template, "AWS::StepFunctions::StateMachine").values()
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in resources_of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]

    (invoking,) = statements_allowing(statements, "lambda:InvokeFunction")
    assert referenced_logical_ids(invoking["Resource"]) == {deliver_id}
    assert not any(action.startswith(("dynamodb:", "sqs:", "states:")) for action in actions_of(statements))


# --- cfn-lint ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_cfn_lint_finds_no_errors(every_profile, profile_name):
    matches = lint(json.dumps(every_profile[profile_name].template), regions=["us-east-1"])

    errors = [
        f"{match.rule.id} {match.message} ({match.path_string})" for match in matches if match.rule.id.startswith("E")
    ]
    assert errors == []


# --- cdk-nag -------------------------------------------------------------------------------


@pytest.mark.parametrize("profile_name", shipped_profile_names())
def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged(every_profile, profile_name):
    report = AwsSolutionsChecks().validate_scope(every_profile[profile_name].stack)

    violations = [
        f"{violation.severity} {violation.rule_name}: "
        + ", ".join(resource.construct_path or "" for resource in violation.violating_resources)
        for violation in report.violations
    ]
    assert violations == []
    assert report.success


def test_every_acknowledged_finding_gives_a_reason(standard):
    acknowledgements = [
        (logical_id, rule["id"], rule["reason"])
        for logical_id, resource in standard.template["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]

    assert acknowledgements, "the template carries no cdk-nag acknowledgements to audit"
    for logical_id, rule_id, reason in acknowledgements:
        assert rule_id.startswith("AwsSolutions-"), (logical_id, rule_id)
        assert len(reason.split()) >= 8, (logical_id, rule_id, reason)


def test_acknowledgements_are_specific_to_each_function(standard):
    reasons_by_rule: dict[str, set[str]] = {}
    for resource in standard.template["Resources"].values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            reasons_by_rule.setdefault(rule["id"], set()).add(rule["reason"])

    assert len(reasons_by_rule["AwsSolutions-L1"]) == 6  # the five and the portal's
    assert len(reasons_by_rule["AwsSolutions-APIG4"]) == 4  # health, OpenAPI, the portal's page and assets
    assert len(reasons_by_rule["AwsSolutions-SQS3"]) == 2
