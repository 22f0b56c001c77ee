"""The HTTP API's routes as data: the CDK stack and the local stack both route from this list.

Imports nothing from the CDK, so the local stack can use it without starting jsii.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from functions.portal import PORTAL_PATH

if TYPE_CHECKING:
    from functions.core.profile import ApiDialect

Target = Literal["management", "ingest", "portal"]

API_PREFIX = "/v1"
PORTAL_PREFIX = PORTAL_PATH
DEFAULT_ROUTE_KEY = "$default"
DEFAULT_TARGET: Target = "management"
"""API Gateway's `$default` route takes every request no route of ROUTES matches (another method
on a known path, an unknown path, TRACE…) to this function, through the authorizer like any
application route: it answers 405 with `Allow` or 404, in the error envelope
(functions/api/edge.py), where API Gateway alone would answer `{"message": "Not Found"}`."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """API Gateway route path, with `{name}` path parameters, e.g. `/v1/webhooks/{id}`."""
    target: Target
    authorized: bool = True
    """False only for the public documents (health, OpenAPI) and the portal's page and assets (they hold no
    application data; the page's session token is sent to the API by the page itself); every other route runs
    the API key authorizer."""

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


PUBLIC_ROUTES: tuple[Route, ...] = (
    Route("GET", f"{API_PREFIX}/health", "management", authorized=False),
    Route("GET", f"{API_PREFIX}/openapi.json", "management", authorized=False),
)

APPLICATION_ROUTES: tuple[Route, ...] = (
    Route("POST", f"{API_PREFIX}/events", "ingest"),
    Route("POST", f"{API_PREFIX}/events/batch", "ingest"),
    Route("GET", f"{API_PREFIX}/events/{{id}}", "management"),
    Route("GET", f"{API_PREFIX}/event-types", "management"),
    Route("GET", f"{API_PREFIX}/event-types/{{name}}", "management"),
    Route("POST", f"{API_PREFIX}/webhooks", "management"),
    Route("GET", f"{API_PREFIX}/webhooks", "management"),
    Route("GET", f"{API_PREFIX}/webhooks/{{id}}", "management"),
    Route("PATCH", f"{API_PREFIX}/webhooks/{{id}}", "management"),
    Route("DELETE", f"{API_PREFIX}/webhooks/{{id}}", "management"),
    Route("GET", f"{API_PREFIX}/webhooks/{{id}}/deliveries", "management"),
    Route("POST", f"{API_PREFIX}/webhooks/{{id}}/rotate-secret", "management"),
    Route("POST", f"{API_PREFIX}/webhooks/{{id}}/test", "ingest"),
    Route("POST", f"{API_PREFIX}/webhooks/{{id}}/recover", "ingest"),
    Route("GET", f"{API_PREFIX}/deliveries/{{id}}", "management"),
    Route("POST", f"{API_PREFIX}/deliveries/{{id}}/retry", "ingest"),
)
"""One application's routes: its key (or portal session) calls them as they are, a platform key
under /v1/applications/{application_id} (SCOPED_ROUTES)."""

APPLICATIONS = f"{API_PREFIX}/applications"
SCOPED_ROUTES: tuple[Route, ...] = tuple(
    Route(route.method, f"{APPLICATIONS}/{{application_id}}{route.path.removeprefix(API_PREFIX)}", route.target)
    for route in APPLICATION_ROUTES
)

PLATFORM_ROUTES: tuple[Route, ...] = (
    Route("POST", APPLICATIONS, "management"),
    Route("GET", APPLICATIONS, "management"),
    Route("GET", f"{APPLICATIONS}/{{application_id}}", "management"),
    Route("PATCH", f"{APPLICATIONS}/{{application_id}}", "management"),
    Route("DELETE", f"{APPLICATIONS}/{{application_id}}", "management"),
    Route("POST", f"{APPLICATIONS}/{{application_id}}/api-keys", "management"),
    Route("GET", f"{APPLICATIONS}/{{application_id}}/api-keys", "management"),
    Route("DELETE", f"{APPLICATIONS}/{{application_id}}/api-keys/{{key_id}}", "management"),
    Route("POST", f"{APPLICATIONS}/{{application_id}}/portal-sessions", "management"),
    Route("POST", f"{API_PREFIX}/platform-keys", "management"),
    Route("GET", f"{API_PREFIX}/platform-keys", "management"),
    Route("DELETE", f"{API_PREFIX}/platform-keys/{{key_id}}", "management"),
    Route("PUT", f"{API_PREFIX}/operational-webhook", "management"),
    Route("GET", f"{API_PREFIX}/operational-webhook", "management"),
    Route("DELETE", f"{API_PREFIX}/operational-webhook", "management"),
    Route("POST", f"{API_PREFIX}/event-types", "management"),
    Route("PATCH", f"{API_PREFIX}/event-types/{{name}}", "management"),
    Route("DELETE", f"{API_PREFIX}/event-types/{{name}}", "management"),
)
"""Platform-key routes: applications, keys and sessions, platform keys, changes to the event-type catalog,
the operational webhook."""

PORTAL_ROUTES: tuple[Route, ...] = (
    Route("GET", PORTAL_PREFIX, "portal", authorized=False),
    Route("GET", f"{PORTAL_PREFIX}/assets/{{asset}}", "portal", authorized=False),
    Route("GET", f"{PORTAL_PREFIX}/session", "portal"),
)
"""The consumer portal (functions/portal): its page and assets, and what its session may do."""

ROUTES: tuple[Route, ...] = PUBLIC_ROUTES + APPLICATION_ROUTES + SCOPED_ROUTES + PLATFORM_ROUTES + PORTAL_ROUTES


def alias_routes(dialect: ApiDialect) -> tuple[Route, ...]:
    """The API Gateway routes of a profile's route aliases (functions/api/dialect.py): each goes, through the
    authorizer, to the function of the /v1 route it stands for. An alias that only adds a trailing slash
    needs none: API Gateway routes `/v1/webhooks/` as `/v1/webhooks` (and the local stack does the same)."""
    targets = {(route.method, _anonymous(route.path)): route.target for route in APPLICATION_ROUTES}
    routes = []
    for alias in dialect.routes:
        if alias.path.rstrip("/") == alias.route.rstrip("/"):
            continue
        key = (alias.method, _anonymous(alias.route))
        if key not in targets:
            raise ValueError(
                f"route alias {alias.method} {alias.path}: no application route {alias.method} {alias.route}"
            )
        routes.append(Route(alias.method, alias.path, targets[key]))
    return tuple(routes)


def routes_for(dialect: ApiDialect) -> tuple[Route, ...]:
    """Every route of a deployment whose profile has `dialect`."""
    return ROUTES + alias_routes(dialect)


def _anonymous(path: str) -> str:
    import re  # noqa: PLC0415

    return re.sub(r"\{[a-z_]+\}", "{}", path)
