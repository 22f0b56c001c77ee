"""Dovecote API clients: `Dovecote` (blocking) and `AsyncDovecote` (asyncio).

    from dovecote import Dovecote

    with Dovecote() as dovecote:  # DOVECOTE_API_URL and DOVECOTE_API_KEY from the environment
        hook = dovecote.webhooks.create("https://example.com/hooks", ["order.created"])
        print(hook.secret)  # shown only here and on rotate_secret
        dovecote.events.send("order.created", {"order_id": "o_1"})
        for delivery in dovecote.webhooks.deliveries(hook.id, status="failed"):
            print(delivery.id, delivery.error)

`AsyncDovecote` has the same resources and methods, awaitable; its list methods return
pages that `async for` walks across pages.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar
from urllib.parse import quote

from pydantic import ValidationError

from dovecote._errors import APIError
from dovecote._models import (
    DeletedWebhook,
    Delivery,
    DovecoteObject,
    Event,
    EventType,
    Recovery,
    Webhook,
    WebhookWithSecret,
)
from dovecote._pagination import AsyncListPage, ListPage
from dovecote._transport import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_MAX_RETRIES,
    ClientSettings,
    Transport,
)

ModelT = TypeVar("ModelT", bound=DovecoteObject)
P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "AsyncDeliveries",
    "AsyncDovecote",
    "AsyncEventTypes",
    "AsyncEvents",
    "AsyncWebhooks",
    "Deliveries",
    "Dovecote",
    "EventTypes",
    "Events",
    "Webhooks",
]


def _path(template: str, *ids: str) -> str:
    """Fill `{}` slots with ids escaped as single path segments."""
    return template.format(*(quote(str(object_id), safe="") for object_id in ids))


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _event_list(events: Sequence[str] | None) -> list[str] | None:
    if events is None:
        return None
    return [events] if isinstance(events, str) else list(events)


def _parse(model: type[ModelT], body: Any) -> ModelT:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise APIError(
            f"unexpected {model.__name__} in the API's answer: {exc.error_count()} invalid field(s)",
            error_type="invalid_response",
        ) from exc


def _parse_page(
    model: type[ModelT], body: Any, fetch_page: Callable[[str], ListPage[ModelT]] | None = None
) -> ListPage[ModelT]:
    try:
        return ListPage.from_api(body, model, fetch_page)
    except (ValidationError, ValueError) as exc:
        message = f"unexpected list of {model.__name__} in the API's answer"
        raise APIError(message, error_type="invalid_response") from exc


def _iso_timestamp(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        raise ValueError("since: give a timezone-aware datetime (e.g. datetime.now(UTC))")
    return moment.isoformat()


class _Resource:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport


class Webhooks(_Resource):
    """Endpoints that receive events: `client.webhooks`."""

    def create(
        self,
        url: str,
        events: Sequence[str],
        *,
        description: str | None = None,
        secret: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookWithSecret:
        """Register an endpoint for the given event types; the result carries the signing secret.

        Not retried automatically: a repeat could register the endpoint twice.
        """
        body = _without_none(
            {
                "url": url,
                "events": _event_list(events),
                "description": description,
                "secret": secret,
                "enabled": enabled,
            }
        )
        response = self._transport.request("POST", "/v1/webhooks", json_body=body, retryable=False)
        return _parse(WebhookWithSecret, response)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> ListPage[Webhook]:
        """A page of webhooks; iterating it walks every following page too."""
        body = self._transport.request("GET", "/v1/webhooks", params={"limit": limit, "cursor": cursor}, retryable=True)
        return _parse_page(Webhook, body, lambda next_cursor: self.list(limit=limit, cursor=next_cursor))

    def get(self, webhook_id: str) -> Webhook:
        return _parse(Webhook, self._transport.request("GET", _path("/v1/webhooks/{}", webhook_id), retryable=True))

    def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> Webhook:
        """Change the given fields; fields left as None keep their value."""
        body = _without_none(
            {"url": url, "events": _event_list(events), "description": description, "enabled": enabled}
        )
        response = self._transport.request(
            "PATCH", _path("/v1/webhooks/{}", webhook_id), json_body=body, retryable=True
        )
        return _parse(Webhook, response)

    def delete(self, webhook_id: str) -> DeletedWebhook:
        """Delete the endpoint; its pending retries are cancelled."""
        response = self._transport.request("DELETE", _path("/v1/webhooks/{}", webhook_id), retryable=True)
        return _parse(DeletedWebhook, response)

    def deliveries(
        self,
        webhook_id: str,
        *,
        status: str | None = None,
        event: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ListPage[Delivery]:
        """A page of the endpoint's deliveries, newest first, optionally filtered.

        `status` is one of succeeded, failed, pending, cancelled; `event` an event type.
        """

        def fetch(page_cursor: str | None) -> ListPage[Delivery]:
            body = self._transport.request(
                "GET",
                _path("/v1/webhooks/{}/deliveries", webhook_id),
                params={"status": status, "event": event, "limit": limit, "cursor": page_cursor},
                retryable=True,
            )
            return _parse_page(Delivery, body, fetch)

        return fetch(cursor)

    def test(self, webhook_id: str) -> Event:
        """Send a test event to this endpoint only; returns the event that was queued."""
        response = self._transport.request("POST", _path("/v1/webhooks/{}/test", webhook_id), retryable=False)
        return _parse(Event, response)

    def rotate_secret(self, webhook_id: str) -> WebhookWithSecret:
        """Issue a new signing secret; the old one keeps signing for a grace period."""
        response = self._transport.request("POST", _path("/v1/webhooks/{}/rotate-secret", webhook_id), retryable=False)
        return _parse(WebhookWithSecret, response)

    def recover(self, webhook_id: str, since: datetime | str) -> Recovery:
        """Re-send the endpoint's failed deliveries created since `since` (aware datetime or ISO-8601)."""
        response = self._transport.request(
            "POST",
            _path("/v1/webhooks/{}/recover", webhook_id),
            json_body={"since": _iso_timestamp(since)},
            retryable=False,
        )
        return _parse(Recovery, response)


