"""Property: endpoint URL / SSRF validation agrees with an independent oracle, and never crashes.

- A literal address, in any spelling, is accepted iff the oracle (Python's `ipaddress`, with
  IPv4-mapped, 6to4 and Teredo addresses unwrapped) calls it globally routable.
- A name is accepted at registration iff every address it resolves to is; at send time the
  target is pinned to exactly those addresses.
- Arbitrary text never raises anything but UnsafeUrlError (a 422 at the API, never a 500).
- With the local switch, loopback is allowed (over http too) and nothing else changes.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.core.errors import UnsafeUrlError
from functions.core.urls import UrlPolicy, resolve_delivery_target, validate_endpoint_url

EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
DEPLOYED = UrlPolicy(https_only=True, allow_loopback=False)
LOCAL = UrlPolicy(https_only=True, allow_loopback=True)

# Addresses drawn near the interesting ranges as well as anywhere.
V4_RANGES = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32", "8.8.8.0/24", "93.184.216.0/24",
]  # fmt: skip
V6_RANGES = [
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "100::/64", "2001::/32", "2001:db8::/32",
    "2002::/16", "fc00::/7", "fe80::/10", "ff00::/8", "2600::/16", "2a00::/16",
]  # fmt: skip


def _in(network: str) -> st.SearchStrategy[Any]:
    net = ipaddress.ip_network(network)
    return st.integers(0, net.num_addresses - 1).map(lambda offset: net[offset])


ipv4 = st.one_of(st.sampled_from(V4_RANGES).flatmap(_in), st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
ipv6 = st.one_of(st.sampled_from(V6_RANGES).flatmap(_in), st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address))
addresses = st.one_of(ipv4, ipv6)


def oracle_allows(address: Any, policy: UrlPolicy) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        unwrapped = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if unwrapped is not None:
            address = unwrapped
    if address.is_loopback:
        return policy.allow_loopback
    return bool(address.is_global) and not (
        address.is_multicast or address.is_link_local or address.is_reserved or address.is_unspecified
        or address.is_private
    )  # fmt: skip


def spelled(address: Any) -> str:
    return f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)


def accepted(url: str, policy: UrlPolicy, resolver: Any = None) -> bool:
    try:
        if resolver is None:
            validate_endpoint_url(url, policy, lambda host, port: [])
        else:
            validate_endpoint_url(url, policy, resolver)
    except UnsafeUrlError:
        return False
    return True


@EXAMPLES
@given(addresses, st.sampled_from([DEPLOYED, LOCAL]))
def test_a_literal_address_is_accepted_iff_the_oracle_says_it_is_global(address: Any, policy: UrlPolicy) -> None:
    url = f"https://{spelled(address)}:8443/hooks?x=1"
    assert accepted(url, policy) is oracle_allows(address, policy), url


@EXAMPLES
@given(ipv4, st.sampled_from(["decimal", "hex", "octal", "short"]))
def test_every_ipv4_spelling_is_judged_like_the_address(address: ipaddress.IPv4Address, spelling: str) -> None:
    value = int(address)
    a, b, c, d = address.packed
    text = {
        "decimal": str(value),
        "hex": hex(value),
        "octal": ".".join(f"0{part:o}" for part in (a, b, c, d)),
        "short": f"{a}.{(b << 16) | (c << 8) | d}",
    }[spelling]
    assert accepted(f"https://{text}/", DEPLOYED) is oracle_allows(address, DEPLOYED), text


@EXAMPLES
@given(st.lists(addresses, min_size=1, max_size=4))
def test_a_name_is_accepted_iff_every_address_it_resolves_to_is(resolved: list[Any]) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return [str(a) for a in resolved]

    url = "https://hooks.example.com/in"
    expected = all(oracle_allows(a, DEPLOYED) for a in resolved)
    assert accepted(url, DEPLOYED, resolver) is expected
    if expected:
        target = resolve_delivery_target(url, DEPLOYED, resolver)
        assert set(target.addresses) == {str(a) for a in resolved}
        assert (target.host, target.port, target.path) == ("hooks.example.com", 443, "/in")
    else:
        try:
            resolve_delivery_target(url, DEPLOYED, resolver)
        except UnsafeUrlError:
            pass
        else:
            raise AssertionError("the send-time check let an unsafe address through")


@EXAMPLES
@given(st.text(max_size=120))
def test_arbitrary_text_is_refused_cleanly_or_accepted(text: str) -> None:
    for candidate in (text, f"https://{text}", f"https://hooks.example.com/{text}"):
        try:
            validate_endpoint_url(candidate, DEPLOYED, lambda host, port: ["93.184.216.34"])
        except UnsafeUrlError:
            continue


@EXAMPLES
@given(ipv4)
def test_plain_http_is_only_for_loopback_under_the_local_switch(address: ipaddress.IPv4Address) -> None:
    url = f"http://{address}/hooks"
    assert accepted(url, LOCAL) is address.is_loopback
    assert not accepted(url, DEPLOYED)
