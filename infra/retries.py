"""The retry state machine (Standard), generated from the profile's retry table."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from functions.core.profile import Profile
from infra.log_groups import log_group
from infra.nag import acknowledge, arn_placeholder
from infra.retry_definition import retry_state_machine_definition


def retry_state_machine_name(stack: Stack) -> str:
    return f"{stack.stack_name}-retries"


def retry_state_machine_arn(stack: Stack) -> str:
    """Built from the name, not the resource: the deliver function and the machine refer to each other."""
    return stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=retry_state_machine_name(stack),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


class RetryStateMachine(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, profile: Profile, deliver: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        definition = retry_state_machine_definition(profile, deliver.function_arn)
        self.log_group = log_group(self, "Logs", logs.RetentionDays.ONE_MONTH)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=retry_state_machine_name(stack),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(stack.to_json_string(definition)),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        deliver.grant_invoke(self.state_machine)
        deliver_arn = arn_placeholder(deliver)
        role = self.state_machine.role
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions needs the logs:*LogDelivery* and X-Ray actions on '*' to deliver execution "
            "logs and traces; those actions support no resource-level permissions.",
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{deliver_arn}:*]",
            "grant_invoke also allows the deliver function's versions and aliases (its ARN followed by :*); "
            "the state machine can invoke no other function.",
        )