class Deliveries(_Resource):
    """One event sent to one endpoint, with its attempts: `client.deliveries`."""

    def get(self, delivery_id: str) -> Delivery:
        """The delivery with every attempt (`.attempts`)."""
        response = self._transport.request("GET", _path("/v1/deliveries/{}", delivery_id), retryable=True)
        return _parse(Delivery, response)

    def retry(self, delivery_id: str) -> Delivery:
        """Start a new series of attempts now. Not retried automatically: a repeat starts another."""
        response = self._transport.request("POST", _path("/v1/deliveries/{}/retry", delivery_id), retryable=False)
        return _parse(Delivery, response)


class Events(_Resource):
    """Events published to subscribed endpoints: `client.events`."""

    def send(
        self,
        type: str,
        data: Any,
        *,
        id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Event:
        """Publish an event to every endpoint subscribed to `type`.

        Safe to retry: the API deduplicates on `id` and on the `Idempotency-Key` header.
        When no `idempotency_key` is given the SDK generates one per call and reuses it
        for its own automatic retries, so a retried send never publishes the event twice.
        Pass your own key (or an `id`) to make retries across processes safe as well.
        """
        headers = {"Idempotency-Key": idempotency_key or f"dvc_{uuid.uuid4().hex}"}
        body = _without_none({"type": type, "data": data, "id": id})
        response = self._transport.request("POST", "/v1/events", json_body=body, headers=headers, retryable=True)
        return _parse(Event, response)

    def get(self, event_id: str) -> Event:
        return _parse(Event, self._transport.request("GET", _path("/v1/events/{}", event_id), retryable=True))


class EventTypes(_Resource):
    """The event-type catalog of the deployment's profile: `client.event_types`."""

    def list(self) -> ListPage[EventType]:
        """Every declared event type; empty when the profile has no catalog."""
        return _parse_page(EventType, self._transport.request("GET", "/v1/event-types", retryable=True))


class Dovecote:
    """Blocking client for the Dovecote API.

    `base_url`, `api_key` and `timeout` (seconds) default to the environment variables
    DOVECOTE_API_URL, DOVECOTE_API_KEY and DOVECOTE_TIMEOUT. Calls that are safe to repeat
    (GET, PATCH, DELETE and `events.send`) are retried up to `max_retries` times on 429,
    5xx and connection failures, after an exponential backoff with jitter starting at
    `backoff_base` seconds and capped at `backoff_max`, or after the server's Retry-After.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
    ) -> None:
        settings = ClientSettings.resolve(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self._transport = Transport(settings)
        self.webhooks = Webhooks(self._transport)
        self.deliveries = Deliveries(self._transport)
        self.events = Events(self._transport)
        self.event_types = EventTypes(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.settings.base_url

    def health(self) -> dict[str, Any]:
        """The API's health document (`GET /v1/health`)."""
        body = self._transport.request("GET", "/v1/health", retryable=True)
        return body if isinstance(body, dict) else {"status": body}

    def close(self) -> None:
        """Close pooled connections."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Dovecote(base_url={self.base_url!r})"


def _in_worker_thread(method: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """An awaitable version of a blocking method that runs it in a worker thread."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, *args, **kwargs)

    return call


def _paged_in_worker_thread(
    method: Callable[P, ListPage[ModelT]],
) -> Callable[P, Coroutine[Any, Any, AsyncListPage[ModelT]]]:
    """Like `_in_worker_thread`, for list methods: the page fetches its successors in threads too."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> AsyncListPage[ModelT]:
        return AsyncListPage(await asyncio.to_thread(method, *args, **kwargs))

    return call


class AsyncWebhooks:
    """`Webhooks` with awaitable methods."""

    def __init__(self, webhooks: Webhooks) -> None:
        self.create = _in_worker_thread(webhooks.create)
        self.list = _paged_in_worker_thread(webhooks.list)
        self.get = _in_worker_thread(webhooks.get)
        self.update = _in_worker_thread(webhooks.update)
        self.delete = _in_worker_thread(webhooks.delete)
        self.deliveries = _paged_in_worker_thread(webhooks.deliveries)
        self.test = _in_worker_thread(webhooks.test)
        self.rotate_secret = _in_worker_thread(webhooks.rotate_secret)
        self.recover = _in_worker_thread(webhooks.recover)


class AsyncDeliveries:
    """`Deliveries` with awaitable methods."""

    def __init__(self, deliveries: Deliveries) -> None:
        self.get = _in_worker_thread(deliveries.get)
        self.retry = _in_worker_thread(deliveries.retry)


class AsyncEvents:
    """`Events` with awaitable methods."""

    def __init__(self, events: Events) -> None:
        self.send = _in_worker_thread(events.send)
        self.get = _in_worker_thread(events.get)


class AsyncEventTypes:
    """`EventTypes` with awaitable methods."""

    def __init__(self, event_types: EventTypes) -> None:
        self.list = _paged_in_worker_thread(event_types.list)


class AsyncDovecote:
    """asyncio client with the same resources and methods as `Dovecote`, awaitable.

    Each call runs the blocking client in a worker thread (`asyncio.to_thread`), so
    concurrent calls proceed in parallel without blocking the event loop. List methods
    return an `AsyncListPage`: `async for item in await client.webhooks.list()` walks
    every page.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
    ) -> None:
        self._client = Dovecote(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self.webhooks = AsyncWebhooks(self._client.webhooks)
        self.deliveries = AsyncDeliveries(self._client.deliveries)
        self.events = AsyncEvents(self._client.events)
        self.event_types = AsyncEventTypes(self._client.event_types)
        self.health = _in_worker_thread(self._client.health)

    @property
    def base_url(self) -> str:
        return self._client.base_url

    async def close(self) -> None:
        self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncDovecote(base_url={self.base_url!r})"
