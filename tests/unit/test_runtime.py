"""The runtime module: settings that name what is missing, service names from the environment, one client config."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.runtime import clients, observability
from functions.runtime.settings import (
    ENV_DELIVERIES_QUEUE,
    ENV_EVENTS_QUEUE,
    ENV_STATE_MACHINE,
    ENV_TABLE,
    ENV_TIME_SCALE,
    REQUIRED_ENVIRONMENT,
    Settings,
    SettingsError,
)

ALL_VARIABLES = (ENV_TABLE, ENV_STATE_MACHINE, ENV_EVENTS_QUEUE, ENV_DELIVERIES_QUEUE)


@pytest.fixture
def complete_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ALL_VARIABLES:
        monkeypatch.setenv(name, f"value-of-{name}")
    monkeypatch.delenv(ENV_TIME_SCALE, raising=False)
    return monkeypatch


@pytest.mark.parametrize("function_name", sorted(REQUIRED_ENVIRONMENT))
def test_a_function_refuses_to_start_without_a_variable_it_needs_and_names_it(
    complete_environment: pytest.MonkeyPatch, function_name: str
) -> None:
    assert Settings.for_function(function_name).table_name == f"value-of-{ENV_TABLE}"
    for variable in REQUIRED_ENVIRONMENT[function_name]:
        complete_environment.delenv(variable)
        with pytest.raises(SettingsError, match=f"{variable} must be set: {function_name}"):
            Settings.for_function(function_name)
        complete_environment.setenv(variable, "back")


def test_a_variable_a_function_does_not_need_may_be_missing(complete_environment: pytest.MonkeyPatch) -> None:
    complete_environment.delenv(ENV_DELIVERIES_QUEUE)
    assert Settings.for_function("management").deliveries_queue_url == ""


@pytest.mark.parametrize("text", ["0", "-1", "fast"])
def test_a_time_scale_that_is_not_a_positive_number_is_refused(
    complete_environment: pytest.MonkeyPatch, text: str
) -> None:
    complete_environment.setenv(ENV_TIME_SCALE, text)
    with pytest.raises(SettingsError, match=ENV_TIME_SCALE):
        Settings.for_function("deliver")


def test_logs_and_metrics_carry_the_service_name_the_stack_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(observability.ENV_SERVICE, "deliver")
    assert observability.logger().service == "deliver"
    assert observability.metrics().service == "deliver"
    monkeypatch.delenv(observability.ENV_SERVICE)
    assert observability.logger().service == observability.DEFAULT_SERVICE


def test_every_client_has_timeouts_and_standard_retries() -> None:
    config = clients.client_config()
    assert config.connect_timeout == clients.CONNECT_TIMEOUT_SECONDS
    assert config.read_timeout == clients.READ_TIMEOUT_SECONDS
    assert config.retries == {"mode": "standard", "max_attempts": clients.MAX_ATTEMPTS}


def test_no_handler_builds_a_bare_client_or_names_its_own_service() -> None:
    root = Path(__file__).resolve().parents[2] / "functions"
    offenders = []
    for path in root.rglob("*.py"):
        if path.parent.name == "runtime":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("boto3.client(", "Logger(service=", "Metrics(namespace="):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


def test_disabled_metrics_are_neither_kept_nor_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    disabled = observability.metrics()
    for _ in range(250):  # Powertools prints a metric's values every 100, disabled or not
        disabled.add_metric(name="DeliveriesSucceeded", unit="Count", value=1)
    disabled.flush_metrics()

    assert capsys.readouterr().out == ""


def test_enabled_metrics_are_printed_as_emf(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    enabled = observability.metrics()
    enabled.add_metric(name="DeliveriesSucceeded", unit="Count", value=1)
    enabled.flush_metrics()

    assert '"DeliveriesSucceeded":[1.0]' in capsys.readouterr().out
