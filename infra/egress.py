"""Static egress: the deliver function's traffic leaves from fixed Elastic IPs (off by default).

`cdk deploy -c staticEgress=true` puts the deliver function in a VPC's private subnets, whose
outbound traffic goes through one NAT gateway per availability zone, each with its own
Elastic IP; the IPs are stack outputs (`EgressIp1`, …) for customers to allow-list. The
number of NAT gateways (and AZs) is `-c egressNatGateways=N` (default 2, at most 3 in an
environment-agnostic stack). DynamoDB is reached through a (free) gateway endpoint; the
other AWS APIs and every delivery go through the NAT gateways.

Off by default because it costs money at zero traffic: each NAT gateway about $32.85 a month
plus $0.045 per GB processed, and each public IPv4 address $3.65 a month (us-east-1 list
prices; README "Static egress").
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Fn
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.nag import acknowledge

CONTEXT_STATIC_EGRESS = "staticEgress"
CONTEXT_NAT_GATEWAYS = "egressNatGateways"
DEFAULT_NAT_GATEWAYS = 2
MAX_NAT_GATEWAYS = 3


@dataclass(frozen=True)
class EgressSettings:
    enabled: bool = False
    nat_gateways: int = DEFAULT_NAT_GATEWAYS


class EgressContextError(ValueError):
    pass


def egress_from_context(scope: Construct) -> EgressSettings:
    """`-c staticEgress=true|false`, `-c egressNatGateways=1..3`; a value that is neither is refused."""
    flag = scope.node.try_get_context(CONTEXT_STATIC_EGRESS)
    text = str(flag).strip().lower() if flag is not None else "false"
    if text not in {"true", "false", "1", "0", "yes", "no"}:
        raise EgressContextError(f"context {CONTEXT_STATIC_EGRESS}={flag!r} is not a boolean: use true or false")
    count_value = scope.node.try_get_context(CONTEXT_NAT_GATEWAYS)
    try:
        count = DEFAULT_NAT_GATEWAYS if count_value is None else int(str(count_value))
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_NAT_GATEWAYS:
        raise EgressContextError(f"context {CONTEXT_NAT_GATEWAYS}={count_value!r}: a whole number from 1 to 3")
    return EgressSettings(enabled=text in {"true", "1", "yes"}, nat_gateways=count)


class StaticEgress(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, nat_gateways: int) -> None:
        super().__init__(scope, construct_id)
        self.ips = [ec2.CfnEIP(self, f"Ip{index + 1}", domain="vpc") for index in range(nat_gateways)]
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            availability_zones=[Fn.select(index, Fn.get_azs()) for index in range(nat_gateways)],
            nat_gateways=nat_gateways,
            nat_gateway_provider=ec2.NatProvider.gateway(eip_allocation_ids=[ip.attr_allocation_id for ip in self.ips]),
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="Deliver", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
            ],
            restrict_default_security_group=False,
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
            },
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "DeliverSecurityGroup",
            vpc=self.vpc,
            description="Dovecote deliver function: outbound only (deliveries and AWS APIs), nothing inbound",
            allow_all_outbound=True,
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        for index, ip in enumerate(self.ips):
            CfnOutput(
                scope,
                f"EgressIp{index + 1}",
                value=ip.attr_public_ip,
                description="A fixed address deliveries leave from: customers allow-list every EgressIp",
            )
        acknowledge(
            self.vpc,
            "AwsSolutions-VPC7",
            "The VPC carries only the deliver function's outbound requests, each recorded in the delivery log "
            "with its status and latency; flow logs would add a per-GB cost for no further insight.",
        )
