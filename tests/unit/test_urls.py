"""Endpoint URL rules and SSRF protection (functions/core/urls.py)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.core.errors import UnsafeUrlError
from functions.core.urls import UrlPolicy, resolve_delivery_target, validate_endpoint_url

STRICT = UrlPolicy()
LOCAL = UrlPolicy(allow_loopback=True)
PUBLIC_IP = "93.184.216.34"


def resolving_to(*addresses: str):
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


def unresolvable(host: str, port: int) -> list[str]:
    raise OSError("Name or service not known")


def refused(url: str, policy: UrlPolicy = STRICT, resolver=unresolvable) -> str:
    with pytest.raises(UnsafeUrlError) as caught:
        validate_endpoint_url(url, policy, resolver)
    assert caught.value.message.startswith("url: ")
    return caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/dovecote",
        "https://hooks.example.com:8443/in?token=abc",
        "https://EXAMPLE.com./",
        "https://bücher.example/",
        "https://1.1.1.1/",
        "https://[2606:4700:4700::1111]/hook",
    ],
)
def test_public_https_urls_are_accepted(url: str):
    assert validate_endpoint_url(url, STRICT, resolving_to(PUBLIC_IP)) == url


def test_a_host_that_does_not_resolve_yet_is_accepted_at_registration():
    assert validate_endpoint_url("https://soon.example.com/", STRICT, unresolvable)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/", "https"),
        ("ftp://hooks.example.com/", "https"),
        ("https://user:pw@hooks.example.com/", "user name"),
        ("https://hooks.example.com@evil.example/", "user name"),
        ("https:///path-only", "no host"),
        ("https://hooks.example.com/a b", "whitespace"),
        ("https://hooks.example.com/\x00", "control"),
        ("https://hooks.example.com:0/", "port 0"),
        ("https://hooks.example.com:99999/", "out of range"),
        ("https://" + "a" * 2050 + ".com/", "longer than"),
        ("https://localhost/", "loopback name"),
        ("https://api.localhost/", "loopback name"),
        ("https://printer.local/", "reserved"),
        ("https://metadata.google.internal/", "reserved"),
        ("https://nas.home.arpa/", "reserved"),
        ("https://intranet/", "fully qualified"),
        ("https://%31%32%37.0.0.1/", "valid host name"),
        ("https://bad_host-.example.com/", "valid host name"),
        ("https://a..b.example.com/", "valid host name"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[fe80::1%25eth0]/", "link-local"),
        ("https://[fd00:ec2::254]/", "private"),
        ("https://100.64.0.1/", "private"),
        ("https://[::]/", "unspecified"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://224.0.0.1/", "multicast"),
        ("https://[ff02::1]/", "multicast"),
        ("https://240.0.0.1/", "reserved"),
    ],
)
def test_unsafe_urls_are_refused_with_the_reason(url: str, reason: str):
    assert reason in refused(url)


@pytest.mark.parametrize(
    "addresses",
    [["10.0.0.7"], ["127.0.0.1"], [PUBLIC_IP, "169.254.169.254"], ["::1"], ["::ffff:192.168.1.1"], ["fc00::5"]],
)
def test_a_name_resolving_to_any_unsafe_address_is_refused(addresses: list[str]):
    refused("https://rebind.example.com/", resolver=resolving_to(*addresses))


def test_the_local_switch_allows_loopback_receivers_over_http():
    assert validate_endpoint_url("http://127.0.0.1:8787/hook", LOCAL, unresolvable)
    assert validate_endpoint_url("http://localhost:8787/hook", LOCAL, resolving_to("127.0.0.1", "::1"))
    assert validate_endpoint_url("http://[::1]:8787/hook", LOCAL, unresolvable)


def test_the_local_switch_still_refuses_private_and_plain_http_public_hosts():
    refused("http://10.0.0.1/", LOCAL)
    refused("http://hooks.example.com/", LOCAL, resolving_to(PUBLIC_IP))
    refused("http://169.254.169.254/", LOCAL)


def test_a_profile_without_https_only_accepts_public_http():
    policy = UrlPolicy(https_only=False)

    assert validate_endpoint_url("http://hooks.example.com/", policy, resolving_to(PUBLIC_IP))
    refused("http://192.168.0.10/", policy)


def test_the_send_time_check_pins_the_resolved_addresses():
    target = resolve_delivery_target("https://hooks.example.com:8443/in?x=1", STRICT, resolving_to(PUBLIC_IP))

    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.example.com", 8443, "/in?x=1")
    assert target.addresses == (PUBLIC_IP,)


def test_the_send_time_check_refuses_a_name_that_now_resolves_to_a_private_address():
    with pytest.raises(UnsafeUrlError):
        resolve_delivery_target("https://hooks.example.com/", STRICT, resolving_to("10.9.8.7"))


def test_the_send_time_check_fails_to_connect_when_the_name_does_not_resolve():
    with pytest.raises(ConnectionError):
        resolve_delivery_target("https://hooks.example.com/", STRICT, unresolvable)


# Properties: every spelling of an address that `inet_aton` or an IPv6 parser accepts is
# judged like the address itself.

NON_ROUTABLE_V4 = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]
PUBLIC_V4 = [ipaddress.ip_network(n) for n in ("8.0.0.0/8", "52.0.0.0/8", "93.0.0.0/8", "151.0.0.0/8", "185.0.0.0/8")]


def addresses_in(networks: list[ipaddress.IPv4Network]) -> st.SearchStrategy[int]:
    return st.sampled_from(networks).flatmap(
        lambda net: st.integers(int(net.network_address), int(net.broadcast_address))
    )


def _octets(value: int) -> list[int]:
    return [(value >> shift) & 0xFF for shift in (24, 16, 8, 0)]


SPELLINGS = {
    "dotted": lambda v: ".".join(str(o) for o in _octets(v)),
    "dotted, trailing dot": lambda v: ".".join(str(o) for o in _octets(v)) + ".",
    "decimal": str,
    "hex": hex,
    "octal parts": lambda v: ".".join(f"0{o:o}" for o in _octets(v)),
    "hex parts": lambda v: ".".join(f"0x{o:02x}" for o in _octets(v)),
    "two parts": lambda v: f"{v >> 24}.{v & 0xFFFFFF}",
    "three parts": lambda v: f"{v >> 24}.{(v >> 16) & 0xFF}.{v & 0xFFFF}",
    "ipv4-mapped": lambda v: f"[::ffff:{ipaddress.IPv4Address(v)}]",
    "ipv4-mapped hex": lambda v: f"[::ffff:{v >> 16:x}:{v & 0xFFFF:x}]",
    "6to4": lambda v: f"[2002:{v >> 16:x}:{v & 0xFFFF:x}::1]",
}


@given(value=addresses_in(NON_ROUTABLE_V4), spelling=st.sampled_from(sorted(SPELLINGS)))
def test_every_spelling_of_a_non_routable_address_is_refused(value: int, spelling: str):
    host = SPELLINGS[spelling](value)

    refused(f"https://{host}/hook", UrlPolicy(allow_loopback=False))


@given(value=addresses_in(PUBLIC_V4), spelling=st.sampled_from(sorted(SPELLINGS)))
def test_every_spelling_of_a_public_address_is_accepted(value: int, spelling: str):
    host = SPELLINGS[spelling](value)

    assert validate_endpoint_url(f"https://{host}/hook", STRICT, unresolvable)


@given(value=addresses_in([ipaddress.ip_network("127.0.0.0/8")]), spelling=st.sampled_from(sorted(SPELLINGS)))
def test_every_spelling_of_a_loopback_address_is_allowed_by_the_local_switch(value: int, spelling: str):
    host = SPELLINGS[spelling](value)

    assert validate_endpoint_url(f"http://{host}:8787/hook", LOCAL, unresolvable)


@given(value=addresses_in(NON_ROUTABLE_V4))
def test_a_name_resolving_to_a_non_routable_address_is_refused(value: int):
    refused("https://hooks.example.com/", resolver=resolving_to(str(ipaddress.IPv4Address(value))))
