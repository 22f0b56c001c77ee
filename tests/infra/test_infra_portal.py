"""The consumer portal in the synthesized stack: its function, routes, settings from context, output."""

from __future__ import annotations

import pytest

from functions.core.profile import load_profile
from functions.portal.branding import (
    DEFAULT_ACCENT_COLOR,
    DEFAULT_NAME,
    ENV_PORTAL_ACCENT_COLOR,
    ENV_PORTAL_FRAME_ANCESTORS,
    ENV_PORTAL_LOGO_URL,
    ENV_PORTAL_NAME,
    PortalSettingsError,
)
from infra.assembly import add_dovecote_stack, create_app
from infra.handlers import PORTAL_HANDLER
from infra.template import resources_of_type
from tests.infra.infra_test_support import portal_function_id, role_statements

pytestmark = pytest.mark.xdist_group("infra")


def _portal_properties(template):
    return template["Resources"][portal_function_id(template)]["Properties"]


def test_the_portal_is_one_small_function_with_no_layer_and_no_grant_beyond_its_logs(standard):
    properties = _portal_properties(standard.template)

    assert properties["Handler"] == PORTAL_HANDLER
    assert properties["Runtime"] == "python3.12"
    assert properties["Architectures"] == ["arm64"]
    assert properties["MemorySize"] == 128
    assert properties["Timeout"] < 30
    assert "Layers" not in properties
    assert role_statements(standard.template, portal_function_id(standard.template)) == []


def test_the_portal_serves_from_the_shared_code_asset(standard):
    management_code = next(
        resource["Properties"]["Code"]
        for resource in resources_of_type(standard.template, "AWS::Lambda::Function").values()
        if resource["Properties"]["Handler"] == "functions.management.handler.handler"
    )

    assert _portal_properties(standard.template)["Code"] == management_code


def test_without_context_the_portal_has_the_default_branding_and_no_one_may_frame_it(standard):
    variables = _portal_properties(standard.template)["Environment"]["Variables"]

    assert variables == {
        ENV_PORTAL_NAME: DEFAULT_NAME,
        ENV_PORTAL_LOGO_URL: "",
        ENV_PORTAL_ACCENT_COLOR: DEFAULT_ACCENT_COLOR,
        ENV_PORTAL_FRAME_ANCESTORS: "",
    }


def test_the_page_and_assets_are_public_and_the_session_route_runs_the_authorizer(standard):
    template = standard.template
    integrations = resources_of_type(template, "AWS::ApiGatewayV2::Integration")
    portal_routes = {}
    for route in resources_of_type(template, "AWS::ApiGatewayV2::Route").values():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        function_id = integrations[integration_id]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        if function_id == portal_function_id(template):
            portal_routes[route["Properties"]["RouteKey"]] = route["Properties"]["AuthorizationType"]

    assert portal_routes == {
        "GET /portal": "NONE",
        "GET /portal/assets/{asset}": "NONE",
        "GET /portal/session": "CUSTOM",
    }


def test_the_stack_outputs_the_portal_url(standard):
    output = standard.template["Outputs"]["PortalUrl"]["Value"]

    assert output["Fn::Join"][1][0] == "https://"
    assert output["Fn::Join"][1][-1] == "/portal"


def test_the_deploy_sets_the_name_logo_accent_and_framing_origins_with_cdk_context(tmp_path):
    app = create_app(outdir=str(tmp_path))
    app.node.set_context("portalName", "Acme Cloud")
    app.node.set_context("portalLogoUrl", "https://cdn.acme.example/logo.svg")
    app.node.set_context("portalAccentColor", "#0F766E")
    app.node.set_context("portalFrameAncestors", "https://app.acme.example, https://*.acme.example")
    stack = add_dovecote_stack(app, load_profile("standard"), stack_name="DovecotePortalContext")
    template = app.synth().get_stack_by_name(stack.stack_name).template

    variables = _portal_properties(template)["Environment"]["Variables"]

    assert variables == {
        ENV_PORTAL_NAME: "Acme Cloud",
        ENV_PORTAL_LOGO_URL: "https://cdn.acme.example/logo.svg",
        ENV_PORTAL_ACCENT_COLOR: "#0f766e",
        ENV_PORTAL_FRAME_ANCESTORS: "https://app.acme.example https://*.acme.example",
    }


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("portalAccentColor", "red; script-src *", "accent colour"),
        ("portalFrameAncestors", "http://app.acme.example", "frame ancestor"),
        ("portalLogoUrl", "javascript:alert(1)", "logo URL"),
    ],
)
def test_a_context_value_the_portal_cannot_use_fails_synthesis_naming_it(tmp_path, name, value, named):
    app = create_app(outdir=str(tmp_path))
    app.node.set_context(name, value)

    with pytest.raises(PortalSettingsError, match=named):
        add_dovecote_stack(app, load_profile("standard"), stack_name="DovecotePortalBadContext")
