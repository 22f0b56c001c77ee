"""The portal function: serves the consumer portal's page and assets, and tells the page its session.

Routes (infra/routes.py): `GET /portal` (the page), `GET /portal/assets/{asset}` (its
script and stylesheet) and `GET /portal/session` (behind the authorizer: the caller's
application, whether the session is read-only, and when it ends). Everything else the
page does goes to the `/v1` API with the session token as a bearer credential.

The function imports only the standard library and `functions.portal` (no Powertools, no
pydantic, no AWS client), so it needs no layer and no permission and starts in a few
milliseconds; API Gateway's access log already records each request (the path only: the
token travels in the URL fragment, which browsers never send).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from functions.portal.branding import PortalBranding, branding_from_environment
from functions.portal.pages import COMMON_HEADERS, asset, page

PAGE_ROUTE = "GET /portal"
ASSET_ROUTE = "GET /portal/assets/{asset}"
SESSION_ROUTE = "GET /portal/session"
SESSION_EXPIRED = "the portal session has expired; open a new one"
SESSION_INVALID = "the portal session is not valid; open a new one"
NO_APPLICATION = "a portal session (or an application key) is required to open the portal"

_branding: PortalBranding | None = None


def branding() -> PortalBranding:
    """The deploy's branding, read from the environment on first use (never at import time)."""
    global _branding  # noqa: PLW0603 - one parse per container
    if _branding is None:
        _branding = branding_from_environment()
    return _branding


def reset_branding() -> None:
    global _branding  # noqa: PLW0603
    _branding = None


def _json(status: int, document: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {
            **COMMON_HEADERS,
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            **(headers or {}),
        },
        "body": json.dumps(document, separators=(",", ":")),
    }


def _error(status: int, error_type: str, message: str) -> dict[str, Any]:
    extra = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return _json(status, {"error": {"type": error_type, "message": message}}, extra)


def _iso(epoch_seconds: float) -> str:
    # The API's timestamp form (functions.core.timestamps.iso), written here without its pydantic import.
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session(authorizer_context: dict[str, Any], now: float) -> dict[str, Any]:
    """What the page needs to know of its credential, from the authorizer's context."""
    application = authorizer_context.get("application_id")
    if not application:
        reason = authorizer_context.get("auth_error")
        if reason:
            return _error(401, "unauthorized", str(reason))
        return _error(403, "forbidden", NO_APPLICATION)
    expires_at = authorizer_context.get("expires_at")
    try:
        expires_epoch = float(expires_at) if expires_at not in (None, "") else None
        expires_text = _iso(expires_epoch) if expires_epoch is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        return _error(401, "unauthorized", SESSION_INVALID)
    if expires_epoch is not None and expires_epoch <= now:
        return _error(401, "unauthorized", SESSION_EXPIRED)
    read_only = authorizer_context.get("read_only") in (True, "true", "True")
    return _json(
        200,
        {
            "object": "portal_session",
            "application_id": str(application),
            "credential": str(authorizer_context.get("credential") or ""),
            "read_only": read_only,
            "expires_at": expires_text,
        },
    )


def respond(event: dict[str, Any], now: float) -> dict[str, Any]:
    route = event.get("routeKey", "")
    if route == PAGE_ROUTE:
        return page(branding()).proxy_result()
    if route == ASSET_ROUTE:
        found = asset(str((event.get("pathParameters") or {}).get("asset", "")))
        return found.proxy_result() if found else _error(404, "not_found", "no such portal asset")
    if route == SESSION_ROUTE:
        context = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
        return session(context, now)
    return _error(404, "not_found", "no such route")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return respond(event, time.time())
