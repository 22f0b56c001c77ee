"""The HTTP API (v2): routes from infra.routes.ROUTES, a Lambda authorizer, JSON access logs."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.log_groups import log_group
from infra.nag import acknowledge
from infra.routes import DEFAULT_TARGET, ROUTES, Route, Target

AUTHORIZATION_HEADER = "$request.header.Authorization"
AUTHORIZER_CACHE_TTL = Duration.seconds(60)
THROTTLE_RATE_LIMIT = 100
THROTTLE_BURST_LIMIT = 200

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "time": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "method": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        authorizer: lambda_.IFunction,
        targets: dict[Target, lambda_.IFunction],
        routes: tuple[Route, ...] = ROUTES,
    ) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            description="Dovecote webhook delivery API (v1)",
            create_default_stage=False,
        )
        self.access_logs = log_group(self, "AccessLogs", logs.RetentionDays.THREE_MONTHS)
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=THROTTLE_RATE_LIMIT, burst_limit=THROTTLE_BURST_LIMIT),
            access_log_settings=_AccessLogSettings(self.access_logs),
        )
        self.authorizer = authorizers.HttpLambdaAuthorizer(
            "ApiKeyAuthorizer",
            authorizer,
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
            identity_source=[AUTHORIZATION_HEADER],
            results_cache_ttl=AUTHORIZER_CACHE_TTL,
        )
        route_integrations = {
            target: integrations.HttpLambdaIntegration(f"{target.capitalize()}Integration", handler)
            for target, handler in targets.items()
        }
        for route in routes:
            added = self.http_api.add_routes(
                path=route.path,
                methods=[apigw.HttpMethod(route.method)],
                integration=route_integrations[route.target],
                authorizer=self.authorizer if route.authorized else None,
            )
            if not route.authorized:
                for http_route in added:
                    acknowledge(
                        http_route,
                        "AwsSolutions-APIG4",
                        f"{route.route_key} is public: a document (health, OpenAPI) or the consumer portal's page "
                        "and assets, with no application data, readable before a caller has an API key.",
                    )
        self.default_route = apigw.HttpRoute(
            self,
            "DefaultRoute",
            http_api=self.http_api,
            route_key=apigw.HttpRouteKey.DEFAULT,
            integration=route_integrations[DEFAULT_TARGET],
            authorizer=self.authorizer,
        )

    @property
    def url(self) -> str:
        return self.stage.url


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogSettings:
    """JSON access log lines written to a log group."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigw.LogGroupLogDestination(log_group)
        self._format = apigw_v1.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":")))

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return self._format
