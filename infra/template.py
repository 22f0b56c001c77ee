"""Reading a synthesized Dovecote template without the CDK (for tests and the local stack).

The retry state machine is the template's only `AWS::StepFunctions::StateMachine`; its
`DefinitionString` is an `Fn::Join` whose only references are the deliver function's ARN
(`Fn::GetAtt [<function>, Arn]`) and pseudo parameters.
"""

from __future__ import annotations

import json
from typing import Any

from infra.handlers import handler_path

STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"
FUNCTION_TYPE = "AWS::Lambda::Function"


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def retry_state_machine_logical_id(template: dict[str, Any]) -> str:
    machines = resources_of_type(template, STATE_MACHINE_TYPE)
    if len(machines) != 1:
        raise ValueError(f"expected one state machine in the template, found {sorted(machines)}")
    return next(iter(machines))


def deliver_function_logical_id(template: dict[str, Any]) -> str:
    deliver_handler = handler_path("deliver")
    for logical_id, function in resources_of_type(template, FUNCTION_TYPE).items():
        if function["Properties"].get("Handler") == deliver_handler:
            return logical_id
    raise ValueError(f"no function with handler {deliver_handler} in the template")


def resolve_intrinsics(value: Any, function_arns: dict[str, str], pseudo: dict[str, str]) -> Any:
    """Resolve Fn::Join, Fn::GetAtt of a function's Arn and Ref of a pseudo parameter."""
    if isinstance(value, list):
        return [resolve_intrinsics(item, function_arns, pseudo) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve_intrinsics(part, function_arns, pseudo)) for part in parts)
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute == "Arn" and logical_id in function_arns:
            return function_arns[logical_id]
        raise ValueError(f"cannot resolve Fn::GetAtt {logical_id}.{attribute}")
    if "Ref" in value:
        if value["Ref"] in pseudo:
            return pseudo[value["Ref"]]
        raise ValueError(f"cannot resolve Ref {value['Ref']}")
    return {key: resolve_intrinsics(item, function_arns, pseudo) for key, item in value.items()}


def retry_state_machine_definition_from_template(
    template: dict[str, Any],
    deliver_function_arn: str,
    *,
    region: str = "us-east-1",
    account: str = "123456789012",
) -> dict[str, Any]:
    """The synthesized retry definition, with `deliver_function_arn` in place of the deliver function's ARN."""
    machine = template["Resources"][retry_state_machine_logical_id(template)]
    function_arns = {deliver_function_logical_id(template): deliver_function_arn}
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::URLSuffix": "amazonaws.com",
    }
    definition_string = resolve_intrinsics(machine["Properties"]["DefinitionString"], function_arns, pseudo)
    definition: dict[str, Any] = json.loads(definition_string)
    return definition
