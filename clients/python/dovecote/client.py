"""Dovecote API clients: `Dovecote` (blocking) and `AsyncDovecote` (asyncio).

    from dovecote import Dovecote

    with Dovecote() as dovecote:  # DOVECOTE_API_URL and DOVECOTE_API_KEY from the environment
        hook = dovecote.webhooks.create("https://example.com/hooks", ["order.created"])
        print(hook.secret)  # shown only here and on rotate_secret
        dovecote.events.send("order.created", {"order_id": "o_1"})
        for delivery in dovecote.webhooks.deliveries(hook.id, status="failed"):
            print(delivery.id, delivery.error)

A platform key acts for its customers: `dovecote.applications.create("Acme", id="acme")`, then
`dovecote.application("acme").events.send(...)` (same resources as the client, plus `api_keys`
and `portal_sessions`).

`AsyncDovecote` has the same resources and methods, awaitable; its list methods return
pages that `async for` walks across pages.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar
from urllib.parse import quote

from pydantic import ValidationError

from dovecote._errors import APIError
from dovecote._models import (
    ApiKey,
    ApiKeyWithSecret,
    Application,
    DeletedApplication,
    DeletedEventType,
    DeletedOperationalWebhook,
    DeletedWebhook,
    Delivery,
    DovecoteObject,
    Event,
    EventBatch,
    EventType,
    OperationalWebhook,
    OperationalWebhookWithSecret,
    PortalSession,
    Recovery,
    Webhook,
    WebhookWithSecret,
)
from dovecote._pagination import AsyncListPage, ListPage
from dovecote._transport import ClientOptions, ClientSettings, Transport

if TYPE_CHECKING:
    from typing_extensions import Unpack

ModelT = TypeVar("ModelT", bound=DovecoteObject)
API_PREFIX = "/v1"
P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "ApiKeys",
    "ApplicationScope",
    "Applications",
    "AsyncApplicationScope",
    "AsyncApplications",
    "AsyncDeliveries",
    "AsyncDovecote",
    "AsyncEventTypes",
    "AsyncEvents",
    "AsyncKeys",
    "AsyncPortalSessions",
    "AsyncWebhooks",
    "Deliveries",
    "Dovecote",
    "EventTypes",
    "Events",
    "PlatformKeys",
    "PortalSessions",
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
    def __init__(self, transport: Transport, prefix: str = API_PREFIX) -> None:
        self._transport = transport
        self._prefix = prefix

    def _call(
        self,
        model: type[ModelT],
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        retryable: bool,
    ) -> ModelT:
        """One API call, its answer parsed as `model`."""
        response = self._transport.request(method, path, json_body=json_body, headers=headers, retryable=retryable)
        return _parse(model, response)


class Webhooks(_Resource):
    """Endpoints that receive events: `client.webhooks`."""

    def create(
        self,
        url: str | None,
        events: Sequence[str],
        *,
        description: str | None = None,
        secret: str | None = None,
        enabled: bool | None = None,
        type: str | None = None,
        target: str | None = None,
        role_arn: str | None = None,
        message_group_id: str | None = None,
        source: str | None = None,
        headers: dict[str, str] | None = None,
        filter: dict[str, Any] | None = None,
        signature_version: str | None = None,
        rate_limit_per_second: int | None = None,
    ) -> WebhookWithSecret:
        """Register an endpoint for the given event types; the result carries the signing secret.

        An HTTPS endpoint takes `url`; an AWS destination takes `url=None`, `type` ("sqs", "sns",
        "eventbridge"), `target` (queue URL or ARN, topic ARN, event bus ARN) and `role_arn`; its
        answer's `external_id` is what the role's trust policy must require. `headers` are sent
        with every delivery; `filter` (e.g. {"data": {"amount": {"$gte": 100}}}) keeps only the
        events it matches; `signature_version="v1a"` signs with Ed25519 (the answer's `secret`
        is then the public key receivers verify with); `rate_limit_per_second` caps the deliveries
        sent to it in any second (the others wait; None: the application's default).
        Not retried automatically: a repeat could register the endpoint twice.
        """
        body = _without_none(
            {
                "type": type,
                "url": url,
                "target": target,
                "role_arn": role_arn,
                "message_group_id": message_group_id,
                "source": source,
                "events": _event_list(events),
                "description": description,
                "secret": secret,
                "enabled": enabled,
                "headers": headers,
                "filter": filter,
                "signature_version": signature_version,
                "rate_limit_per_second": rate_limit_per_second,
            }
        )
        return self._call(WebhookWithSecret, "POST", self._prefix + "/webhooks", json_body=body, retryable=False)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> ListPage[Webhook]:
        """A page of webhooks; iterating it walks every following page too."""
        body = self._transport.request(
            "GET", self._prefix + "/webhooks", params={"limit": limit, "cursor": cursor}, retryable=True
        )
        return _parse_page(Webhook, body, lambda next_cursor: self.list(limit=limit, cursor=next_cursor))

    def get(self, webhook_id: str) -> Webhook:
        return self._call(Webhook, "GET", _path(self._prefix + "/webhooks/{}", webhook_id), retryable=True)

    def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        target: str | None = None,
        role_arn: str | None = None,
        headers: dict[str, str] | None = None,
        filter: dict[str, Any] | None = None,
        rate_limit_per_second: int | None = None,
        clear_rate_limit: bool = False,
    ) -> Webhook:
        """Change the given fields; fields left as None keep their value (`headers={}` and `filter={}` remove them,
        `clear_rate_limit=True` the endpoint's own rate limit)."""
        body = _without_none(
            {
                "url": url,
                "events": _event_list(events),
                "description": description,
                "enabled": enabled,
                "target": target,
                "role_arn": role_arn,
                "headers": headers,
                "filter": filter,
                "rate_limit_per_second": rate_limit_per_second,
            }
        )
        if clear_rate_limit:
            body["rate_limit_per_second"] = None
        return self._call(
            Webhook, "PATCH", _path(self._prefix + "/webhooks/{}", webhook_id), json_body=body, retryable=True
        )

    def delete(self, webhook_id: str) -> DeletedWebhook:
        """Delete the endpoint; its pending retries are cancelled."""
        return self._call(DeletedWebhook, "DELETE", _path(self._prefix + "/webhooks/{}", webhook_id), retryable=True)

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
                _path(self._prefix + "/webhooks/{}/deliveries", webhook_id),
                params={"status": status, "event": event, "limit": limit, "cursor": page_cursor},
                retryable=True,
            )
            return _parse_page(Delivery, body, fetch)

        return fetch(cursor)

    def test(self, webhook_id: str) -> Event:
        """Send a test event to this endpoint only; returns the event that was queued."""
        return self._call(Event, "POST", _path(self._prefix + "/webhooks/{}/test", webhook_id), retryable=False)

    def rotate_secret(self, webhook_id: str) -> WebhookWithSecret:
        """Issue a new signing secret; the old one keeps signing for a grace period."""
        return self._call(
            WebhookWithSecret, "POST", _path(self._prefix + "/webhooks/{}/rotate-secret", webhook_id), retryable=False
        )

    def recover(self, webhook_id: str, since: datetime | str) -> Recovery:
        """Re-send the endpoint's failed deliveries created since `since` (aware datetime or ISO-8601)."""
        return self._call(
            Recovery,
            "POST",
            _path(self._prefix + "/webhooks/{}/recover", webhook_id),
            json_body={"since": _iso_timestamp(since)},
            retryable=False,
        )


class Deliveries(_Resource):
    """One event sent to one endpoint, with its attempts: `client.deliveries`."""

    def get(self, delivery_id: str) -> Delivery:
        """The delivery with every attempt (`.attempts`)."""
        return self._call(Delivery, "GET", _path(self._prefix + "/deliveries/{}", delivery_id), retryable=True)

    def retry(self, delivery_id: str) -> Delivery:
        """Start a new series of attempts now. Not retried automatically: a repeat starts another."""
        return self._call(Delivery, "POST", _path(self._prefix + "/deliveries/{}/retry", delivery_id), retryable=False)


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

        `id` is the platform's own id for the event (1 to 128 characters of A-Z, a-z, 0-9 and
        `_ . : -`, e.g. a UUID or `order-42`): publishing the same id again is the same event
        (the same answer, nothing delivered twice). Left out, Dovecote assigns an `evt_` id.
        """
        headers = {"Idempotency-Key": idempotency_key or f"dvc_{uuid.uuid4().hex}"}
        body = _without_none({"type": type, "data": data, "id": id})
        return self._call(Event, "POST", self._prefix + "/events", json_body=body, headers=headers, retryable=True)

    def send_batch(self, events: Sequence[Mapping[str, Any]]) -> EventBatch:
        """Publish up to 100 events in one request: each a mapping of `type`, `data`, and `id` or
        `idempotency_key` (the SDK adds a key to each event that has neither, so a retry of the
        batch never publishes one twice). The answer has one result per event: check `.failed`,
        and each result's `.ok`, `.status` and `.error` (an invalid event fails alone)."""
        body = {
            "events": [
                dict(event) if "id" in event or "idempotency_key" in event
                else {**event, "idempotency_key": f"dvc_{uuid.uuid4().hex}"}
                for event in events
            ]
        }  # fmt: skip
        return self._call(EventBatch, "POST", self._prefix + "/events/batch", json_body=body, retryable=True)

    def get(self, event_id: str) -> Event:
        return self._call(Event, "GET", _path(self._prefix + "/events/{}", event_id), retryable=True)


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
"""For `event_types.update`: leave the field as it is (None clears `schema` and `example`)."""


