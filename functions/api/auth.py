"""Who is calling, and which application a request speaks for.

The authorizer (functions/authorizer/handler.py) resolves the bearer credential and passes
its facts in the request context; this module turns them into a `Caller` and decides:

- no credential (or the authorizer's `auth_error`): 401;
- a portal session past its `expires_at`: 401 (the authorizer's cache would let it live
  up to 60 seconds longer), and on a mutating method while read-only: 403;
- platform routes (`/v1/applications`, `/v1/platform-keys`, `/v1/operational-webhook`): a platform key, else 403;
- the event-type catalog (`/v1/event-types`) is the deployment's: every credential reads it (a platform
  key on the bare routes too), only a platform key changes it (403 for the others);
- application routes: an application key or session speaks for its own application on the
  bare routes (`/v1/webhooks`, …); a platform key speaks for any application through
  `/v1/applications/{application_id}/…`, and only there (403 with a hint on the bare routes,
  because it has no application of its own). An application key or session on a scoped
  route is refused like any platform route (403). A scoped route of an application that
  does not exist answers 404, whatever the route.
"""

# ruff: noqa: PLC0415 - the application store is imported when a platform key first needs it

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from functions.core.errors import ForbiddenError, InvalidRequestError, NotFoundError, UnauthorizedError
from functions.core.ids import is_application_id
from functions.runtime.lazy import LazyDependencies

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import APIGatewayProxyEventV2

PLATFORM, APPLICATION, PORTAL_SESSION = "platform", "application", "portal_session"
APPLICATIONS_PATH = "/v1/applications"
PLATFORM_PATHS = (APPLICATIONS_PATH, "/v1/platform-keys", "/v1/operational-webhook")
APPLICATION_PATHS = ("/v1/webhooks", "/v1/events", "/v1/deliveries", "/v1/event-types")
"""Route prefixes that act on one application; each also exists under /v1/applications/{application_id}."""
CATALOG_PATH = "/v1/event-types"
PLATFORM_WRITE_PATHS = (CATALOG_PATH,)
"""Deployment-wide objects every credential reads but only a platform key changes (bare routes only: the
catalog is not an application's, so its changes have no /v1/applications/{application_id} copy)."""
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXISTENCE_TTL_SECONDS = 60.0
"""How long a function remembers that an application exists (the authorizer caches credentials as long)."""

INVALID_APPLICATION_ID = "1 to 64 of A-Z a-z 0-9 _ . - (not '.' or '..')"
MISSING = "a valid API key is required (Authorization: Bearer <key>)"
SESSION_EXPIRED = "the portal session has expired; open a new one"
READ_ONLY = "this portal session is read-only"
PLATFORM_ONLY = "this route needs a platform key"
PLATFORM_ON_APPLICATION_ROUTE = (
    "a platform key speaks for every application: call this route as /v1/applications/<application id>"
)


@dataclass(frozen=True)
class Caller:
    credential: str
    key_id: str | None = None
    application_id: str | None = None
    read_only: bool = False
    expires_at: int | None = None

    @property
    def is_platform(self) -> bool:
        return self.credential == PLATFORM


def caller_of(context: dict[str, Any] | None, *, now: float | None = None) -> Caller:
    """The caller the authorizer's context describes; UnauthorizedError when there is none."""
    context = context or {}
    if context.get("auth_error") or not (context.get("credential") or context.get("application_id")):
        raise UnauthorizedError(str(context.get("auth_error") or MISSING))
    expires_at = context.get("expires_at")
    caller = Caller(
        credential=str(context.get("credential") or APPLICATION),
        key_id=context.get("key_id"),
        application_id=context.get("application_id"),
        read_only=str(context.get("read_only", "")).lower() == "true",
        expires_at=int(expires_at) if expires_at not in (None, "") else None,
    )
    if caller.expires_at is not None and (time.time() if now is None else now) >= caller.expires_at:
        raise UnauthorizedError(SESSION_EXPIRED)
    if caller.credential != PLATFORM and not caller.application_id:
        raise UnauthorizedError(MISSING)
    return caller


