"""What the management routes need, built on first use and kept for the life of the container.

Nothing here runs at import time: settings are read, clients built and store modules
imported when a route first asks, so a request pays only for what its route uses (the
Step Functions client, for instance, is built only when retries must be cancelled).
Tests install their own container with `use_dependencies(...)` and drop it with
`reset_dependencies()`.
"""

# ruff: noqa: PLC0415 - imports are deferred to first use to keep the cold start small

from __future__ import annotations

import importlib
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from functions.runtime.lazy import LazyDependencies

if TYPE_CHECKING:
    from collections.abc import Callable

    from functions.core.catalog import EventCatalog
    from functions.core.urls import Resolver
    from functions.management.webhooks import EndpointRules
    from functions.pipeline.operational import OperationalEvents
    from functions.runtime.settings import Settings
    from functions.store.api_keys import ApiKeyStore
    from functions.store.applications import ApplicationStore
    from functions.store.deliveries import DeliveryStore
    from functions.store.events import EventStore
    from functions.store.executions import RetryExecutions
    from functions.store.webhooks import WebhookStore


StoreT = TypeVar("StoreT")


class _TableStore(Generic[StoreT]):
    """A store of the table, built on first use like a cached_property: `module:Class`, which takes
    the DynamoDB client and the table name (the module is imported then, not at cold start)."""

    def __init__(self, store: str) -> None:
        self._module, self._class = store.split(":")

    def __set_name__(self, owner: type[ManagementDependencies], name: str) -> None:
        self._name = name

    def __get__(self, container: ManagementDependencies, owner: type[ManagementDependencies]) -> StoreT:
        store_class = getattr(importlib.import_module(self._module), self._class)
        store: StoreT = store_class(container._dynamodb, container.settings.table_name)
        container.__dict__[self._name] = store
        return store


class ManagementDependencies:
    def __init__(
        self,
        settings: Settings,
        dynamodb: Any,
        stepfunctions: Callable[[], Any],
        url_resolver: Resolver | None = None,
    ) -> None:
        """`url_resolver` replaces DNS in the endpoint URL check (tests); None uses the system's."""
        self.settings = settings
        self._dynamodb = dynamodb
        self._stepfunctions = stepfunctions
        self._url_resolver = url_resolver

    applications: _TableStore[ApplicationStore] = _TableStore("functions.store.applications:ApplicationStore")
    api_keys: _TableStore[ApiKeyStore] = _TableStore("functions.store.api_keys:ApiKeyStore")
    webhooks: _TableStore[WebhookStore] = _TableStore("functions.store.webhooks:WebhookStore")
    deliveries: _TableStore[DeliveryStore] = _TableStore("functions.store.deliveries:DeliveryStore")
    events: _TableStore[EventStore] = _TableStore("functions.store.events:EventStore")

    @cached_property
    def catalog(self) -> EventCatalog:
        from functions.core.catalog import EventCatalog
        from functions.store.event_types import EventTypeStore

        store = EventTypeStore(self._dynamodb, self.settings.table_name)
        return EventCatalog(self.settings.profile.event_types, store)

    @cached_property
    def executions(self) -> RetryExecutions:
        from functions.store.executions import RetryExecutions

        return RetryExecutions(self._stepfunctions(), self.settings.retry_state_machine_arn)

    @cached_property
    def operational(self) -> OperationalEvents:
        """Operational events (endpoint.disabled, endpoint.enabled) of changes made through the API."""
        from functions.pipeline.operational import OperationalEvents
        from functions.runtime.clients import aws_client
        from functions.store.event_bus import DefaultEventBus
        from functions.store.queues import Queue

        return OperationalEvents(
            events=self.events,
            events_queue=Queue(aws_client("sqs"), self.settings.events_queue_url),
            bus=DefaultEventBus(aws_client("events")),
            webhooks=self.webhooks,
            retention_days=self.settings.profile.event_retention_days,
        )

    @cached_property
    def endpoint_rules(self) -> EndpointRules:
        from functions.core.destinations import DEFAULT_ROLE_PATTERN
        from functions.core.urls import UrlPolicy, system_resolver, validate_endpoint_url
        from functions.management.webhooks import EndpointRules

        profile = self.settings.profile
        policy = UrlPolicy(https_only=profile.https_only, allow_loopback=self.settings.allow_http_loopback)
        resolver = self._url_resolver or system_resolver
        return EndpointRules(
            profile=profile,
            check_url=lambda url: validate_endpoint_url(url, policy, resolver),
            role_pattern=self.settings.destination_roles or DEFAULT_ROLE_PATTERN,
            catalog_names=lambda: {entry.event_type.name for entry in self.catalog.list()},
        )


def build_dependencies() -> ManagementDependencies:
    """From the environment (functions/runtime/settings.py), with boto3 clients for this region."""
    from functions.runtime.clients import aws_client
    from functions.runtime.settings import Settings

    return ManagementDependencies(
        settings=Settings.for_function("management"),
        dynamodb=aws_client("dynamodb"),
        stepfunctions=lambda: aws_client("stepfunctions"),
    )


_container: LazyDependencies[ManagementDependencies] = LazyDependencies(build_dependencies)
dependencies = _container.get
use_dependencies = _container.install
reset_dependencies = _container.reset
