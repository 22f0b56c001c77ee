"""`dovecote local` as a person runs it: the banner, the given API key, a clean stop on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from functions.store.api_keys import generate_api_key
from tests.e2e.e2e_support import STARTUP_TIMEOUT_SECONDS, StackPool, eventually, free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

STOP_WITHIN_SECONDS = 10


def test_dovecote_local_prints_its_banner_serves_the_given_key_and_stops_cleanly_on_sigterm(
    stacks: StackPool, tmp_path: Path
) -> None:
    stacks.get("miteos")  # the session has synthesized (and cached) the template this run uses
    port, api_key = free_port(), generate_api_key()
    log_path = tmp_path / "local.log"
    command = ["dovecote.cli", "local", "--profile", "miteos", "--port", str(port), "--api-key", api_key]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        text = eventually(
            lambda: "Ctrl-C stops" in (output := log_path.read_text()) and output,
            timeout=STARTUP_TIMEOUT_SECONDS,
            message="the banner",
        )
        assert f"http://127.0.0.1:{port}/v1" in text
        assert api_key in text
        assert f"curl -s http://127.0.0.1:{port}/v1/webhooks" in text
        assert f"curl -s http://127.0.0.1:{port}/v1/events" in text

        listed = requests.get(
            f"http://127.0.0.1:{port}/v1/webhooks", headers={"Authorization": f"Bearer {api_key}"}, timeout=10
        )
        assert listed.status_code == 200
        assert listed.json()["data"] == []

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(STOP_WITHIN_SECONDS) == 0
        assert time.monotonic() - started < STOP_WITHIN_SECONDS
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
