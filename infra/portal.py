"""The consumer portal: one small function behind the HTTP API serving the page, its assets and its session.

Served by the stack's own HTTP API (routes in infra/routes.py), not by S3 and CloudFront:
nothing runs or is billed at zero traffic, the page and the API share an origin (so the
Content-Security-Policy can say `connect-src 'self'` and no CORS is configured), and there
is no second URL, certificate or cache to operate. The function reuses the shared code
asset, needs no layer (it imports only the standard library) and is granted nothing but
its own logs.

Deploy-time settings, as CDK context (`cdk deploy -c portalName=Acme ...`):
`portalName`, `portalLogoUrl`, `portalAccentColor`, `portalFrameAncestors` (the origins
that may frame the portal, space- or comma-separated; none by default).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.portal.branding import PortalBranding, PortalSettingsError, parse_branding
from infra.functions import FunctionSpec
from infra.handlers import PORTAL_HANDLER, PORTAL_MEMORY_MB
from infra.lambda_code import ARCHITECTURE, RUNTIME
from infra.log_groups import log_group
from infra.nag import acknowledge

PORTAL_SPEC = FunctionSpec(
    "Dovecote: serves the consumer portal (page, assets, session)", PORTAL_MEMORY_MB, Duration.seconds(5)
)
"""Sized like the five functions (infra/functions.py `function_specs`)."""

CONTEXT_PORTAL_NAME = "portalName"
CONTEXT_PORTAL_LOGO_URL = "portalLogoUrl"
CONTEXT_PORTAL_ACCENT_COLOR = "portalAccentColor"
CONTEXT_PORTAL_FRAME_ANCESTORS = "portalFrameAncestors"


def branding_from_context(scope: Construct) -> PortalBranding:
    """The portal settings given as CDK context; PortalSettingsError names the one that cannot be used."""

    def value(name: str) -> str | None:
        found = scope.node.try_get_context(name)
        if found is None:
            return None
        if isinstance(found, list):
            return " ".join(str(item) for item in found)
        return str(found)

    try:
        return parse_branding(
            name=value(CONTEXT_PORTAL_NAME),
            logo_url=value(CONTEXT_PORTAL_LOGO_URL),
            accent_color=value(CONTEXT_PORTAL_ACCENT_COLOR),
            frame_ancestors=value(CONTEXT_PORTAL_FRAME_ANCESTORS) or "",
        )
    except PortalSettingsError as error:
        raise PortalSettingsError(f"context ({error})") from None


class Portal(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, code: lambda_.Code, branding: PortalBranding) -> None:
        super().__init__(scope, construct_id)
        self.branding = branding
        self.function = lambda_.Function(
            self,
            "Function",
            description=PORTAL_SPEC.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=PORTAL_HANDLER,
            memory_size=PORTAL_SPEC.memory_mb,
            timeout=PORTAL_SPEC.timeout,
            environment=branding.environment(),
            log_group=log_group(self, "Logs", logs.RetentionDays.ONE_MONTH),
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "The portal function is pinned to python3.12 like every Dovecote function (one runtime, one code asset).",
        )
        role = self.function.role
        if role is None:
            raise ValueError("the portal function has no execution role")
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "AWSLambdaBasicExecutionRole grants the portal function only the CloudWatch Logs writes every Lambda "
            "function needs for its logs, and AWS maintains it; the portal is granted nothing else.",
        )
        self.role: iam.IRole = role
