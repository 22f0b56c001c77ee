"""Acknowledging a cdk-nag (v3) finding on a construct, with the reason it is acceptable there."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """`rule_id` is the finding's full id, e.g. `AwsSolutions-IAM5[Resource::*]`."""
    if not reason.strip():
        raise ValueError(f"acknowledging {rule_id} needs a reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def arn_placeholder(construct: IConstruct) -> str:
    """How cdk-nag writes the construct's `Fn::GetAtt Arn` in a finding id: `<LogicalId.Arn>`."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return f"<{Stack.of(construct).get_logical_id(resource)}.Arn>"
