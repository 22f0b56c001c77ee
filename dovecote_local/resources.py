"""Creating the resources a synthesized template defines, in moto.

What is read from the template, never re-typed: the DynamoDB table (keys, indexes, TTL),
the queues (visibility timeout, retention, redrive policy to their dead-letter queues),
the Lambda functions (handler, timeout, memory, environment), the retry state machine
(its DefinitionString, with the functions' ARNs resolved to the moto functions'), the
SQS event source mappings (run by `pollers`) and the HTTP API's routes and authorizer
(run by `gateway`).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from dovecote_local.gateway import Authorizer, GatewayRoute
from dovecote_local.lambdas import LocalFunction
from dovecote_local.pollers import EventSourceMapping

ACCOUNT_ID = "123456789012"
LAMBDA_ROLE_NAME = "dovecote-local-lambda"
_HEADER_IDENTITY = re.compile(r"^\$request\.header\.(?P<name>[A-Za-z0-9-]+)$")
_AUTHORIZER_FUNCTION = re.compile(r"/functions/(?P<arn>arn:[^/]+)/invocations$")
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class UnsupportedTemplateError(ValueError):
    """The template uses something the local stack cannot create or resolve."""


@dataclass
class Resolver:
    """Resolves CloudFormation intrinsics against the physical ids of what has been created."""

    pseudo: dict[str, str]
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                return self._ref(argument)
            if name == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._attribute(logical_id, attribute)
            if name == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(part)) for part in self.resolve(parts))
            if name == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if name == "Fn::Sub":
                return self._sub(argument)
            if name.startswith("Fn::"):
                raise UnsupportedTemplateError(f"the local stack cannot resolve {name}")
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.refs:
            return self.refs[name]
        raise UnsupportedTemplateError(f"Ref {name}: not a resource the local stack creates")

    def _attribute(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise UnsupportedTemplateError(f"Fn::GetAtt {logical_id}.{attribute}: not available locally") from None

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: str(self.resolve(value)) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            if "." in name and not name.startswith("AWS::"):
                return self._attribute(*name.split(".", 1))
            return self._ref(name)

        return _SUB_VARIABLE.sub(replace, text)


@dataclass
class QueueInfo:
    logical_id: str
    url: str
    arn: str
    visibility_timeout: int


@dataclass
class LocalResources:
    table_name: str
    queues: dict[str, QueueInfo]
    functions: dict[str, LocalFunction]
    state_machine_arn: str
    mappings: list[EventSourceMapping]
    routes: list[GatewayRoute]
    authorizer: Authorizer | None
    environment: dict[str, str]
    """The functions' environment variables (one process runs them all)."""

    def function_by_handler(self, handler_path: str) -> LocalFunction:
        for function in self.functions.values():
            if function.handler_path == handler_path:
                return function
        raise LookupError(f"no function with handler {handler_path}")


def _of_type(template: dict[str, Any], resource_type: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, resource.get("Properties", {}))
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == resource_type
    ]


def _the_one(template: dict[str, Any], resource_type: str, what: str) -> tuple[str, dict[str, Any], str | None]:
    """The template's only resource of this type: its logical id, properties and explicit name, if any."""
    resources = _of_type(template, resource_type)
    if len(resources) != 1:
        raise UnsupportedTemplateError(f"expected one {what}, found {len(resources)}")
    logical_id, properties = resources[0]
    return logical_id, properties, properties.get(_NAME_PROPERTY[resource_type])


_STATE_MACHINE = "AWS::StepFunctions::StateMachine"
_NAME_PROPERTY = {"AWS::DynamoDB::Table": "TableName", _STATE_MACHINE: "StateMachineName"}


def _physical_name(stack_name: str, logical_id: str, limit: int) -> str:
    return f"{stack_name}-{logical_id}"[:limit]


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The local stack runs this function's handler in-process.\n")
    return buffer.getvalue()


