"""The Dovecote stack: storage, queues, functions, retry state machine, API, observability."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from functions.core.profile import Profile
from functions.portal.branding import PortalBranding
from infra.api import Api
from infra.destinations import DestinationRoles, role_pattern_from_context
from infra.egress import StaticEgress, egress_from_context
from infra.functions import MAX_BATCHING_WINDOW, Functions, function_specs
from infra.observability import Observability
from infra.portal import Portal, branding_from_context
from infra.queues import Queues
from infra.retries import RetryStateMachine
from infra.routes import routes_for
from infra.storage import Storage

STACK_NAME = "Dovecote"


class DovecoteStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        profile: Profile,
        deletion_protection: bool = True,
        alarm_email: str | None = None,
        portal_branding: PortalBranding | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Dovecote outbound webhook delivery (profile {profile.name})",
            **kwargs,
        )
        self.profile = profile
        specs = function_specs(profile)
        self.storage = Storage(self, "Storage", deletion_protection=deletion_protection)
        self.queues = Queues(
            self,
            "Queues",
            events_consumer_timeout=specs["fanout"].timeout,
            deliveries_consumer_timeout=specs["deliver"].timeout,
            batching_window=MAX_BATCHING_WINDOW,
        )
        egress = egress_from_context(self)
        self.egress = StaticEgress(self, "Egress", nat_gateways=egress.nat_gateways) if egress.enabled else None
        self.functions = Functions(
            self, "Functions", profile=profile, storage=self.storage, queues=self.queues, egress=self.egress
        )
        self.destinations = DestinationRoles(
            self,
            "Destinations",
            deliver=self.functions.deliver,
            management=self.functions.management,
            pattern=role_pattern_from_context(self),
        )
        self.retries = RetryStateMachine(self, "Retries", profile=profile, deliver=self.functions.deliver)
        self.portal = Portal(
            self, "Portal", code=self.functions.code, branding=portal_branding or branding_from_context(self)
        )
        self.api = Api(
            self,
            "Api",
            authorizer=self.functions.authorizer,
            targets={
                "management": self.functions.management,
                "ingest": self.functions.ingest,
                "portal": self.portal.function,
            },
            routes=routes_for(profile.api),
        )
        self.observability = Observability(
            self,
            "Observability",
            functions=self.functions.by_name,
            queues={"events": self.queues.events, "deliveries": self.queues.deliveries},
            dead_letter_queues={"events": self.queues.events_dlq, "deliveries": self.queues.deliveries_dlq},
            retry_state_machine=self.retries.state_machine,
            alarm_email=alarm_email,
        )

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the HTTP API (routes start at /v1)")
        CfnOutput(
            self,
            "PortalUrl",
            value=f"{self.api.url}portal",
            description="The consumer portal: open a portal session url (POST /v1/applications/{app}/portal-sessions)",
        )
        CfnOutput(self, "TableName", value=self.storage.table.table_name)
        CfnOutput(self, "RetryStateMachineArn", value=self.retries.state_machine.state_machine_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.observability.alarm_topic.topic_arn)
