"""The portal's deploy-time settings: the platform's name, logo, accent colour and framing origins.

Set with CDK context at deploy time (infra/portal.py) and passed to the portal function
as environment variables; parsed by the same rules on both sides, so a bad value fails
synthesis with a message naming it instead of serving a broken page. Everything here
ends up in a response header (the Content-Security-Policy) or in the page, so each value
is held to a shape that cannot break out of either: no quotes, spaces, semicolons or
angle brackets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

ENV_PORTAL_NAME = "DOVECOTE_PORTAL_NAME"
ENV_PORTAL_LOGO_URL = "DOVECOTE_PORTAL_LOGO_URL"
ENV_PORTAL_ACCENT_COLOR = "DOVECOTE_PORTAL_ACCENT_COLOR"
ENV_PORTAL_FRAME_ANCESTORS = "DOVECOTE_PORTAL_FRAME_ANCESTORS"

DEFAULT_NAME = "Webhooks"
DEFAULT_ACCENT_COLOR = "#4f46e5"
MAX_NAME_CHARS = 80
MAX_LOGO_URL_CHARS = 2048
MAX_FRAME_ANCESTORS = 20
NO_FRAMING = "'none'"

_ACCENT = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_HOST = re.compile(r"^(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_ORIGIN = re.compile(r"^(?P<scheme>https?)://(?P<host>[^/:]+)(?::(?P<port>[0-9]{1,5}))?/?$")
_URL_FORBIDDEN = re.compile(r"[\s'\";,<>\\`]")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
"""Hosts allowed over plain http (a platform developing against `make local`)."""


class PortalSettingsError(ValueError):
    """A portal setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class PortalBranding:
    name: str = DEFAULT_NAME
    logo_url: str = ""
    """An https URL (http on loopback), or empty for no logo."""
    accent_color: str = DEFAULT_ACCENT_COLOR
    frame_ancestors: tuple[str, ...] = ()
    """Origins allowed to frame the portal (`'self'` included); empty: no one may frame it."""

    @property
    def logo_origin(self) -> str:
        if not self.logo_url:
            return ""
        parts = urlsplit(self.logo_url)
        return f"{parts.scheme}://{parts.netloc}"

    def environment(self) -> dict[str, str]:
        """The portal function's environment variables carrying these settings."""
        return {
            ENV_PORTAL_NAME: self.name,
            ENV_PORTAL_LOGO_URL: self.logo_url,
            ENV_PORTAL_ACCENT_COLOR: self.accent_color,
            ENV_PORTAL_FRAME_ANCESTORS: " ".join(self.frame_ancestors),
        }


def parse_branding(
    *, name: str | None = None, logo_url: str | None = None, accent_color: str | None = None, frame_ancestors: str = ""
) -> PortalBranding:
    """Checked settings; `frame_ancestors` is a space- or comma-separated list of origins."""
    return PortalBranding(
        name=_name(name),
        logo_url=_logo_url(logo_url or ""),
        accent_color=_accent(accent_color),
        frame_ancestors=_frame_ancestors(frame_ancestors),
    )


def branding_from_environment(environment: Mapping[str, str] | None = None) -> PortalBranding:
    variables = os.environ if environment is None else environment
    return parse_branding(
        name=variables.get(ENV_PORTAL_NAME),
        logo_url=variables.get(ENV_PORTAL_LOGO_URL),
        accent_color=variables.get(ENV_PORTAL_ACCENT_COLOR),
        frame_ancestors=variables.get(ENV_PORTAL_FRAME_ANCESTORS, ""),
    )


def _name(name: str | None) -> str:
    text = (name or "").strip() or DEFAULT_NAME
    if len(text) > MAX_NAME_CHARS or not text.isprintable():
        raise PortalSettingsError(f"portal name: at most {MAX_NAME_CHARS} printable characters")
    return text


def _accent(color: str | None) -> str:
    text = (color or "").strip() or DEFAULT_ACCENT_COLOR
    if not _ACCENT.fullmatch(text):
        raise PortalSettingsError(f"portal accent colour: {text[:20]!r} is not a hex colour such as #4f46e5")
    return text.lower()


def _is_loopback(host: str) -> bool:
    return host in _LOOPBACK_HOSTS


def _logo_url(url: str) -> str:
    text = url.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    secure = parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.netloc.rsplit(":", 1)[0]))
    if (
        len(text) > MAX_LOGO_URL_CHARS
        or _URL_FORBIDDEN.search(text)
        or not secure
        or not host
        or parts.username is not None
        or parts.password is not None
    ):
        raise PortalSettingsError(
            f"portal logo URL: {text[:80]!r} must be an https URL (http only on 127.0.0.1 or localhost), "
            "without quotes, spaces, commas or semicolons"
        )
    return text


def _origin(text: str) -> str:
    if text in ("'self'", "self"):
        return "'self'"
    match = _ORIGIN.fullmatch(text)
    if match is None:
        raise PortalSettingsError(
            f"portal frame ancestor: {text[:80]!r} is not an origin such as https://app.example.com"
        )
    scheme, host, port = match.group("scheme"), match.group("host").lower(), match.group("port")
    if not (_HOST.fullmatch(host) or host == "127.0.0.1"):
        raise PortalSettingsError(f"portal frame ancestor: {text[:80]!r} has no valid host name")
    if scheme == "http" and not _is_loopback(host):
        raise PortalSettingsError(f"portal frame ancestor: {text[:80]!r} must be https (http only on loopback)")
    if port is not None and not 0 < int(port) < 65536:
        raise PortalSettingsError(f"portal frame ancestor: {text[:80]!r} has no valid port")
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _frame_ancestors(value: str) -> tuple[str, ...]:
    entries = [entry for entry in re.split(r"[\s,]+", value.strip()) if entry]
    if entries in (["'none'"], ["none"]):
        return ()
    if len(entries) > MAX_FRAME_ANCESTORS:
        raise PortalSettingsError(f"portal frame ancestors: at most {MAX_FRAME_ANCESTORS} origins")
    origins: list[str] = []
    for entry in entries:
        origin = _origin(entry)
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)
