"""Endpoint URL rules and SSRF protection, applied at registration and again at send time.

A host must not be, or resolve to, an address that is not globally routable: private,
loopback, link-local (169.254.169.254), unique-local, multicast, reserved, unspecified,
shared (100.64/10), including IPv4-mapped IPv6 and the decimal/octal/hex IPv4 spellings
that `inet_aton` (and so every resolver) accepts. A host name must be a valid, fully
qualified DNS name outside the special-use domains (`localhost`, `.local`, `.internal`, …),
so names that do not resolve yet are still safe to accept at registration. The local stack
may allow loopback.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from functions.core.errors import UnsafeUrlError

MAX_URL_LENGTH = 2048
MAX_HOST_NAME_LENGTH = 253
LOOPBACK_NAME = "localhost"
SPECIAL_USE_DOMAINS = ("localhost", "local", "localdomain", "internal", "intranet", "lan", "home.arpa")
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class UrlPolicy:
    https_only: bool = True
    allow_loopback: bool = False
    """Local development only: receivers on 127.0.0.1 / ::1, over http too."""


@dataclass(frozen=True)
class DeliveryTarget:
    scheme: str
    host: str
    port: int
    path: str
    """Path and query, as sent on the request line."""
    addresses: tuple[str, ...]
    """Resolved addresses that passed the checks: connect to one of these, not to `host`."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    try:  # 2130706433, 0x7f.1, 0177.0.0.1: spellings inet_aton accepts
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return address


def address_refusal(address: IPAddress, policy: UrlPolicy) -> str | None:
    """Why this address may not receive deliveries, or None when it may."""
    address = _unwrap(address)
    if address.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return "a private or non-routable address"
    return None


def _in_domain(name: str, domain: str) -> bool:
    return name == domain or name.endswith(f".{domain}")


def host_name_refusal(host: str, policy: UrlPolicy) -> str | None:
    """Why this host name may not receive deliveries, or None when it may (before it is resolved)."""
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return "not a valid host name"
    labels = name.split(".")
    if len(name) > MAX_HOST_NAME_LENGTH or not all(_DNS_LABEL.match(label) for label in labels):
        return "not a valid host name"
    if _in_domain(name, LOOPBACK_NAME):
        return None if policy.allow_loopback else "a loopback name"
    if len(labels) < 2:
        return "not a fully qualified domain name"
    if any(_in_domain(name, domain) for domain in SPECIAL_USE_DOMAINS):
        return "a name reserved for private networks"
    return None


def _split(url: str, policy: UrlPolicy) -> tuple[SplitResult, str, int]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError(f"url: longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UnsafeUrlError("url: must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrlError(f"url: {error}") from None
    if parts.scheme not in ("https", "http"):
        raise UnsafeUrlError("url: the scheme must be https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeUrlError("url: must not contain a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrlError("url: has no host")
    if port == 0:
        raise UnsafeUrlError("url: port 0 is not a port a server listens on")
    return parts, host, port or (443 if parts.scheme == "https" else 80)


def _check_scheme(parts: SplitResult, addresses: list[IPAddress], policy: UrlPolicy) -> None:
    if parts.scheme == "https" or not policy.https_only:
        return
    loopback_only = bool(addresses) and all(_unwrap(a).is_loopback for a in addresses)
    if not (policy.allow_loopback and loopback_only):
        raise UnsafeUrlError("url: the scheme must be https")


def _checked_addresses(host: str, addresses: list[str], policy: UrlPolicy) -> list[IPAddress]:
    parsed = [ipaddress.ip_address(a.split("%")[0]) for a in addresses]
    for address in parsed:
        refusal = address_refusal(address, policy)
        if refusal:
            raise UnsafeUrlError(f"url: {host} is, or resolves to, {refusal}")
    return parsed


def _check_host_name(host: str, policy: UrlPolicy) -> None:
    refusal = host_name_refusal(host, policy)
    if refusal:
        raise UnsafeUrlError(f"url: {host} is {refusal}")


def validate_endpoint_url(url: str, policy: UrlPolicy, resolver: Resolver = system_resolver) -> str:
    """Registration check. A host that does not resolve yet is accepted (checked again at send time)."""
    parts, host, port = _split(url, policy)
    literal = _literal_address(host)
    if literal is not None:
        addresses = _checked_addresses(host, [str(literal)], policy)
    else:
        _check_host_name(host, policy)
        try:
            resolved = resolver(host, port)
        except (OSError, UnicodeError):
            resolved = []
        addresses = _checked_addresses(host, resolved, policy)
    _check_scheme(parts, addresses, policy)
    return url


def resolve_delivery_target(url: str, policy: UrlPolicy, resolver: Resolver = system_resolver) -> DeliveryTarget:
    """Send-time check: resolve now and refuse if any address is unsafe (DNS rebinding)."""
    parts, host, port = _split(url, policy)
    literal = _literal_address(host)
    if literal is not None:
        resolved = [str(literal)]
    else:
        _check_host_name(host, policy)
        try:
            resolved = resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise ConnectionError(f"cannot resolve {host}: {error}") from None
        if not resolved:
            raise ConnectionError(f"cannot resolve {host}")
    addresses = _checked_addresses(host, resolved, policy)
    _check_scheme(parts, addresses, policy)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return DeliveryTarget(
        scheme=parts.scheme,
        host=host,
        port=port,
        path=path,
        addresses=tuple(str(a) for a in addresses),
    )
