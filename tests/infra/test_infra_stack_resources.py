"""What the synthesized Dovecote stack contains: table, queues, functions, API, alarms."""

from __future__ import annotations

import json
import math

import pytest
from aws_cdk.assertions import Match, Template

from functions.core import metrics as metric_names
from functions.core.constants import DELIVERIES_BATCH_SIZE, MAX_MEMBER_HOLD_SECONDS, RATE_LIMIT_WAIT_SECONDS
from functions.runtime.settings import (
    ENV_DELIVERIES_QUEUE,
    ENV_DESTINATION_ROLES,
    ENV_EVENTS_QUEUE,
    ENV_STATE_MACHINE,
    ENV_TABLE,
)
from functions.store.table import TTL_ATTRIBUTE
from infra.functions import EVENTS_BATCH_SIZE
from infra.handlers import FUNCTION_NAMES, handler_path, service_name
from infra.routes import DEFAULT_ROUTE_KEY, ROUTES
from infra.template import resources_of_type
from tests.infra.infra_test_support import (
    function_name_of,
    functions_by_name,
    portal_function_id,
    referenced_logical_ids,
    role_statements,
    statements_allowing,
)

pytestmark = pytest.mark.xdist_group("infra")

# The issue's route list, written out independently of infra.routes.
EXPECTED_ROUTES = {
    ("POST", "/v1/events"): ("ingest", True),
    ("POST", "/v1/events/batch"): ("ingest", True),
    ("POST", "/v1/webhooks/{id}/test"): ("ingest", True),
    ("POST", "/v1/deliveries/{id}/retry"): ("ingest", True),
    ("POST", "/v1/webhooks/{id}/recover"): ("ingest", True),
    ("GET", "/v1/openapi.json"): ("management", False),
    ("GET", "/v1/health"): ("management", False),
    ("POST", "/v1/webhooks"): ("management", True),
    ("GET", "/v1/webhooks"): ("management", True),
    ("GET", "/v1/webhooks/{id}"): ("management", True),
    ("PATCH", "/v1/webhooks/{id}"): ("management", True),
    ("DELETE", "/v1/webhooks/{id}"): ("management", True),
    ("GET", "/v1/webhooks/{id}/deliveries"): ("management", True),
    ("POST", "/v1/webhooks/{id}/rotate-secret"): ("management", True),
    ("GET", "/v1/deliveries/{id}"): ("management", True),
    ("GET", "/v1/events/{id}"): ("management", True),
    ("GET", "/v1/event-types"): ("management", True),
    ("GET", "/v1/event-types/{name}"): ("management", True),
}
EXPECTED_ROUTES.update(
    {
        (method, "/v1/applications/{application_id}" + path.removeprefix("/v1")): (target, True)
        for (method, path), (target, authorized) in list(EXPECTED_ROUTES.items())
        if authorized
    }
)
EXPECTED_ROUTES.update(
    {
        ("POST", "/v1/applications"): ("management", True),
        ("GET", "/v1/applications"): ("management", True),
        ("GET", "/v1/applications/{application_id}"): ("management", True),
        ("PATCH", "/v1/applications/{application_id}"): ("management", True),
        ("DELETE", "/v1/applications/{application_id}"): ("management", True),
        ("POST", "/v1/applications/{application_id}/api-keys"): ("management", True),
        ("GET", "/v1/applications/{application_id}/api-keys"): ("management", True),
        ("DELETE", "/v1/applications/{application_id}/api-keys/{key_id}"): ("management", True),
        ("POST", "/v1/applications/{application_id}/portal-sessions"): ("management", True),
        ("POST", "/v1/platform-keys"): ("management", True),
        ("GET", "/v1/platform-keys"): ("management", True),
        ("DELETE", "/v1/platform-keys/{key_id}"): ("management", True),
        ("PUT", "/v1/operational-webhook"): ("management", True),
        ("GET", "/v1/operational-webhook"): ("management", True),
        ("DELETE", "/v1/operational-webhook"): ("management", True),
        # Changes to the deployment's event-type catalog (not mirrored per application).
        ("POST", "/v1/event-types"): ("management", True),
        ("PATCH", "/v1/event-types/{name}"): ("management", True),
        ("DELETE", "/v1/event-types/{name}"): ("management", True),
        # The consumer portal's page, assets and session (not mirrored per application).
        ("GET", "/portal"): ("portal", False),
        ("GET", "/portal/assets/{asset}"): ("portal", False),
        ("GET", "/portal/session"): ("portal", True),
    }
)

