"""What a response means: delivered, retried, or gone for good."""

from __future__ import annotations

import pytest

from functions.core.classify import Verdict, classify


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