class EventTypes(_Resource):
    """The deployment's event-type catalog: `client.event_types`.

    Every credential reads it; only a platform key changes it (`create`, `update`, `delete`), on the
    deployment-wide routes whatever the resource's application scope.
    """

    def list(self) -> ListPage[EventType]:
        """Every type: the profile's, then those the platform registered, each with schema and example."""
        return _parse_page(EventType, self._transport.request("GET", self._prefix + "/event-types", retryable=True))

    def get(self, name: str) -> EventType:
        return self._call(EventType, "GET", _path(self._prefix + "/event-types/{}", name), retryable=True)

    def create(
        self,
        name: str,
        *,
        description: str | None = None,
        schema: dict[str, Any] | bool | None = None,
        example: Any = None,
        deprecated: bool | None = None,
    ) -> EventType:
        """Register a type (platform key). `schema` is a JSON Schema that published `data` must fit."""
        body = _without_none(
            {"name": name, "description": description, "schema": schema, "example": example, "deprecated": deprecated}
        )
        return self._call(EventType, "POST", API_PREFIX + "/event-types", json_body=body, retryable=False)

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        schema: Any = KEEP,
        example: Any = KEEP,
        deprecated: bool | None = None,
    ) -> EventType:
        """Change the given fields (platform key); `schema=None` removes the schema, `example=None` the example."""
        body = _without_none({"description": description, "deprecated": deprecated})
        body.update({key: value for key, value in (("schema", schema), ("example", example)) if value is not KEEP})
        return self._call(
            EventType, "PATCH", _path(API_PREFIX + "/event-types/{}", name), json_body=body, retryable=True
        )

    def delete(self, name: str) -> DeletedEventType:
        """Delete a type the platform registered (platform key); a profile's type answers 409."""
        return self._call(DeletedEventType, "DELETE", _path(API_PREFIX + "/event-types/{}", name), retryable=True)


