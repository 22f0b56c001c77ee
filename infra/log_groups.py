"""The stack's log groups: each keeps its logs for a fixed time and goes with the stack."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct


def log_group(scope: Construct, construct_id: str, retention: logs.RetentionDays) -> logs.LogGroup:
    """A log group deleted with the stack: its logs are operational, the delivery log lives in DynamoDB."""
    return logs.LogGroup(scope, construct_id, retention=retention, removal_policy=RemovalPolicy.DESTROY)