def scoped_application(path: str) -> str | None:
    """`acme` for `/v1/applications/acme/webhooks…`; None for any other path."""
    parts = path.split("/")
    if len(parts) > 4 and "/".join(parts[:3]) == APPLICATIONS_PATH and parts[3]:
        return unquote(parts[3])
    return None


def is_platform_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PLATFORM_PATHS)


def is_bare_application_path(path: str) -> bool:
    """A route acting on the caller's own application, outside /v1/applications/{application_id} (the
    catalog's reads excepted: they are the deployment's)."""
    return not path.startswith(CATALOG_PATH) and any(
        path == prefix or path.startswith(prefix + "/") for prefix in APPLICATION_PATHS
    )


def is_platform_write_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PLATFORM_WRITE_PATHS)


def is_platform_write(method: str, path: str) -> bool:
    """A change to the catalog: POST /v1/event-types, PATCH or DELETE /v1/event-types/{name}. (Another method
    there is no route: 405 with `Allow`, whoever calls.)"""
    method = method.upper()
    if path == CATALOG_PATH:
        return method == "POST"
    name = path.removeprefix(CATALOG_PATH + "/") if path.startswith(CATALOG_PATH + "/") else None
    return bool(name) and "/" not in str(name) and method in {"PATCH", "DELETE"}


def check_access(caller: Caller, method: str, path: str) -> None:
    """ForbiddenError where the caller may not go, whichever route the path turns out to be."""
    if caller.read_only and method.upper() in MUTATING_METHODS:
        raise ForbiddenError(READ_ONLY)
    if is_platform_path(path) and not caller.is_platform:
        raise ForbiddenError(PLATFORM_ONLY)
    if is_platform_write(method, path) and not caller.is_platform:
        raise ForbiddenError(PLATFORM_ONLY)
    if caller.is_platform and is_bare_application_path(path):  # before the body is read: 403, not a 422
        raise ForbiddenError(PLATFORM_ON_APPLICATION_ROUTE + path.removeprefix("/v1"))


def application_of(caller: Caller, path: str, exists: Callable[[str], bool]) -> str:
    """The application a request of `caller` to `path` acts on (see the module's rules)."""
    scoped = scoped_application(path)
    if scoped is not None:
        if not caller.is_platform:
            raise ForbiddenError(PLATFORM_ONLY)
        if not is_application_id(scoped):
            raise InvalidRequestError(f"application_id: {INVALID_APPLICATION_ID}")
        if not exists(scoped):
            raise NotFoundError(f"no application {scoped[:64]}")
        return scoped
    if caller.is_platform or caller.application_id is None:
        raise ForbiddenError(PLATFORM_ON_APPLICATION_ROUTE + path.removeprefix("/v1"))
    return caller.application_id


def caller_from_event(event: APIGatewayProxyEventV2) -> Caller:
    return caller_of(event.request_context.authorizer.get_lambda)


class ApplicationDirectory:
    """Whether an application exists, remembered for a minute per function instance.

    A platform publishing for many applications pays one read per application per minute,
    not one per request. A deletion is seen at once by the instance that deleted (`forget`),
    by the others within the TTL.
    """

    def __init__(self, find: Callable[[str], object | None], ttl_seconds: float = EXISTENCE_TTL_SECONDS) -> None:
        self._find = find
        self._ttl = ttl_seconds
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def exists(self, application_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(application_id)
        if seen is not None and now - seen < self._ttl:
            return True
        if self._find(application_id) is None:
            self.forget(application_id)
            return False
        with self._lock:
            self._seen[application_id] = now
        return True

    def forget(self, application_id: str) -> None:
        with self._lock:
            self._seen.pop(application_id, None)


def _build_directory() -> ApplicationDirectory:
    from functions.runtime.clients import aws_client
    from functions.runtime.settings import ENV_TABLE, Settings
    from functions.store.applications import ApplicationStore

    settings = Settings.from_environment(required=(ENV_TABLE,), function_name="the API")
    store = ApplicationStore(aws_client("dynamodb"), settings.table_name)
    return ApplicationDirectory(store.find)


_directory: LazyDependencies[ApplicationDirectory] = LazyDependencies(_build_directory)
directory = _directory.get
use_directory = _directory.install
reset_dependencies = _directory.reset