class _Keys(_Resource):
    """Create, list and revoke keys of one collection (an application's, or the platform's)."""

    _collection = ""

    def create(self, *, description: str | None = None) -> ApiKeyWithSecret:
        """A new key; `.key` is shown only in this answer."""
        body = _without_none({"description": description})
        path = self._prefix + self._collection
        return self._call(ApiKeyWithSecret, "POST", path, json_body=body, retryable=False)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> ListPage[ApiKey]:
        """A page of keys, newest first (revoked ones included); never the keys themselves."""
        params = {"limit": limit, "cursor": cursor}
        body = self._transport.request("GET", self._prefix + self._collection, params=params, retryable=True)
        return _parse_page(ApiKey, body, lambda next_cursor: self.list(limit=limit, cursor=next_cursor))

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke the key (idempotent); it stops working within the authorizer's cache TTL (60 s)."""
        path = _path(self._prefix + self._collection + "/{}", key_id)
        return self._call(ApiKey, "DELETE", path, retryable=True)


class ApiKeys(_Keys):
    """An application's keys (platform key): `client.application("acme").api_keys`."""

    _collection = "/api-keys"


class PortalSessions(_Resource):
    """Portal sessions of one application (platform key): `client.application("acme").portal_sessions`."""

    def create(self, *, ttl_seconds: int | None = None, read_only: bool | None = None) -> PortalSession:
        """A session whose `url` opens the portal for this application (60 s to 24 h, default 1 h)."""
        body = _without_none({"ttl_seconds": ttl_seconds, "read_only": read_only})
        return self._call(PortalSession, "POST", self._prefix + "/portal-sessions", json_body=body, retryable=False)