EXPECTED_ENVIRONMENT_KEYS = {
    "authorizer": {ENV_TABLE},
    "management": {ENV_TABLE, ENV_STATE_MACHINE, ENV_EVENTS_QUEUE, ENV_DESTINATION_ROLES},
    "ingest": {ENV_TABLE, ENV_EVENTS_QUEUE, ENV_DELIVERIES_QUEUE},
    "fanout": {ENV_TABLE, ENV_DELIVERIES_QUEUE},
    "deliver": {ENV_TABLE, ENV_STATE_MACHINE, ENV_EVENTS_QUEUE, ENV_DESTINATION_ROLES, ENV_DELIVERIES_QUEUE},
}
POWERTOOLS_ENVIRONMENT_KEYS = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL",
    "PYDANTIC_DISABLE_PLUGINS",
}


# --- storage -------------------------------------------------------------------------------


def test_table_has_string_keys_gsi1_on_demand_pitr_ttl_and_encryption(standard_template: Template):
    standard_template.resource_count_is("AWS::DynamoDB::Table", 1)
    standard_template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": Match.array_with(
                    [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                        {"AttributeName": "gsi1pk", "AttributeType": "S"},
                        {"AttributeName": "gsi1sk", "AttributeType": "S"},
                    ]
                ),
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "gsi1",
                        "KeySchema": [
                            {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                            {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                "BillingMode": "PAY_PER_REQUEST",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
                "SSESpecification": {"SSEEnabled": True},
                "DeletionProtectionEnabled": True,
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_deletion_protection_can_be_turned_off(other_profiles):
    unprotected = other_profiles["mutx"].template
    (table,) = resources_of_type(unprotected, "AWS::DynamoDB::Table").values()

    assert table["Properties"]["DeletionProtectionEnabled"] is False
    assert table["DeletionPolicy"] == "Delete"
    (protected_table,) = resources_of_type(other_profiles["miteos"].template, "AWS::DynamoDB::Table").values()
    assert protected_table["Properties"]["DeletionProtectionEnabled"] is True


# --- queues --------------------------------------------------------------------------------


def _queues(template: dict) -> tuple[dict[str, dict], dict[str, dict]]:
    """(main queues, dead-letter queues) by logical id."""
    queues = resources_of_type(template, "AWS::SQS::Queue")
    main = {qid: queue for qid, queue in queues.items() if "RedrivePolicy" in queue["Properties"]}
    return main, {qid: queue for qid, queue in queues.items() if qid not in main}


def test_events_and_deliveries_queues_each_redrive_to_their_own_encrypted_dlq(standard):
    main, dead_letter = _queues(standard.template)

    assert len(main) == 2
    assert len(dead_letter) == 2
    targets = [queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for queue in main.values()]
    assert sorted(targets) == sorted(dead_letter)
    for queue in main.values():
        assert 1 < queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] <= 10
    for queue in (*main.values(), *dead_letter.values()):
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_every_queue_denies_requests_without_tls(standard):
    queues = resources_of_type(standard.template, "AWS::SQS::Queue")
    policies = resources_of_type(standard.template, "AWS::SQS::QueuePolicy").values()
    denied_insecure = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}:
                denied_insecure |= referenced_logical_ids(policy["Properties"]["Queues"])

    assert denied_insecure == set(queues)


@pytest.mark.parametrize("profile_name", ["standard", "miteos", "meetloyd"])
def test_queue_visibility_is_at_least_six_times_its_consumer_timeout(every_profile, profile_name):
    template = every_profile[profile_name].template
    queue_of_consumer = {
        function_name_of(template, mapping["Properties"]["FunctionName"]["Ref"]): (
            mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        )
        for mapping in resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
    }
    functions = functions_by_name(template)

    assert set(queue_of_consumer) == {"fanout", "deliver"}
    for consumer, queue_id in queue_of_consumer.items():
        timeout = functions[consumer][1]["Properties"]["Timeout"]
        assert template["Resources"][queue_id]["Properties"]["VisibilityTimeout"] >= 6 * timeout


# --- functions -----------------------------------------------------------------------------


def test_five_functions_on_python312_arm64_with_the_powertools_layer_and_tracing(standard):
    functions = functions_by_name(standard.template)

    assert set(functions) == set(FUNCTION_NAMES)
    # The five, and the portal's page server (tests/infra/test_infra_portal.py).
    assert len(resources_of_type(standard.template, "AWS::Lambda::Function")) == 6
    for name, (_, function) in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.12"
        assert properties["Architectures"] == ["arm64"]
        assert properties["Handler"] == handler_path(name) == f"functions.{name}.handler.handler"
        assert properties["TracingConfig"] == {"Mode": "Active"}
        (layer,) = properties["Layers"]
        layer_arn = "".join(part if isinstance(part, str) else "{region}" for part in layer["Fn::Join"][1])
        assert layer_arn.startswith("arn:aws:lambda:{region}:017000801446:layer:")
        assert ":layer:AWSLambdaPowertoolsPythonV3-python312-arm64:" in layer_arn
        assert int(layer_arn.rsplit(":", 1)[1]) > 0


def test_all_functions_share_one_code_asset(standard):
    functions = functions_by_name(standard.template).values()

    assert len({repr(function["Properties"]["Code"]) for _, function in functions}) == 1


def test_each_function_gets_only_the_settings_it_needs(standard):
    for name, (_, function) in functions_by_name(standard.template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert set(variables) == EXPECTED_ENVIRONMENT_KEYS[name] | POWERTOOLS_ENVIRONMENT_KEYS
        assert variables["POWERTOOLS_SERVICE_NAME"] == service_name(name) == name
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Dovecote"
        assert variables["LOG_LEVEL"] in {"DEBUG", "INFO", "WARNING", "ERROR"}


def test_queue_url_settings_point_at_the_right_queues(standard):
    functions = functions_by_name(standard.template)
    main, _ = _queues(standard.template)
    consumed_by = {
        function_name_of(standard.template, mapping["Properties"]["FunctionName"]["Ref"]): (
            mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        )
        for mapping in resources_of_type(standard.template, "AWS::Lambda::EventSourceMapping").values()
    }
    events_queue, deliveries_queue = consumed_by["fanout"], consumed_by["deliver"]

    assert {events_queue, deliveries_queue} == set(main)
    ingest = functions["ingest"][1]["Properties"]["Environment"]["Variables"]
    assert ingest[ENV_EVENTS_QUEUE] == {"Ref": events_queue}
    assert ingest[ENV_DELIVERIES_QUEUE] == {"Ref": deliveries_queue}
    fanout = functions["fanout"][1]["Properties"]["Environment"]["Variables"]
    assert fanout[ENV_DELIVERIES_QUEUE] == {"Ref": deliveries_queue}
    deliver = functions["deliver"][1]["Properties"]["Environment"]["Variables"]
    assert deliver[ENV_DELIVERIES_QUEUE] == {"Ref": deliveries_queue}  # rate-limited deliveries go back to it
    for emitter in ("deliver", "management"):  # operational events go through the events queue
        assert functions[emitter][1]["Properties"]["Environment"]["Variables"][ENV_EVENTS_QUEUE] == {
            "Ref": events_queue
        }


def test_only_the_functions_that_emit_operational_events_may_put_them_on_the_default_bus_and_queue_them(standard):
    functions = functions_by_name(standard.template)
    main, _ = _queues(standard.template)
    events_queue = functions["ingest"][1]["Properties"]["Environment"]["Variables"][ENV_EVENTS_QUEUE]["Ref"]
    assert events_queue in main
    for name, (logical_id, _) in functions.items():
        statements = role_statements(standard.template, logical_id)
        put_events = statements_allowing(statements, "events:PutEvents")
        sends = statements_allowing(statements, "sqs:SendMessage")
        sends_events = [s for s in sends if events_queue in referenced_logical_ids(s["Resource"])]
        if name in {"deliver", "management"}:
            [granted] = put_events
            assert json.dumps(granted["Resource"]).endswith(':event-bus/default"]]}')  # that bus only
            assert sends_events, f"{name} cannot queue operational events"
        else:
            assert put_events == [], f"{name} may put events on the bus"
            assert bool(sends_events) == (name == "ingest")


@pytest.mark.parametrize("profile_name", ["standard", "miteos", "meetloyd"])
def test_deliver_timeout_is_the_profile_attempt_timeout_plus_a_margin_the_rate_limit_wait_and_the_member_hold(
    every_profile, profile_name
):
    synthesized = every_profile[profile_name]
    functions = functions_by_name(synthesized.template)
    attempt_timeout = synthesized.profile.attempt_timeout_seconds

    deliver_timeout = functions["deliver"][1]["Properties"]["Timeout"]

    assert deliver_timeout == math.ceil(attempt_timeout) + 10 + RATE_LIMIT_WAIT_SECONDS + MAX_MEMBER_HOLD_SECONDS
    assert functions["deliver"][1]["Properties"]["MemorySize"] >= 512


def test_api_facing_functions_fit_the_http_api_integration_timeout(standard):
    functions = functions_by_name(standard.template)

    for name in ("authorizer", "management", "ingest"):
        assert functions[name][1]["Properties"]["Timeout"] < 30
        assert functions[name][1]["Properties"]["MemorySize"] >= 128


def test_queue_consumers_report_batch_item_failures(standard_template: Template, standard):
    functions = functions_by_name(standard.template)
    for consumer, batch_size in (("fanout", EVENTS_BATCH_SIZE), ("deliver", DELIVERIES_BATCH_SIZE)):
        standard_template.has_resource_properties(
            "AWS::Lambda::EventSourceMapping",
            {
                "FunctionName": {"Ref": functions[consumer][0]},
                "BatchSize": batch_size,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumBatchingWindowInSeconds": Match.any_value(),
            },
        )
    for mapping in resources_of_type(standard.template, "AWS::Lambda::EventSourceMapping").values():
        assert 0 < mapping["Properties"]["MaximumBatchingWindowInSeconds"] <= 5


# --- API -----------------------------------------------------------------------------------


def test_routes_data_is_the_issue_route_list():
    assert {(route.method, route.path): (route.target, route.authorized) for route in ROUTES} == EXPECTED_ROUTES
    assert len(ROUTES) == len(EXPECTED_ROUTES)


def test_every_route_reaches_its_function_with_or_without_the_authorizer(standard):
    template = standard.template
    (authorizer_id,) = resources_of_type(template, "AWS::ApiGatewayV2::Authorizer")
    integrations = resources_of_type(template, "AWS::ApiGatewayV2::Integration")
    synthesized_routes = {}
    for route in resources_of_type(template, "AWS::ApiGatewayV2::Route").values():
        properties = route["Properties"]
        if properties["RouteKey"] == DEFAULT_ROUTE_KEY:
            continue  # test_requests_no_route_takes_reach_the_management_function_through_the_authorizer
        method, path = properties["RouteKey"].split(" ", 1)
        integration_id = properties["Target"]["Fn::Join"][1][1]["Ref"]
        function_id = integrations[integration_id]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        authorized = properties["AuthorizationType"] == "CUSTOM"
        if authorized:
            assert properties["AuthorizerId"] == {"Ref": authorizer_id}
        else:
            assert properties["AuthorizationType"] == "NONE"
            assert "AuthorizerId" not in properties
        target = "portal" if function_id == portal_function_id(template) else function_name_of(template, function_id)
        synthesized_routes[(method, path)] = (target, authorized)

    assert synthesized_routes == EXPECTED_ROUTES


def test_requests_no_route_takes_reach_the_management_function_through_the_authorizer(standard):
    template = standard.template
    (authorizer_id,) = resources_of_type(template, "AWS::ApiGatewayV2::Authorizer")
    integrations = resources_of_type(template, "AWS::ApiGatewayV2::Integration")
    (default_route,) = [
        route["Properties"]
        for route in resources_of_type(template, "AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["RouteKey"] == "$default"
    ]

    integration_id = default_route["Target"]["Fn::Join"][1][1]["Ref"]
    function_id = integrations[integration_id]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
    assert function_name_of(template, function_id) == "management"
    assert default_route["AuthorizationType"] == "CUSTOM"
    assert default_route["AuthorizerId"] == {"Ref": authorizer_id}


def test_authorizer_is_a_cached_simple_lambda_authorizer_on_the_authorization_header(standard_template, standard):
    standard_template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "REQUEST",
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": True,
            "IdentitySource": ["$request.header.Authorization"],
            "AuthorizerResultTtlInSeconds": 60,
        },
    )
    (authorizer,) = resources_of_type(standard.template, "AWS::ApiGatewayV2::Authorizer").values()
    authorizer_function_id = functions_by_name(standard.template)["authorizer"][0]
    assert referenced_logical_ids(authorizer["Properties"]["AuthorizerUri"]) == {authorizer_function_id}


def test_http_api_stage_logs_json_access_lines_and_throttles(standard):
    (stage,) = resources_of_type(standard.template, "AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    log_format = properties["AccessLogSettings"]["Format"]

    assert properties["StageName"] == "$default"
    assert properties["AutoDeploy"] is True
    assert properties["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0] in resources_of_type(
        standard.template, "AWS::Logs::LogGroup"
    )
    fields = json.loads(log_format)
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    throttle = properties["DefaultRouteSettings"]
    assert throttle["ThrottlingBurstLimit"] > 0
    assert throttle["ThrottlingRateLimit"] > 0


# --- observability -------------------------------------------------------------------------


def test_dashboard_shows_deliveries_functions_queues_and_executions(standard):
    (dashboard,) = resources_of_type(standard.template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    text = body if isinstance(body, str) else "".join(part for part in body["Fn::Join"][1] if isinstance(part, str))

    for expected in (
        f'"{metric_names.NAMESPACE}","{metric_names.DELIVERIES_SUCCEEDED}","service","{service_name("deliver")}"',
        f'"{metric_names.NAMESPACE}","{metric_names.DELIVERIES_FAILED}","service","{service_name("deliver")}"',
        '"AWS/Lambda","Errors"',
        '"AWS/Lambda","Duration"',
        '"AWS/SQS","ApproximateNumberOfMessagesVisible"',
        '"AWS/States","ExecutionsFailed"',
        '"AWS/States","ExecutionsStarted"',
    ):
        assert expected in text


def test_alarms_on_each_dlq_deliver_errors_and_failed_executions_notify_the_topic(standard):
    template = standard.template
    alarms = list(resources_of_type(template, "AWS::CloudWatch::Alarm").values())
    (topic_id,) = resources_of_type(template, "AWS::SNS::Topic")
    _, dead_letter = _queues(template)
    deliver_id = functions_by_name(template)["deliver"][0]

    def alarms_on(namespace: str, metric: str) -> list[dict]:
        return [
            alarm
            for alarm in alarms
            if alarm["Properties"]["Namespace"] == namespace and alarm["Properties"]["MetricName"] == metric
        ]

    dlq_alarms = alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert sorted(referenced_logical_ids(alarm["Properties"]["Dimensions"]).pop() for alarm in dlq_alarms) == sorted(
        dead_letter
    )
    for alarm in dlq_alarms:
        assert alarm["Properties"]["Threshold"] == 0
        assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
    (errors_alarm,) = alarms_on("AWS/Lambda", "Errors")
    assert referenced_logical_ids(errors_alarm["Properties"]["Dimensions"]) == {deliver_id}
    (executions_alarm,) = alarms_on("AWS/States", "ExecutionsFailed")
    assert executions_alarm["Properties"]["Threshold"] == 0
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_alarm_topic_is_encrypted_and_refuses_plain_http(standard):
    template = standard.template
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()
    (key,) = resources_of_type(template, "AWS::KMS::Key").values()
    (topic_policy,) = resources_of_type(template, "AWS::SNS::TopicPolicy").values()

    assert "KmsMasterKeyId" in topic["Properties"]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert any(
        statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in topic_policy["Properties"]["PolicyDocument"]["Statement"]
    )
    cloudwatch_statements = [
        statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch_statements
