"""The portal's responses: the page, its assets and the security headers around them.

The page is `static/index.html` with the deploy's branding written into it (HTML-escaped)
and the assets' content hashes in their URLs, so the assets (script, stylesheet, icon) can be
cached for a year and a repeat visit costs one request for the page. The Content-Security-Policy allows scripts,
styles and API calls from this origin only, images from this origin and the logo's,
framing by the configured origins only, and Trusted Types with no policy, so no code in
the page can assign HTML from a string: data from receivers and publishers can only ever
become text.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from functions.core.constants import MAX_RATE_LIMIT_PER_SECOND
from functions.portal.branding import NO_FRAMING, PortalBranding

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS: dict[str, str] = {
    "portal.js": "text/javascript; charset=utf-8",
    "portal.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
PAGE_TEMPLATE = "index.html"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
PAGE_CACHE_CONTROL = "no-cache"

COMMON_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass(frozen=True)
class StaticResponse:
    content_type: str
    body: str
    headers: dict[str, str]

    def proxy_result(self) -> dict[str, Any]:
        """What the function returns to API Gateway: 200, the headers and the text."""
        return {"statusCode": 200, "headers": {**self.headers, "Content-Type": self.content_type}, "body": self.body}


@cache
def _asset_text(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def asset_version(name: str) -> str:
    return hashlib.sha256(_asset_text(name).encode()).hexdigest()[:16]


def content_security_policy(branding: PortalBranding) -> str:
    images = " ".join(["'self'", *([branding.logo_origin] if branding.logo_origin else [])])
    ancestors = " ".join(branding.frame_ancestors) or NO_FRAMING
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
            f"frame-ancestors {ancestors}",
            "require-trusted-types-for 'script'",
            "trusted-types 'none'",
        ]
    )


def page(branding: PortalBranding) -> StaticResponse:
    """The portal page, branded; the token arrives in its URL fragment, which no server sees.

    It also carries the API's bounds the page's forms check before sending (the rate limit's highest value).
    """
    values = {
        "name": branding.name,
        "logo_url": branding.logo_url,
        "accent": branding.accent_color,
        "js_version": asset_version("portal.js"),
        "css_version": asset_version("portal.css"),
        "icon_version": asset_version("icon.svg"),
        "max_rate_limit": str(MAX_RATE_LIMIT_PER_SECOND),
    }
    body = _asset_text(PAGE_TEMPLATE)
    for key, value in values.items():
        body = body.replace("{{" + key + "}}", html.escape(value, quote=True))
    headers = {
        **COMMON_HEADERS,
        "Content-Security-Policy": content_security_policy(branding),
        "Cache-Control": PAGE_CACHE_CONTROL,
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if not branding.frame_ancestors:
        headers["X-Frame-Options"] = "DENY"
    return StaticResponse("text/html; charset=utf-8", body, headers)


def asset(name: str) -> StaticResponse | None:
    """A script or stylesheet of the portal, or None for any other name."""
    content_type = ASSETS.get(name)
    if content_type is None:
        return None
    headers = {**COMMON_HEADERS, "Cache-Control": ASSET_CACHE_CONTROL}
    return StaticResponse(content_type, _asset_text(name), headers)