class ApplicationScope:
    """One application's routes, called with a platform key: `client.application("acme")`.

    The same resources as the client itself (`webhooks`, `deliveries`, `events`, `event_types`),
    plus the application's `api_keys` and `portal_sessions`.
    """

    def __init__(self, transport: Transport, application_id: str) -> None:
        self.id = application_id
        prefix = _path(API_PREFIX + "/applications/{}", application_id)
        self.webhooks = Webhooks(transport, prefix)
        self.deliveries = Deliveries(transport, prefix)
        self.events = Events(transport, prefix)
        self.event_types = EventTypes(transport, prefix)
        self.api_keys = ApiKeys(transport, prefix)
        self.portal_sessions = PortalSessions(transport, prefix)

    def __repr__(self) -> str:
        return f"ApplicationScope({self.id!r})"


class Applications(_Resource):
    """The platform's customers (platform key): `client.applications`."""

    def create(
        self,
        name: str,
        *,
        id: str | None = None,
        metadata: dict[str, str] | None = None,
        rate_limit_per_second: int | None = None,
    ) -> Application:
        """A new application; `id` is your own identifier for the customer (generated when omitted);
        `rate_limit_per_second` is the default limit of its endpoints that set none.

        Not retried automatically: without an `id`, a repeat would create a second application.
        """
        body = _without_none(
            {"id": id, "name": name, "metadata": metadata, "rate_limit_per_second": rate_limit_per_second}
        )
        return self._call(Application, "POST", self._prefix + "/applications", json_body=body, retryable=False)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> ListPage[Application]:
        """A page of applications in id order; iterating it walks every following page too."""
        params = {"limit": limit, "cursor": cursor}
        body = self._transport.request("GET", self._prefix + "/applications", params=params, retryable=True)
        return _parse_page(Application, body, lambda next_cursor: self.list(limit=limit, cursor=next_cursor))

    def get(self, application_id: str) -> Application:
        path = _path(self._prefix + "/applications/{}", application_id)
        return self._call(Application, "GET", path, retryable=True)

    def update(
        self,
        application_id: str,
        *,
        name: str | None = None,
        metadata: dict[str, str] | None = None,
        rate_limit_per_second: int | None = None,
        clear_rate_limit: bool = False,
    ) -> Application:
        """Rename, replace the metadata or set the endpoints' default rate limit; fields left as None keep their
        value (`clear_rate_limit=True` removes the default)."""
        body = _without_none({"name": name, "metadata": metadata, "rate_limit_per_second": rate_limit_per_second})
        if clear_rate_limit:
            body["rate_limit_per_second"] = None
        path = _path(self._prefix + "/applications/{}", application_id)
        return self._call(Application, "PATCH", path, json_body=body, retryable=True)

    def delete(self, application_id: str) -> DeletedApplication:
        """Delete the application: its keys and sessions are revoked, its webhooks deleted."""
        path = _path(self._prefix + "/applications/{}", application_id)
        return self._call(DeletedApplication, "DELETE", path, retryable=True)


class PlatformKeys(_Keys):
    """Platform keys (platform key): `client.platform_keys`. The key making a call cannot revoke itself (409)."""

    _collection = "/platform-keys"


class OperationalWebhookSettings(_Resource):
    """The platform's operational webhook (platform key): `client.operational_webhook`.

    It receives `endpoint.disabled`, `endpoint.enabled`, `delivery.exhausted` and `delivery.recovered`,
    signed like every delivery (they also go to the deployer's EventBridge default bus, source `dovecote`).
    """

    _path = "/operational-webhook"

    def set(
        self, url: str, *, events: Sequence[str] | None = None, secret: str | None = None
    ) -> OperationalWebhookWithSecret:
        """Create it (the answer shows its signing secret), or replace its URL and event types and enable it
        again (it keeps its secret unless `secret` is given)."""
        body = _without_none({"url": url, "events": list(events) if events is not None else None, "secret": secret})
        response = self._transport.request("PUT", self._prefix + self._path, json_body=body, retryable=True)
        return _parse(OperationalWebhookWithSecret, response)

    def get(self) -> OperationalWebhook:
        """The operational webhook (NotFoundError when none is set); a disabled one shows why."""
        return _parse(OperationalWebhook, self._transport.request("GET", self._prefix + self._path, retryable=True))

    def delete(self) -> DeletedOperationalWebhook:
        response = self._transport.request("DELETE", self._prefix + self._path, retryable=True)
        return _parse(DeletedOperationalWebhook, response)


