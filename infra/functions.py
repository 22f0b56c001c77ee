"""The five Lambda functions: one shared code asset, the Powertools layer, least-privilege grants."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from functions.core import metrics as metric_names
from functions.core.constants import DELIVERIES_BATCH_SIZE, MAX_MEMBER_HOLD_SECONDS, RATE_LIMIT_WAIT_SECONDS
from functions.core.profile import Profile
from functions.runtime.settings import (
    ENV_DELIVERIES_QUEUE,
    ENV_EVENTS_QUEUE,
    ENV_STATE_MACHINE,
    ENV_TABLE,
    REQUIRED_ENVIRONMENT,
)
from infra.egress import StaticEgress
from infra.handlers import FUNCTION_NAMES, FunctionName, handler_path, service_name
from infra.lambda_code import ARCHITECTURE, RUNTIME, functions_code
from infra.log_groups import log_group
from infra.nag import acknowledge, arn_placeholder
from infra.queues import Queues
from infra.retries import retry_state_machine_arn, retry_state_machine_name
from infra.storage import Storage

METRICS_NAMESPACE = metric_names.NAMESPACE

_API_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)
TABLE_ACTIONS: dict[FunctionName, tuple[str, ...]] = {
    # Applications are created and deleted in transactions (the id's tombstone is checked and written).
    "management": (*_API_TABLE_ACTIONS, "dynamodb:ConditionCheckItem"),
    "ingest": _API_TABLE_ACTIONS,
    "fanout": ("dynamodb:GetItem", "dynamodb:Query"),
    # A deliver batch reads its deliveries, endpoints and events with BatchGetItem (a GetItem for what it left).
    "deliver": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
}
"""What each function does with the table (the authorizer only reads a key by its hash)."""
LOG_LEVEL = "INFO"

# Powertools for AWS Lambda (Python) v3, the AWS-managed public layer for python3.12 arm64.
# It is built from `aws-lambda-powertools[all]` and so includes pydantic v2.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python312-arm64"
POWERTOOLS_LAYER_VERSION = 27

# A deliver invocation sends its batch concurrently, each request bounded by the profile's
# attempt timeout; the margin covers DynamoDB writes and the start of a retry execution. Sends to
# rate-limited endpoints may wait for their slots first (RATE_LIMIT_WAIT_SECONDS at most), and a retry
# group's members for their own due times (MAX_MEMBER_HOLD_SECONDS at most).
DELIVER_TIMEOUT_MARGIN_SECONDS = 10

EVENTS_BATCH_SIZE = 10
MAX_BATCHING_WINDOW = Duration.seconds(1)


@dataclass(frozen=True)
class FunctionSpec:
    description: str
    memory_mb: int
    timeout: Duration


def function_specs(profile: Profile) -> dict[FunctionName, FunctionSpec]:
    """Memory and timeout of every function: the one place to size them."""
    deliver_timeout_seconds = (
        math.ceil(profile.attempt_timeout_seconds)
        + DELIVER_TIMEOUT_MARGIN_SECONDS
        + RATE_LIMIT_WAIT_SECONDS
        + MAX_MEMBER_HOLD_SECONDS
    )
    return {
        "authorizer": FunctionSpec("Dovecote: resolves an API key to its application", 256, Duration.seconds(10)),
        # API Gateway gives an HTTP API integration at most 30 s.
        "management": FunctionSpec("Dovecote: webhooks, deliveries and events API", 256, Duration.seconds(29)),
        "ingest": FunctionSpec("Dovecote: accepts events, tests, retries and recoveries", 256, Duration.seconds(29)),
        "fanout": FunctionSpec("Dovecote: stores events and creates their deliveries", 256, Duration.seconds(60)),
        "deliver": FunctionSpec(
            "Dovecote: signs and sends deliveries, records attempts", 512, Duration.seconds(deliver_timeout_seconds)
        ),
    }


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: Profile,
        storage: Storage,
        queues: Queues,
        egress: StaticEgress | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.egress = egress
        self.specs = function_specs(profile)
        code = functions_code(profile)
        self.code = code
        """The shared code asset (the portal function serves from it too)."""
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            f"arn:aws:lambda:{Aws.REGION}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
            f"{POWERTOOLS_LAYER_NAME}:{POWERTOOLS_LAYER_VERSION}",
        )
        values = {
            ENV_TABLE: storage.table.table_name,
            ENV_STATE_MACHINE: retry_state_machine_arn(stack),
            ENV_EVENTS_QUEUE: queues.events.queue_url,
            ENV_DELIVERIES_QUEUE: queues.deliveries.queue_url,
        }
        environments: dict[FunctionName, dict[str, str]] = {
            name: {variable: values[variable] for variable in REQUIRED_ENVIRONMENT[name]} for name in FUNCTION_NAMES
        }

        def function(name: FunctionName) -> lambda_.Function:
            spec = self.specs[name]
            construct_name = name.capitalize()
            # Static egress: only the deliver function runs in the VPC, behind the NAT gateways' fixed IPs.
            placement: dict[str, object] = {}
            if egress is not None and name == "deliver":
                placement = {
                    "vpc": egress.vpc,
                    "vpc_subnets": egress.subnets,
                    "security_groups": [egress.security_group],
                }
            return lambda_.Function(
                self,
                construct_name,
                description=spec.description,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                code=code,
                handler=handler_path(name),
                layers=[powertools],
                memory_size=spec.memory_mb,
                timeout=spec.timeout,
                tracing=lambda_.Tracing.ACTIVE,
                environment={
                    **environments[name],
                    "POWERTOOLS_SERVICE_NAME": service_name(name),
                    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                    "LOG_LEVEL": LOG_LEVEL,
                    # pydantic looks for plugins at import; none are used, so skip the search (cold start).
                    "PYDANTIC_DISABLE_PLUGINS": "__all__",
                },
                log_group=log_group(self, f"{construct_name}Logs", logs.RetentionDays.ONE_MONTH),
                **placement,  # type: ignore[arg-type]
            )

        self.authorizer = function("authorizer")
        self.management = function("management")
        self.ingest = function("ingest")
        self.fanout = function("fanout")
        self.deliver = function("deliver")
        self.by_name: dict[FunctionName, lambda_.Function] = {
            "authorizer": self.authorizer,
            "management": self.management,
            "ingest": self.ingest,
            "fanout": self.fanout,
            "deliver": self.deliver,
        }

        self._grant_least_privilege(storage, queues, stack)
        for consumer, queue, batch_size in (
            (self.fanout, queues.events, EVENTS_BATCH_SIZE),
            (self.deliver, queues.deliveries, DELIVERIES_BATCH_SIZE),
        ):
            consumer.add_event_source(
                event_sources.SqsEventSource(
                    queue,
                    batch_size=batch_size,
                    max_batching_window=MAX_BATCHING_WINDOW,
                    report_batch_item_failures=True,
                )
            )
        self._acknowledge_findings()

    def _grant_least_privilege(self, storage: Storage, queues: Queues, stack: Stack) -> None:
        table = storage.table
        # The authorizer only looks an API key up by its hash.
        iam.Grant.add_to_principal(
            grantee=self.authorizer, actions=["dynamodb:GetItem"], resource_arns=[table.table_arn]
        )
        for name, actions in TABLE_ACTIONS.items():
            table.grant(self.by_name[name], *actions)

        queues.events.grant_send_messages(self.ingest)
        # Operational events (functions/pipeline/operational.py): deliver (disabled, exhausted, recovered) and
        # management (disabled or enabled by hand) queue them for the operational webhook and put them on the
        # deployer's default event bus.
        default_bus = events.EventBus.from_event_bus_name(self, "DefaultEventBus", "default")
        for emitter in (self.deliver, self.management):
            queues.events.grant_send_messages(emitter)
            default_bus.grant_put_events_to(emitter)
        # Manual retry and recover re-enqueue deliveries; fanout enqueues new ones.
        queues.deliveries.grant_send_messages(self.ingest)
        queues.deliveries.grant_send_messages(self.fanout)
        # Deliveries waiting for an endpoint's rate limit go back to the queue, delayed.
        queues.deliveries.grant_send_messages(self.deliver)

        retries = sfn.StateMachine.from_state_machine_arn(self, "RetryStateMachineRef", retry_state_machine_arn(stack))
        retries.grant_start_execution(self.deliver)
        # An Attempt that leaves no member of its group pending stops its own execution; deleting or
        # disabling a webhook stops its pending retry executions.
        for stopper in (self.deliver, self.management):
            retries.grant_execution(stopper, "states:StopExecution")

        index_arns = f"Resource::{arn_placeholder(table)}/index/*"
        for name in TABLE_ACTIONS:
            acknowledge(
                _role(self.by_name[name]),
                f"AwsSolutions-IAM5[{index_arns}]",
                f"Table.grant gives the {name} function the table's indexes as well "
                "(<table>/index/*); the wildcard matches only indexes of Dovecote's one table.",
            )
        for stopper in (self.deliver, self.management):
            acknowledge(
                _role(stopper),
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
                f"execution:{retry_state_machine_name(stack)}:*]",
                "Retry executions are named after delivery ids, unknown at deploy time; the wildcard is limited "
                "to executions of the retry state machine, for StopExecution only.",
            )

    def _acknowledge_findings(self) -> None:
        if self.egress is not None:
            acknowledge(
                _role(self.deliver),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaVPCAccessExecutionRole]",
                "Static egress puts the deliver function in a VPC; AWSLambdaVPCAccessExecutionRole grants only "
                "the network-interface actions Lambda needs to attach it there, and AWS maintains it.",
            )
        for name, function in self.by_name.items():
            acknowledge(
                function.node.default_child or function,
                "AwsSolutions-L1",
                f"The {name} function is pinned to python3.12, the runtime Dovecote targets together with "
                "the matching AWSLambdaPowertoolsPythonV3-python312-arm64 layer; moving on means moving both.",
            )
            acknowledge(
                _role(function),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                f"AWSLambdaBasicExecutionRole grants the {name} function only the CloudWatch Logs writes "
                "every Lambda function needs for its logs, and AWS maintains it.",
            )
            acknowledge(
                _role(function),
                "AwsSolutions-IAM5[Resource::*]",
                f"Active X-Ray tracing of the {name} function needs xray:PutTraceSegments and "
                "xray:PutTelemetryRecords, which support no resource-level permissions.",
            )


def _role(function: lambda_.Function) -> iam.IRole:
    if function.role is None:
        raise ValueError(f"{function.node.path} has no execution role")
    return function.role
