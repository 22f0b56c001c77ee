"""AWS destinations' IAM (sts:AssumeRole on the deploy-time role pattern, with the ExternalId
condition) and static egress (VPC, NAT gateways with Elastic IPs; off by default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint

from functions.core.destinations import DEFAULT_ROLE_PATTERN
from functions.core.profile import load_profile
from functions.runtime.settings import ENV_DESTINATION_ROLES
from infra.assembly import add_dovecote_stack, create_app
from infra.destinations import ContextPatternError
from infra.egress import EgressContextError
from infra.template import resources_of_type
from tests.infra.conftest import Synthesized
from tests.infra.infra_test_support import actions_of, functions_by_name, role_statements, statements_allowing

pytestmark = pytest.mark.xdist_group("infra")

CUSTOM_PATTERN = "arn:aws:iam::*:role/acme-dovecote-*"


def synthesize(outdir: Path, **context: str) -> Synthesized:
    app = create_app(outdir=str(outdir))
    for name, value in context.items():
        app.node.set_context(name, value)
    stack = add_dovecote_stack(app, load_profile("standard"), deletion_protection=False)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    return Synthesized(stack=stack, template=template, assembly_dir=outdir)


@pytest.fixture(scope="module")
def static_egress(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(
        tmp_path_factory.mktemp("cdk-egress"),
        staticEgress="true",
        egressNatGateways="3",
        destinationRoles=CUSTOM_PATTERN,
    )


def _statements(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: role_statements(template, logical_id) for name, (logical_id, _) in functions_by_name(template).items()
    }


def _environment(template: dict[str, Any], function: str) -> dict[str, Any]:
    _, resource = functions_by_name(template)[function]
    return dict(resource["Properties"]["Environment"]["Variables"])


# IAM -----------------------------------------------------------------------------------------


def test_only_deliver_may_assume_roles_and_only_matching_ones_with_a_dovecote_external_id(standard):
    for name, statements in _statements(standard.template).items():
        assuming = statements_allowing(statements, "sts:AssumeRole")
        if name != "deliver":
            assert assuming == [], name
            continue
        assert assuming == [
            {
                "Action": "sts:AssumeRole",
                "Condition": {"StringLike": {"sts:ExternalId": "dvc_ext_*"}},
                "Effect": "Allow",
                "Resource": DEFAULT_ROLE_PATTERN,
            }
        ]


def test_no_function_may_assume_roles_through_a_wildcard_sts_action(standard):
    for statements in _statements(standard.template).values():
        assert not {a for a in actions_of(statements) if a.startswith("sts:")} - {"sts:AssumeRole"}


def test_deliver_and_management_know_the_role_pattern(standard):
    for function in ("deliver", "management"):
        assert _environment(standard.template, function)[ENV_DESTINATION_ROLES] == DEFAULT_ROLE_PATTERN
    assert ENV_DESTINATION_ROLES not in _environment(standard.template, "ingest")


def test_the_role_pattern_is_set_at_deploy_time(static_egress):
    (statement,) = statements_allowing(_statements(static_egress.template)["deliver"], "sts:AssumeRole")
    assert statement["Resource"] == CUSTOM_PATTERN
    assert _environment(static_egress.template, "management")[ENV_DESTINATION_ROLES] == CUSTOM_PATTERN


@pytest.mark.parametrize("pattern", ["*", "arn:aws:iam::*:role/*", "dovecote-*"])
def test_a_role_pattern_that_names_no_prefix_is_refused(tmp_path: Path, pattern: str):
    with pytest.raises(ContextPatternError, match="destinationRoles"):
        synthesize(tmp_path, destinationRoles=pattern)


# static egress ---------------------------------------------------------------------------------


def test_without_static_egress_there_is_no_vpc_nat_gateway_or_elastic_ip(standard):
    for kind in ("AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        assert resources_of_type(standard.template, kind) == {}
    for _, resource in functions_by_name(standard.template).values():
        assert "VpcConfig" not in resource["Properties"]
    assert not [name for name in standard.template.get("Outputs", {}) if name.startswith("EgressIp")]


def test_static_egress_gives_one_nat_gateway_and_elastic_ip_per_availability_zone(static_egress):
    template = static_egress.template
    (vpc_id,) = resources_of_type(template, "AWS::EC2::VPC")
    eips = resources_of_type(template, "AWS::EC2::EIP")
    nats = resources_of_type(template, "AWS::EC2::NatGateway")
    assert len(eips) == len(nats) == 3
    allocations = {json.dumps(nat["Properties"]["AllocationId"]) for nat in nats.values()}
    assert allocations == {json.dumps({"Fn::GetAtt": [eip_id, "AllocationId"]}) for eip_id in eips}
    outputs = {name: output for name, output in template["Outputs"].items() if name.startswith("EgressIp")}
    assert sorted(outputs) == ["EgressIp1", "EgressIp2", "EgressIp3"]
    assert {json.dumps(o["Value"]) for o in outputs.values()} == {
        json.dumps({"Fn::GetAtt": [eip_id, "PublicIp"]}) for eip_id in eips
    }
    subnets = resources_of_type(template, "AWS::EC2::Subnet")
    assert {json.dumps(s["Properties"]["VpcId"]) for s in subnets.values()} == {json.dumps({"Ref": vpc_id})}


def test_only_the_deliver_function_runs_in_the_vpc_on_private_subnets(static_egress):
    template = static_egress.template
    subnets = resources_of_type(template, "AWS::EC2::Subnet")
    private = {sid for sid, s in subnets.items() if not s["Properties"].get("MapPublicIpOnLaunch")}
    for name, (_, resource) in functions_by_name(template).items():
        config = resource["Properties"].get("VpcConfig")
        if name != "deliver":
            assert config is None, name
            continue
        assert {ref["Ref"] for ref in config["SubnetIds"]} == private
        assert len(private) == 3


def test_static_egress_reaches_dynamodb_through_a_gateway_endpoint(static_egress):
    (endpoint,) = resources_of_type(static_egress.template, "AWS::EC2::VPCEndpoint").values()
    assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
    assert "dynamodb" in json.dumps(endpoint["Properties"]["ServiceName"])


def test_the_static_egress_template_is_cfn_lint_clean(static_egress):
    matches = lint(json.dumps(static_egress.template), regions=["us-east-1"])
    errors = [f"{m.rule.id} {m.message} ({m.path_string})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_the_static_egress_stack_has_no_unacknowledged_cdk_nag_finding(static_egress):
    report = AwsSolutionsChecks().validate_scope(static_egress.stack)
    violations = [
        f"{v.severity} {v.rule_name}: " + ", ".join(r.construct_path or "" for r in v.violating_resources)
        for v in report.violations
    ]
    assert violations == []
    assert report.success


@pytest.mark.parametrize(("name", "value"), [("staticEgress", "maybe"), ("egressNatGateways", "4")])
def test_bad_egress_context_is_refused(tmp_path: Path, name: str, value: str):
    with pytest.raises(EgressContextError, match=name):
        synthesize(tmp_path, **{name: value, "staticEgress": "true"} if name != "staticEgress" else {name: value})
