"""Client configuration from arguments and the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dovecote import ConfigurationError, Dovecote, DovecoteError
from tests.unit.test_client_fake_api import FakeApi, webhook_json


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with FakeApi() as fake:
        fake.add("GET", "/v1/webhooks/wh_1", body=webhook_json())
        yield fake


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DOVECOTE_API_URL", "DOVECOTE_API_KEY", "DOVECOTE_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def test_url_and_key_come_from_the_environment(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOVECOTE_API_URL", api.url)
    monkeypatch.setenv("DOVECOTE_API_KEY", "dvk_from_env")
    with Dovecote() as client:
        client.webhooks.get("wh_1")
    assert api.requests[0].headers["authorization"] == "Bearer dvk_from_env"


def test_arguments_win_over_the_environment(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOVECOTE_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DOVECOTE_API_KEY", "dvk_from_env")
    with Dovecote(api_key="dvk_argument", base_url=api.url) as client:
        client.webhooks.get("wh_1")
    assert api.requests[0].headers["authorization"] == "Bearer dvk_argument"


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_base_url_may_end_with_v1_or_a_slash(api: FakeApi, suffix: str) -> None:
    with Dovecote(api_key="dvk", base_url=api.url + suffix) as client:
        client.webhooks.get("wh_1")
    assert api.requests[0].path == "/v1/webhooks/wh_1"


def test_missing_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOVECOTE_API_KEY", "dvk")
    with pytest.raises(ConfigurationError, match="DOVECOTE_API_URL"):
        Dovecote()


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOVECOTE_API_URL", "http://127.0.0.1:8787")
    with pytest.raises(ConfigurationError, match="DOVECOTE_API_KEY") as raised:
        Dovecote()
    assert isinstance(raised.value, DovecoteError)
    assert isinstance(raised.value, ValueError)


def test_url_without_scheme_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        Dovecote(api_key="dvk", base_url="127.0.0.1:8787")


def test_timeout_from_the_environment(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOVECOTE_TIMEOUT", "2.5")
    client = Dovecote(api_key="dvk", base_url=api.url)
    assert client._transport.settings.timeout == 2.5
    monkeypatch.setenv("DOVECOTE_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="DOVECOTE_TIMEOUT"):
        Dovecote(api_key="dvk", base_url=api.url)


def test_negative_max_retries_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="max_retries"):
        Dovecote(api_key="dvk", base_url="http://127.0.0.1:8787", max_retries=-1)
