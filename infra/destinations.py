"""AWS destinations: the deliver function may assume customers' roles, and only those.

`sts:AssumeRole` is granted on the roles matching one pattern, set at deploy time
(`cdk deploy -c destinationRoles=arn:aws:iam::*:role/acme-dovecote-*`; default
`arn:aws:iam::*:role/dovecote-delivery-*`, the name the README asks customers to give the
role), and only with an ExternalId that Dovecote generated (`dvc_ext_…`). The management
function checks the same pattern when an endpoint is registered (422 naming role_arn), so an
endpoint that could never be delivered to is refused up front.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions.core.destinations import DEFAULT_ROLE_PATTERN, EXTERNAL_ID_PREFIX
from functions.runtime.settings import ENV_DESTINATION_ROLES
from infra.nag import acknowledge

CONTEXT_DESTINATION_ROLES = "destinationRoles"


class ContextPatternError(ValueError):
    pass


def role_pattern_from_context(scope: Construct) -> str:
    value = scope.node.try_get_context(CONTEXT_DESTINATION_ROLES)
    pattern = str(value).strip() if value else DEFAULT_ROLE_PATTERN
    if not pattern.startswith("arn:") or ":role/" not in pattern or pattern.endswith(":role/*"):
        raise ContextPatternError(
            f"context {CONTEXT_DESTINATION_ROLES}={pattern!r}: give an IAM role ARN pattern with a name prefix, "
            "e.g. arn:aws:iam::*:role/dovecote-delivery-*"
        )
    return pattern


class DestinationRoles(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deliver: lambda_.Function,
        management: lambda_.Function,
        pattern: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.pattern = pattern
        deliver.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[pattern],
                conditions={"StringLike": {"sts:ExternalId": f"{EXTERNAL_ID_PREFIX}*"}},
            )
        )
        for function in (deliver, management):
            function.add_environment(ENV_DESTINATION_ROLES, pattern)
        if deliver.role is None:
            raise ValueError("the deliver function has no execution role")
        acknowledge(
            deliver.role,
            f"AwsSolutions-IAM5[Resource::{pattern}]",
            "Customers' roles live in their own accounts, unknown at deploy time: the deliver function may "
            "assume only roles matching this deploy-time name pattern, and only with an ExternalId Dovecote "
            "generated (sts:ExternalId condition), the confused-deputy guard AWS documents for third parties.",
        )
