"""Custom headers: what an endpoint may add to its deliveries, and what is refused with the path of the fault."""

from __future__ import annotations

import pytest

from functions.core.custom_headers import (
    MAX_CUSTOM_HEADER_BYTES,
    MAX_CUSTOM_HEADERS,
    CustomHeaderError,
    validate_custom_headers,
)
from functions.core.profile import load_profile

STANDARD = load_profile("standard")
MUTX = load_profile("mutx")


def test_ordinary_headers_are_kept_as_given() -> None:
    headers = {"X-Customer": "acme", "Authorization": "Bearer abc", "X-Trace": "a b=c;d"}
    assert validate_custom_headers(headers, STANDARD) == headers


@pytest.mark.parametrize(
    "name", ["webhook-signature", "Webhook-Id", "webhook-timestamp", "Content-Type", "user-agent", "Content-Length"]
)
def test_headers_dovecote_sets_are_refused(name: str) -> None:
    with pytest.raises(CustomHeaderError) as refused:
        validate_custom_headers({name: "x"}, STANDARD)
    assert refused.value.path == f"headers.{name}"


def test_the_profiles_own_header_names_are_the_reserved_ones() -> None:
    signature = MUTX.headers.signature
    with pytest.raises(CustomHeaderError, match="sets this header itself"):
        validate_custom_headers({signature: "x"}, MUTX)
    assert validate_custom_headers({"webhook-signature": "x"}, MUTX) == {"webhook-signature": "x"}


@pytest.mark.parametrize("name", ["Connection", "Transfer-Encoding", "Host", "TE", "Upgrade", "Keep-Alive"])
def test_hop_by_hop_headers_are_refused(name: str) -> None:
    with pytest.raises(CustomHeaderError, match="sets this header itself"):
        validate_custom_headers({name: "x"}, STANDARD)


@pytest.mark.parametrize("name", ["X Customer", "X-Customer:", "", "Ünicode", "X\r\nY"])
def test_names_that_are_not_http_tokens_are_refused(name: str) -> None:
    with pytest.raises(CustomHeaderError, match="not a valid HTTP header name"):
        validate_custom_headers({name: "x"}, STANDARD)


@pytest.mark.parametrize("value", ["a\r\nInjected: 1", "a\nb", "tab\there", "caf\u00e9", "nul\x00"])
def test_values_with_control_or_non_ascii_characters_are_refused(value: str) -> None:
    with pytest.raises(CustomHeaderError) as refused:
        validate_custom_headers({"X-Customer": value}, STANDARD)
    assert refused.value.path == "headers.X-Customer"


def test_a_name_given_twice_in_other_case_is_refused() -> None:
    with pytest.raises(CustomHeaderError, match="given twice"):
        validate_custom_headers({"X-Customer": "a", "x-customer": "b"}, STANDARD)


def test_at_most_twenty_headers_and_four_kib_in_all() -> None:
    at_most = {f"X-H{n}": "v" for n in range(MAX_CUSTOM_HEADERS)}
    assert validate_custom_headers(at_most, STANDARD) == at_most
    with pytest.raises(CustomHeaderError, match=f"at most {MAX_CUSTOM_HEADERS} headers"):
        validate_custom_headers({**at_most, "X-One-More": "v"}, STANDARD)
    with pytest.raises(CustomHeaderError, match=f"at most {MAX_CUSTOM_HEADER_BYTES} bytes"):
        validate_custom_headers({"X-A": "v" * 2100, "X-B": "v" * 2100}, STANDARD)
