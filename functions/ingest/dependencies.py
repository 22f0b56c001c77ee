"""What the ingest routes need, built on first use and kept for the life of the container.

Nothing runs at import time: settings are read and clients built by the first request.
Tests install their own container with `use_dependencies(...)` or drop the cached one
with `reset_dependencies()`.
"""

# ruff: noqa: PLC0415 - imports are deferred to first use to keep the cold start small

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from functions.runtime.lazy import LazyDependencies

if TYPE_CHECKING:
    from functions.pipeline.publishing import EventPublisher
    from functions.pipeline.redelivery import Redelivery
    from functions.runtime.settings import Settings


@dataclass(frozen=True)
class IngestDependencies:
    settings: Settings
    publisher: EventPublisher
    redelivery: Redelivery


def build_dependencies() -> IngestDependencies:
    """From the environment (functions/runtime/settings.py), with boto3 clients for this region."""
    from functions.core.catalog import EventCatalog
    from functions.pipeline.publishing import EventPublisher
    from functions.runtime.clients import aws_clients
    from functions.runtime.lazy import built_on_first_use
    from functions.runtime.settings import Settings
    from functions.store.event_types import EventTypeStore
    from functions.store.events import EventStore
    from functions.store.queues import Queue

    settings = Settings.for_function("ingest")
    clients = aws_clients("dynamodb", "sqs")
    dynamodb, sqs = clients["dynamodb"], clients["sqs"]
    events_queue = Queue(sqs, settings.events_queue_url)
    publisher = EventPublisher(
        events_queue=events_queue,
        events=EventStore(dynamodb, settings.table_name),
        profile=settings.profile,
        catalog=EventCatalog(settings.profile.event_types, EventTypeStore(dynamodb, settings.table_name)),
    )

    def redelivery() -> Redelivery:
        from functions.pipeline.redelivery import Redelivery
        from functions.store.deliveries import DeliveryStore
        from functions.store.webhooks import WebhookStore

        return Redelivery(
            deliveries=DeliveryStore(dynamodb, settings.table_name),
            webhooks=WebhookStore(dynamodb, settings.table_name),
            publisher=publisher,
            deliveries_queue=Queue(sqs, settings.deliveries_queue_url),
            profile=settings.profile,
        )

    # Only the test, retry and recover routes use it: POST /v1/events (the hot route) never imports it.
    return IngestDependencies(settings=settings, publisher=publisher, redelivery=built_on_first_use(redelivery))


_container: LazyDependencies[IngestDependencies] = LazyDependencies(build_dependencies)
dependencies = _container.get
use_dependencies = _container.install
reset_dependencies = _container.reset
