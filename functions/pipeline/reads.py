"""Endpoints and events read once per invocation, whose deliveries often share them
(several events to one endpoint, one event to several endpoints)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from functions.core.health import HealthView
from functions.core.models import Event, Webhook
from functions.store.events import EventStore
from functions.store.webhooks import WebhookStore


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


class SharedReads:
    """Made per invocation (an SQS batch or one task), so a change is seen by the next one."""

    def __init__(self, webhooks: WebhookStore, events: EventStore) -> None:
        self._webhooks = webhooks
        self._events = events
        self._memo_webhooks = _Memo()
        self._memo_events = _Memo()
        self.health = HealthView()
        """The endpoints' health as this invocation's attempts left it (functions/core/health.py)."""

    def webhook(self, application_id: str, webhook_id: str) -> Webhook | None:
        return self._memo_webhooks.get((application_id, webhook_id), self._webhooks.find)

    def event(self, application_id: str, event_id: str) -> Event | None:
        return self._memo_events.get((application_id, event_id), self._events.find)
