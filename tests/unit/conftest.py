"""Unit-test fixtures shared by several modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dovecote import Dovecote
from tests.unit.test_client_fake_api import SDK_API_KEY, FakeApi


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    """A fake Dovecote API on 127.0.0.1 that the CLI reaches through its environment variables."""
    with FakeApi() as fake:
        monkeypatch.setenv("DOVECOTE_API_URL", fake.url)
        monkeypatch.setenv("DOVECOTE_API_KEY", "dvk_cli")
        yield fake


@pytest.fixture
def client(api: FakeApi) -> Iterator[Dovecote]:
    """An SDK client of the fake API that does not retry."""
    with Dovecote(api_key=SDK_API_KEY, base_url=api.url, max_retries=0) as dovecote:
        yield dovecote