class ResourceBuilder:
    def __init__(self, template: dict[str, Any], clients: Any, *, stack_name: str, region: str) -> None:
        self._template = template
        self._clients = clients
        self._stack_name = stack_name
        self._region = region
        self.resolver = Resolver(
            pseudo={
                "AWS::Partition": "aws",
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}/local",
            }
        )

    def build(self) -> LocalResources:
        table_name = self._create_table()
        queues = self._create_queues()
        functions = self._create_functions()
        state_machine_arn = self._create_state_machine()
        return LocalResources(
            table_name=table_name,
            queues=queues,
            functions=functions,
            state_machine_arn=state_machine_arn,
            mappings=self._event_source_mappings(),
            routes=self._routes(),
            authorizer=self._authorizer(),
            environment=self._environment(),
        )

    def _create_table(self) -> str:
        logical_id, properties, given_name = _the_one(self._template, "AWS::DynamoDB::Table", "DynamoDB table")
        name = given_name or _physical_name(self._stack_name, logical_id, 255)
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        for optional in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
            if optional in properties:
                request[optional] = properties[optional]
        dynamodb = self._clients.dynamodb
        dynamodb.create_table(**request)
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        arn = f"arn:aws:dynamodb:{self._region}:{ACCOUNT_ID}:table/{name}"
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[logical_id] = {"Arn": arn}
        return name

    def _create_queues(self) -> dict[str, QueueInfo]:
        queues = _of_type(self._template, "AWS::SQS::Queue")
        # Dead-letter queues first: a redrive policy names its target by ARN.
        queues.sort(key=lambda item: "RedrivePolicy" in item[1])
        created: dict[str, QueueInfo] = {}
        sqs = self._clients.sqs
        for logical_id, properties in queues:
            name = properties.get("QueueName") or _physical_name(self._stack_name, logical_id, 80)
            attributes: dict[str, str] = {}
            if "VisibilityTimeout" in properties:
                attributes["VisibilityTimeout"] = str(properties["VisibilityTimeout"])
            if "MessageRetentionPeriod" in properties:
                attributes["MessageRetentionPeriod"] = str(properties["MessageRetentionPeriod"])
            if "RedrivePolicy" in properties:
                attributes["RedrivePolicy"] = json.dumps(self.resolver.resolve(properties["RedrivePolicy"]))
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "VisibilityTimeout"])["Attributes"]
            created[logical_id] = QueueInfo(logical_id, url, arn["QueueArn"], int(arn["VisibilityTimeout"]))
            self.resolver.refs[logical_id] = url
            self.resolver.attributes[logical_id] = {"Arn": arn["QueueArn"], "QueueUrl": url, "QueueName": name}
        return created

    def _create_functions(self) -> dict[str, LocalFunction]:
        iam = self._clients.iam
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        role_arn = iam.create_role(RoleName=LAMBDA_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        code = _placeholder_zip()
        functions: dict[str, LocalFunction] = {}
        for logical_id, properties in _of_type(self._template, "AWS::Lambda::Function"):
            name = properties.get("FunctionName") or _physical_name(self._stack_name, logical_id, 64)
            created = self._clients.lambda_.create_function(
                FunctionName=name,
                Runtime=properties.get("Runtime", "python3.12"),
                Role=role_arn,
                Handler=properties["Handler"],
                Code={"ZipFile": code},
                Timeout=int(properties.get("Timeout", 3)),
                MemorySize=int(properties.get("MemorySize", 128)),
            )
            functions[logical_id] = LocalFunction(
                logical_id=logical_id,
                name=name,
                arn=created["FunctionArn"],
                handler_path=properties["Handler"],
                timeout_seconds=float(properties.get("Timeout", 3)),
                memory_mb=int(properties.get("MemorySize", 128)),
            )
            self.resolver.refs[logical_id] = name
            self.resolver.attributes[logical_id] = {"Arn": created["FunctionArn"]}
        return functions

    def _create_state_machine(self) -> str:
        logical_id, properties, given_name = _the_one(self._template, _STATE_MACHINE, "state machine")
        name = given_name or _physical_name(self._stack_name, logical_id, 80)
        definition = properties.get("DefinitionString")
        if definition is None:
            raise UnsupportedTemplateError(f"state machine {logical_id} has no DefinitionString")
        resolved = self.resolver.resolve(definition)
        arn = self._clients.stepfunctions.create_state_machine(
            name=name,
            definition=resolved if isinstance(resolved, str) else json.dumps(resolved),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{LAMBDA_ROLE_NAME}",
            type=properties.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        self.resolver.refs[logical_id] = arn
        self.resolver.attributes[logical_id] = {"Arn": arn, "Name": name}
        return str(arn)

    def _event_source_mappings(self) -> list[EventSourceMapping]:
        queues_by_arn = {info["Arn"]: self.resolver.refs[logical_id] for logical_id, info in self._queue_attributes()}
        mappings = []
        for logical_id, properties in _of_type(self._template, "AWS::Lambda::EventSourceMapping"):
            source_arn = self.resolver.resolve(properties["EventSourceArn"])
            if source_arn not in queues_by_arn:
                raise UnsupportedTemplateError(f"{logical_id}: only SQS event sources are supported locally")
            mappings.append(
                EventSourceMapping(
                    queue_url=queues_by_arn[source_arn],
                    queue_arn=source_arn,
                    function_name=self.resolver.resolve(properties["FunctionName"]),
                    batch_size=int(properties.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                )
            )
        return mappings

    def _queue_attributes(self) -> list[tuple[str, dict[str, str]]]:
        return [
            (logical_id, self.resolver.attributes[logical_id])
            for logical_id, _ in _of_type(self._template, "AWS::SQS::Queue")
        ]

    def _routes(self) -> list[GatewayRoute]:
        function_of_integration = {
            logical_id: self._function_name_from_arn(self.resolver.resolve(properties["IntegrationUri"]))
            for logical_id, properties in _of_type(self._template, "AWS::ApiGatewayV2::Integration")
        }
        routes = []
        for logical_id, properties in _of_type(self._template, "AWS::ApiGatewayV2::Route"):
            method, _, path = properties["RouteKey"].partition(" ")
            target = properties.get("Target")
            integration_id = self._integration_logical_id(target)
            if integration_id not in function_of_integration:
                raise UnsupportedTemplateError(f"route {logical_id} does not target a Lambda integration")
            routes.append(
                GatewayRoute(
                    method=method,
                    path=path,
                    function_name=function_of_integration[integration_id],
                    authorized=properties.get("AuthorizationType", "NONE") != "NONE",
                )
            )
        return routes

    def _integration_logical_id(self, target: Any) -> str | None:
        # Target is Fn::Join ["", ["integrations/", {"Ref": <integration>}]]
        if isinstance(target, dict) and "Fn::Join" in target:
            for part in target["Fn::Join"][1]:
                if isinstance(part, dict) and "Ref" in part:
                    return str(part["Ref"])
        return None

    def _function_name_from_arn(self, arn: str) -> str:
        return arn.split(":")[6]

    def _authorizer(self) -> Authorizer | None:
        authorizers = _of_type(self._template, "AWS::ApiGatewayV2::Authorizer")
        if not authorizers:
            return None
        if len(authorizers) > 1:
            raise UnsupportedTemplateError("the local stack supports one authorizer")
        logical_id, properties = authorizers[0]
        if properties.get("AuthorizerType") != "REQUEST" or not properties.get("EnableSimpleResponses"):
            raise UnsupportedTemplateError(f"{logical_id}: only Lambda REQUEST authorizers with simple responses")
        uri = self.resolver.resolve(properties["AuthorizerUri"])
        match = _AUTHORIZER_FUNCTION.search(uri)
        if not match:
            raise UnsupportedTemplateError(f"{logical_id}: cannot find the function in {uri}")
        identity_sources = properties.get("IdentitySource") or []
        header = _HEADER_IDENTITY.match(identity_sources[0]) if len(identity_sources) == 1 else None
        if header is None:
            raise UnsupportedTemplateError(f"{logical_id}: only one header as identity source is supported")
        return Authorizer(
            function_name=self._function_name_from_arn(match.group("arn")),
            identity_header=header.group("name").lower(),
            cache_ttl_seconds=int(properties.get("AuthorizerResultTtlInSeconds", 0)),
        )

    def _environment(self) -> dict[str, str]:
        environment: dict[str, str] = {}
        conflicting: set[str] = set()
        for _, properties in _of_type(self._template, "AWS::Lambda::Function"):
            variables = properties.get("Environment", {}).get("Variables", {})
            for name, value in self.resolver.resolve(variables).items():
                if name in environment and environment[name] != str(value):
                    conflicting.add(name)
                environment[name] = str(value)
        for name in conflicting:  # e.g. POWERTOOLS_SERVICE_NAME: per function, meaningless in one process
            del environment[name]
        return environment
