"""`dovecote` failures: a non-zero exit and one line on stderr, never a traceback."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from dovecote import cli
from dovecote.cli import main
from tests.unit.cli_support import run
from tests.unit.fresh_python import run_python
from tests.unit.test_client_fake_api import FakeApi, error_json, unused_port_url


def test_api_error_is_one_line_with_type_and_message(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("GET", "/v1/webhooks/wh_404", 404, error_json("not_found", "no webhook wh_404"))
    status, out, err = run(capsys, "webhooks", "get", "wh_404")
    assert status == 1
    assert out == ""
    assert err == "error: not_found: no webhook wh_404\n"


def test_multi_line_messages_are_folded_to_one_line(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("POST", "/v1/webhooks", 422, error_json("invalid_request", "url: required\nevents: required"))
    status, _, err = run(capsys, "webhooks", "create", "https://example.com", "--events", "a")
    assert status == 1
    assert err == "error: invalid_request: url: required events: required\n"


def test_server_errors_after_retries_are_one_line(
    api: FakeApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dovecote._transport._sleep", lambda _: None)
    api.add("GET", "/v1/webhooks", 503, raw_body=b"<html>\n<body>down</body>\n</html>")
    status, _, err = run(capsys, "webhooks", "list")
    assert status == 1
    assert err == "error: api_error: HTTP 503 Service Unavailable\n"
    assert len(api.requests) == 3


def test_connection_refused_says_the_api_is_not_reachable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dovecote._transport._sleep", lambda _: None)
    url = unused_port_url()
    status, out, err = run(capsys, "--api-url", url, "--api-key", "dvk", "webhooks", "list")
    assert status == 1
    assert out == ""
    assert err == f"error: the Dovecote API at {url} is not reachable (connection refused)\n"


def test_missing_configuration_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOVECOTE_API_URL", raising=False)
    monkeypatch.delenv("DOVECOTE_API_KEY", raising=False)
    status, _, err = run(capsys, "webhooks", "list")
    assert status == 2
    assert err.count("\n") == 1
    assert "DOVECOTE_API_URL" in err


def test_invalid_json_data_is_a_usage_error(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "events", "send", "order.created", "--data", "{order: 1}")
    assert status == 2
    assert err.startswith("error: --data is not valid JSON: ")
    assert err.count("\n") == 1
    assert api.requests == []


def test_unreadable_data_file_is_a_usage_error(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = run(capsys, "events", "send", "x", "--data-file", str(tmp_path / "missing.json"))
    assert status == 2
    assert err == f"error: --data-file: cannot read {tmp_path / 'missing.json'}: No such file or directory\n"


def test_unexpected_exceptions_are_one_line(
    api: FakeApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    monkeypatch.setattr("dovecote.client.Webhooks.get", explode)
    status, _, err = run(capsys, "webhooks", "get", "wh_1")
    assert status == 1
    assert err == f"error: unexpected RuntimeError: disk on fire (set {cli.DEBUG_ENV}=1 for a traceback)\n"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def install_fake_module(monkeypatch: pytest.MonkeyPatch, name: str, calls: list[list[str]], status: int) -> None:
    def fake_main(argv: list[str]) -> int:
        calls.append(argv)
        return status

    module = types.ModuleType(name)
    module.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, name, module)


@pytest.mark.parametrize(
    ("argv", "module", "expected_argv"),
    [
        (["local", "--port", "8787", "up"], "dovecote_local", ["--port", "8787", "up"]),
        (["local", "--help"], "dovecote_local", ["--help"]),
        (["--json", "local"], "dovecote_local", []),
        (
            ["admin", "bootstrap", "--stack", "Dovecote"],
            "functions.admin.bootstrap",
            ["bootstrap", "--stack", "Dovecote"],
        ),
        (
            ["--api-url", "http://x", "admin", "bootstrap", "--json"],
            "functions.admin.bootstrap",
            ["bootstrap", "--json"],
        ),
    ],
)
def test_local_and_admin_hand_their_arguments_over(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], module: str, expected_argv: list[str]
) -> None:
    calls: list[list[str]] = []
    install_fake_module(monkeypatch, module, calls, status=3)
    assert main(argv) == 3
    assert calls == [expected_argv]


def test_a_missing_delegated_command_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "functions.admin.bootstrap", None)
    status, _, err = run(capsys, "admin", "bootstrap")
    assert status == 2
    assert err == "error: `dovecote admin` is not available in this installation\n"


def test_the_installed_command_never_prints_a_traceback() -> None:
    url = unused_port_url()
    environment = {**os.environ, "DOVECOTE_API_URL": url, "DOVECOTE_API_KEY": "dvk"}
    environment.pop(cli.DEBUG_ENV, None)
    finished = run_python(
        "-m", "dovecote.cli", "webhooks", "rotate-secret", "wh_1", "--timeout", "2", environment=environment
    )
    assert finished.returncode == 1
    assert finished.stdout == ""
    assert finished.stderr == f"error: the Dovecote API at {url} is not reachable (connection refused)\n"