class Dovecote:
    """Blocking client for the Dovecote API.

    `base_url`, `api_key` and `timeout` (seconds) default to the environment variables
    DOVECOTE_API_URL, DOVECOTE_API_KEY and DOVECOTE_TIMEOUT. Calls that are safe to repeat
    (GET, PATCH, DELETE and `events.send`) are retried up to `max_retries` times on 429,
    5xx and connection failures, after an exponential backoff with jitter starting at
    `backoff_base` seconds and capped at `backoff_max`, or after the server's Retry-After.
    """

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        self._transport = Transport(ClientSettings.resolve(**options))
        self.webhooks = Webhooks(self._transport)
        self.deliveries = Deliveries(self._transport)
        self.events = Events(self._transport)
        self.event_types = EventTypes(self._transport)
        self.applications = Applications(self._transport)
        self.platform_keys = PlatformKeys(self._transport)
        self.operational_webhook = OperationalWebhookSettings(self._transport)

    def application(self, application_id: str) -> ApplicationScope:
        """The routes of one application, for a platform key: `client.application("acme").events.send(...)`."""
        return ApplicationScope(self._transport, application_id)

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


class _AwaitableResource:
    """A resource whose methods are awaitable: each call runs the blocking method in a worker thread.

    `_calls` name the methods that return one object, `_pages` the list methods (their pages fetch
    successors in threads too), `_resources` the nested resources and their awaitable classes.
    """

    _calls: tuple[str, ...] = ()
    _pages: tuple[str, ...] = ()
    _resources: dict[str, type[_AwaitableResource]] = {}

    def __init__(self, resource: object) -> None:
        for name in self._calls:
            setattr(self, name, _in_worker_thread(getattr(resource, name)))
        for name in self._pages:
            setattr(self, name, _paged_in_worker_thread(getattr(resource, name)))
        for name, awaitable in self._resources.items():
            setattr(self, name, awaitable(getattr(resource, name)))

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...


class AsyncWebhooks(_AwaitableResource):
    """`Webhooks` with awaitable methods."""

    _calls = ("create", "get", "update", "delete", "test", "rotate_secret", "recover")
    _pages = ("list", "deliveries")


class AsyncDeliveries(_AwaitableResource):
    """`Deliveries` with awaitable methods."""

    _calls = ("get", "retry")


class AsyncEvents(_AwaitableResource):
    """`Events` with awaitable methods."""

    _calls = ("send", "send_batch", "get")


class AsyncEventTypes(_AwaitableResource):
    """`EventTypes` with awaitable methods."""

    _calls = ("get", "create", "update", "delete")
    _pages = ("list",)


class AsyncKeys(_AwaitableResource):
    """`ApiKeys` or `PlatformKeys` with awaitable methods."""

    _calls = ("create", "revoke")
    _pages = ("list",)


class AsyncPortalSessions(_AwaitableResource):
    """`PortalSessions` with awaitable methods."""

    _calls = ("create",)


_ASYNC_APPLICATION_RESOURCES: dict[str, type[_AwaitableResource]] = {
    "webhooks": AsyncWebhooks,
    "deliveries": AsyncDeliveries,
    "events": AsyncEvents,
    "event_types": AsyncEventTypes,
}


class AsyncApplicationScope(_AwaitableResource):
    """`ApplicationScope` with awaitable methods."""

    _resources = {**_ASYNC_APPLICATION_RESOURCES, "api_keys": AsyncKeys, "portal_sessions": AsyncPortalSessions}

    def __init__(self, scope: ApplicationScope) -> None:
        super().__init__(scope)
        self.id = scope.id


class AsyncOperationalWebhook(_AwaitableResource):
    """`OperationalWebhookSettings` with awaitable methods."""

    _calls = ("set", "get", "delete")


class AsyncApplications(_AwaitableResource):
    """`Applications` with awaitable methods."""

    _calls = ("create", "get", "update", "delete")
    _pages = ("list",)


class AsyncDovecote(_AwaitableResource):
    """asyncio client with the same resources and methods as `Dovecote`, awaitable.

    Each call runs the blocking client in a worker thread (`asyncio.to_thread`), so
    concurrent calls proceed in parallel without blocking the event loop. List methods
    return an `AsyncListPage`: `async for item in await client.webhooks.list()` walks
    every page.
    """

    _calls = ("health",)
    _resources = {
        **_ASYNC_APPLICATION_RESOURCES,
        "applications": AsyncApplications,
        "platform_keys": AsyncKeys,
        "operational_webhook": AsyncOperationalWebhook,
    }

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        self._client = Dovecote(**options)
        super().__init__(self._client)

    def application(self, application_id: str) -> AsyncApplicationScope:
        """The routes of one application, for a platform key (see `Dovecote.application`)."""
        return AsyncApplicationScope(self._client.application(application_id))

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
