"""Queries over a synthesized template, shared by the infra tests."""

from __future__ import annotations

from typing import Any

from infra.handlers import FUNCTION_NAMES, PORTAL_HANDLER, FunctionName, handler_path
from infra.template import resources_of_type

Resource = dict[str, Any]


def functions_by_name(template: dict[str, Any]) -> dict[FunctionName, tuple[str, Resource]]:
    """Each Dovecote function's (logical id, resource), found by its handler."""
    by_handler = {
        resource["Properties"]["Handler"]: (logical_id, resource)
        for logical_id, resource in resources_of_type(template, "AWS::Lambda::Function").items()
    }
    return {name: by_handler[handler_path(name)] for name in FUNCTION_NAMES}


def portal_function_id(template: dict[str, Any]) -> str:
    """The logical id of the portal's function (not one of the five: it serves pages, not the pipeline)."""
    (logical_id,) = [
        logical_id
        for logical_id, resource in resources_of_type(template, "AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == PORTAL_HANDLER
    ]
    return logical_id


def function_name_of(template: dict[str, Any], logical_id: str) -> FunctionName:
    for name, (function_id, _) in functions_by_name(template).items():
        if function_id == logical_id:
            return name
    raise KeyError(logical_id)


def role_statements(template: dict[str, Any], function_logical_id: str) -> list[dict[str, Any]]:
    """Every IAM statement of the policies attached to the function's execution role."""
    role_ref = template["Resources"][function_logical_id]["Properties"]["Role"]
    role_id = role_ref["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        actions.update([action] if isinstance(action, str) else action)
    return actions


def statements_allowing(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [statement for statement in statements if action in actions_of([statement])]


def referenced_logical_ids(value: Any) -> set[str]:
    """Logical ids a CloudFormation value refers to with Ref or Fn::GetAtt."""
    if isinstance(value, list):
        return set().union(*(referenced_logical_ids(item) for item in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if "Ref" in value and isinstance(value["Ref"], str) and not value["Ref"].startswith("AWS::"):
        return {value["Ref"]}
    if "Fn::GetAtt" in value:
        return {value["Fn::GetAtt"][0]}
    return set().union(*(referenced_logical_ids(item) for item in value.values())) if value else set()


def retry_path_waits(definition: dict[str, Any]) -> list[str]:
    """The Waits' `TimestampPath`s met when every attempt answers `retry`, following Next and the
    Choices to the state that ends the execution (the last Attempt; MarkFailed for a table without
    retries)."""
    states = definition["States"]
    waits: list[str] = []
    name = definition["StartAt"]
    for _ in range(len(states) + 1):
        state = states[name]
        if state.get("End"):
            return waits
        if state["Type"] == "Wait":
            waits.append(state["TimestampPath"])
        if state["Type"] == "Choice":
            retry_choice = next(choice for choice in state["Choices"] if choice.get("StringEquals") == "retry")
            name = retry_choice["Next"]
        else:
            name = state["Next"]
    raise AssertionError("the retry path never ends")
