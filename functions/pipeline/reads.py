"""Endpoints and events read once per invocation, whose deliveries often share them
(several events to one endpoint, one event to several endpoints); a batch's deliveries,
endpoints and events read together, in two BatchGetItem requests instead of a GetItem each."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from functions.core.health import HealthView
from functions.core.models import Delivery, Event, Webhook
from functions.pipeline.contract import DeliveryRef
from functions.runtime.observability import logger as service_logger
from functions.store.batch_reads import BatchReader, item_key
from functions.store.deliveries import with_attempt_keys
from functions.store.events import EventStore, stored_event
from functions.store.table import delivery_key, event_key, webhook_key
from functions.store.webhooks import WebhookStore, webhook_of

log = service_logger(child=True)

EndpointKey = tuple[str, str]
"""(application id, webhook id)."""
EventKey = tuple[str, str]
"""(application id, event id)."""


@dataclass(frozen=True)
class Prefetched:
    """A delivery's row as the batch read it (before any attempt of this invocation)."""

    found: tuple[Delivery, frozenset[str]] | None
    """The delivery and its logged attempt keys; None: it is not stored."""


class _Memo:
    """Each key loaded at most once, also when threads ask for it at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], Future[Any]] = {}

    def get(self, key: tuple[str, str], load: Callable[[str, str], Any]) -> Any:
        with self._lock:
            future = self._loaded.get(key)
            owner = future is None
            if future is None:
                future = self._loaded[key] = Future()
        if owner:
            try:
                future.set_result(load(*key))
            except BaseException as error:
                future.set_exception(error)
        return future.result()

    def put(self, key: tuple[str, str], value: Any) -> None:
        """Known without loading it (read in a batch): kept unless it was loaded already."""
        with self._lock:
            if key not in self._loaded:
                future: Future[Any] = Future()
                future.set_result(value)
                self._loaded[key] = future


class SharedReads:
    """Made per invocation (an SQS batch or one task), so a change is seen by the next one."""

    def __init__(self, webhooks: WebhookStore, events: EventStore, batch: BatchReader | None = None) -> None:
        self._webhooks = webhooks
        self._events = events
        self._batch = batch
        self._memo_webhooks = _Memo()
        self._memo_events = _Memo()
        self._deliveries: dict[tuple[str, str], Prefetched] = {}
        self._deliveries_lock = threading.Lock()
        self.health = HealthView()
        """The endpoints' health as this invocation's attempts left it (functions/core/health.py)."""

    def webhook(self, application_id: str, webhook_id: str) -> Webhook | None:
        return self._memo_webhooks.get((application_id, webhook_id), self._webhooks.find)

    def event(self, application_id: str, event_id: str) -> Event | None:
        return self._memo_events.get((application_id, event_id), self._events.find)

    def prefetch(
        self, refs: Collection[DeliveryRef], endpoints: Collection[EndpointKey], events: Collection[EventKey]
    ) -> None:
        """Read the deliveries of `refs` and the endpoints they go to (strongly consistent, as a GetItem
        of each would), then their events (eventually consistent): from the given keys and from the
        rows found. What a request left unread is read one by one when asked for, as without a batch."""
        if self._batch is None or not refs:
            return
        try:
            self._prefetch(self._batch, refs, endpoints, events)
        except Exception as error:  # only a saving: what was not read is read one by one
            log.warning("batch read failed", extra={"error": type(error).__name__})

    def _prefetch(
        self,
        batch: BatchReader,
        refs: Collection[DeliveryRef],
        endpoints: Collection[EndpointKey],
        events: Collection[EventKey],
    ) -> None:
        by_delivery = {item_key(delivery_key(r.application_id, r.delivery_id)): r for r in refs}
        by_endpoint = {item_key(webhook_key(*endpoint)): endpoint for endpoint in endpoints}
        read = batch.get_many(
            [delivery_key(r.application_id, r.delivery_id) for r in refs]
            + [webhook_key(*endpoint) for endpoint in endpoints],
            consistent=True,
        )
        wanted_events = set(events)
        with self._deliveries_lock:
            for key, ref in by_delivery.items():
                if not read.knows(key):
                    continue
                item = read.found.get(key)
                found = with_attempt_keys(item) if item else None
                self._deliveries[(ref.application_id, ref.delivery_id)] = Prefetched(found)
                if found is not None:
                    wanted_events.add((ref.application_id, found[0].event_id))
        for key, endpoint in by_endpoint.items():
            if read.knows(key):
                item = read.found.get(key)
                self._memo_webhooks.put(endpoint, webhook_of(item) if item else None)
        if not wanted_events:
            return
        by_event = {item_key(event_key(*event)): event for event in wanted_events}
        read = batch.get_many([event_key(*event) for event in wanted_events], consistent=False)
        for key, event in by_event.items():
            if read.knows(key):
                item = read.found.get(key)
                self._memo_events.put(event, stored_event(item).event if item else None)

    def prefetched(self, ref: DeliveryRef) -> Prefetched | None:
        """The delivery's row from `prefetch`, once: a second attempt in this invocation reads it anew."""
        with self._deliveries_lock:
            return self._deliveries.pop((ref.application_id, ref.delivery_id), None)
