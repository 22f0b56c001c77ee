"""Dashboard and alarms: delivery outcomes, function health, queue depth, retry executions."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from functions.core import metrics as metric_names
from infra.functions import METRICS_NAMESPACE
from infra.handlers import FunctionName, service_name

# Emitted by the deliver function with Powertools Metrics (namespace Dovecote, dimension
# service=deliver) when a delivery reaches its final state.
DELIVERY_SUCCEEDED_METRIC = metric_names.DELIVERIES_SUCCEEDED
DELIVERY_FAILED_METRIC = metric_names.DELIVERIES_FAILED
DELIVER_SERVICE = service_name("deliver")

PERIOD = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[FunctionName, lambda_.Function],
        queues: dict[str, sqs.IQueue],
        dead_letter_queues: dict[str, sqs.IQueue],
        retry_state_machine: sfn.StateMachine,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarm_topic = self._alarm_topic(alarm_email)
        alarm_action = cloudwatch_actions.SnsAction(self.alarm_topic)

        self.alarms = [
            *(
                self._alarm_above_zero(
                    f"{name.capitalize()}DlqNotEmpty",
                    f"Messages in the {name} dead-letter queue: they exhausted their receives.",
                    dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                )
                for name, dlq in dead_letter_queues.items()
            ),
            self._alarm_above_zero(
                "DeliverErrors",
                "The deliver function raised errors (not endpoint failures: those are retried).",
                functions["deliver"].metric_errors(period=PERIOD),
            ),
            self._alarm_above_zero(
                "RetryExecutionsFailed",
                "Retry executions failed: their deliveries may not have been marked failed.",
                retry_state_machine.metric_failed(period=PERIOD),
            ),
        ]
        for alarm in self.alarms:
            alarm.add_alarm_action(alarm_action)

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Deliveries",
                left=[_delivery_metric(DELIVERY_SUCCEEDED_METRIC), _delivery_metric(DELIVERY_FAILED_METRIC)],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Retry executions",
                left=[
                    retry_state_machine.metric_started(period=PERIOD),
                    retry_state_machine.metric_succeeded(period=PERIOD),
                    retry_state_machine.metric_failed(period=PERIOD),
                    retry_state_machine.metric_aborted(period=PERIOD),
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[fn.metric_errors(period=PERIOD, label=name) for name, fn in functions.items()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function duration p99",
                left=[fn.metric_duration(period=PERIOD, statistic="p99", label=name) for name, fn in functions.items()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function throttles",
                left=[fn.metric_throttles(period=PERIOD, label=name) for name, fn in functions.items()],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Queue depth",
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), label=name)
                    for name, queue in {**queues, **{f"{k} DLQ": v for k, v in dead_letter_queues.items()}}.items()
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Oldest message age",
                left=[
                    queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1), label=name)
                    for name, queue in queues.items()
                ],
                width=12,
            ),
        )

    def _alarm_above_zero(self, alarm_id: str, description: str, metric: cloudwatch.IMetric) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_description=description,
            metric=metric,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _alarm_topic(self, alarm_email: str | None) -> sns.Topic:
        # CloudWatch cannot publish to a topic under the AWS-managed SNS key, so the topic
        # gets its own key whose policy lets CloudWatch use it.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Dovecote alarm topic encryption",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        topic = sns.Topic(self, "AlarmTopic", display_name="Dovecote alarms", master_key=key, enforce_ssl=True)
        if alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        return topic


def _delivery_metric(metric_name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"service": DELIVER_SERVICE},
        statistic="Sum",
        period=PERIOD,
    )
