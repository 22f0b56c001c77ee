"""What a response means: delivered, retried (when, if it says: `Retry-After`), or gone for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.core.classify import Verdict, classify, retry_after_seconds


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert classify(status) is Verdict.SUCCEEDED


def test_410_gone_stops_retries() -> None:
    assert classify(410) is Verdict.GONE


@pytest.mark.parametrize("status", [100, 199, 300, 301, 302, 307, 308, 400, 401, 404, 408, 429, 500, 502, 503, 504])
def test_redirects_and_other_errors_are_retried(status: int) -> None:
    assert classify(status) is Verdict.RETRY


def test_no_response_is_retried() -> None:
    assert classify(None) is Verdict.RETRY


ANSWERED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LONGEST_DELAY = 36_000


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_read_from_a_429_or_503(status: int) -> None:
    assert retry_after_seconds(status, "2", ANSWERED_AT, LONGEST_DELAY) == 2
    assert retry_after_seconds(status, " 120 ", ANSWERED_AT, LONGEST_DELAY) == 120


def test_retry_after_as_an_http_date_counts_from_the_answer_rounding_up() -> None:
    assert retry_after_seconds(429, "Thu, 01 Jan 2026 12:00:30 GMT", ANSWERED_AT, LONGEST_DELAY) == 30
    half_a_second_before = ANSWERED_AT - timedelta(milliseconds=500)
    assert retry_after_seconds(503, "Thu, 01 Jan 2026 12:00:30 GMT", half_a_second_before, LONGEST_DELAY) == 31
    # the obsolete forms an HTTP-date may still take (RFC 850, asctime)
    assert retry_after_seconds(429, "Thursday, 01-Jan-26 12:01:00 GMT", ANSWERED_AT, LONGEST_DELAY) == 60
    assert retry_after_seconds(429, "Thu Jan  1 12:01:00 2026", ANSWERED_AT, LONGEST_DELAY) == 60


def test_retry_after_as_a_date_already_past_asks_for_no_wait() -> None:
    assert retry_after_seconds(429, "Wed, 31 Dec 2025 12:00:00 GMT", ANSWERED_AT, LONGEST_DELAY) == 0


@pytest.mark.parametrize("header", ["", "soon", "-5", "1.5", "2 seconds", "0x10", "²", "Thu, 99 Foo 2026 25:00:00 GMT"])
def test_retry_after_that_is_neither_seconds_nor_a_date_is_ignored(header: str) -> None:
    assert retry_after_seconds(429, header, ANSWERED_AT, LONGEST_DELAY) is None


@pytest.mark.parametrize("header", ["99999999999999999999", "604800", "Fri, 01 Jan 2027 12:00:00 GMT"])
def test_a_huge_retry_after_is_capped_at_the_longest_delay_of_the_table(header: str) -> None:
    assert retry_after_seconds(429, header, ANSWERED_AT, LONGEST_DELAY) == LONGEST_DELAY


@pytest.mark.parametrize("status", [None, 200, 410, 500, 502])
def test_retry_after_counts_only_on_a_429_or_503(status: int | None) -> None:
    assert retry_after_seconds(status, "2", ANSWERED_AT, LONGEST_DELAY) is None


def test_a_429_without_retry_after_asks_nothing() -> None:
    assert retry_after_seconds(429, None, ANSWERED_AT, LONGEST_DELAY) is None
