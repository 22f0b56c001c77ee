"""End-to-end support: `dovecote local` stacks in subprocesses, a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from dovecote import Dovecote
from dovecote_local.templates import ensure_templates
from functions.core.profile import shipped_profile_names

PROFILES = shipped_profile_names()
DEFAULT_PROFILE = "standard"
"""Started without --profile, so the default is what is exercised."""
RETRY_PROFILE = "mutx"
"""The shortest retry table (0, 60 s, 600 s, 3600 s): the failure and cancellation tests use it."""
TIME_SCALE = 0.002
"""A one-hour wait lasts 7.2 s."""
STARTUP_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(check: Any, *, timeout: float = 15, interval: float = 0.1, message: str = "") -> Any:
    """Call `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {message or check}")
        time.sleep(interval)


@dataclass
class RunningStack:
    profile: str
    process: subprocess.Popen[bytes]
    ready_file: Path
    log_path: Path
    info: dict[str, Any] = field(default_factory=dict)
    stop_requested: bool = False

    @property
    def api_url(self) -> str:
        return str(self.info["api_url"])

    @property
    def api_key(self) -> str:
        return str(self.info["api_key"])

    @property
    def platform_key(self) -> str:
        return str(self.info["platform_key"])

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def client(self, api_key: str | None = None) -> Dovecote:
        return Dovecote(api_key=api_key or self.api_key, base_url=self.api_url, timeout=10)

    def cli(self, *arguments: str, api_key: str | None = None, environment: dict[str, str] | None = None) -> Any:
        """Run `dovecote ARGUMENTS --json` against this stack; its parsed JSON output."""
        command = [sys.executable, "-m", "dovecote.cli", *arguments]
        env = {
            **os.environ,
            "DOVECOTE_API_URL": self.api_url,
            "DOVECOTE_API_KEY": api_key or self.api_key,
            **(environment or {}),
        }
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert completed.returncode == 0, f"{' '.join(arguments)} failed: {completed.stderr}"
        return json.loads(completed.stdout)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self.ready_file.is_file():
            if self.process.poll() is not None:
                pytest.fail(f"dovecote local ({self.profile}) exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"dovecote local ({self.profile}) not ready in {STARTUP_TIMEOUT_SECONDS} s")
            time.sleep(0.1)
        self.info = json.loads(self.ready_file.read_text(encoding="utf-8"))
        health = requests.get(f"{self.api_url}/v1/health", timeout=10)
        assert health.status_code == 200, health.text

    def request_stop(self) -> None:
        """SIGTERM, once: a second signal during shutdown would not be handled."""
        if self.process.poll() is None and not self.stop_requested:
            self.stop_requested = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int | None:
        """Stop (SIGTERM, then SIGKILL after STOP_TIMEOUT_SECONDS); the exit status."""
        self.request_stop()
        if self.process.poll() is None:
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_SECONDS)
        return self.process.returncode


class StackPool:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._stacks: dict[str, RunningStack] = {}
        self._ready: set[str] = set()

    def start(self, profiles: list[str]) -> None:
        templates = ensure_templates(profiles)
        for profile in profiles:
            self._stacks[profile] = self._launch(profile, templates[profile])

    def _launch(self, profile: str, template: Path) -> RunningStack:
        ready_file = self._directory / f"{profile}.ready.json"
        log_path = self._directory / f"{profile}.log"
        command = [
            sys.executable,
            "-m",
            "dovecote.cli",
            "local",
            "--port",
            str(free_port()),
            "--time-scale",
            str(TIME_SCALE),
            "--allow-http-loopback",
            "--template",
            str(template),
            "--ready-file",
            str(ready_file),
        ]
        if profile != DEFAULT_PROFILE:
            command += ["--profile", profile]
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        return RunningStack(profile, process, ready_file, log_path)

    def get(self, profile: str) -> RunningStack:
        stack = self._stacks[profile]
        if profile not in self._ready:
            stack.wait_ready()
            self._ready.add(profile)
        return stack

    def stop_all(self) -> dict[str, int | None]:
        for stack in self._stacks.values():
            stack.request_stop()
        return {profile: stack.stop() for profile, stack in self._stacks.items()}


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes
    received_at: float
    """time.monotonic() on arrival."""
    accepted: bool


Verifier = Callable[[dict[str, str], bytes], bool]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        endpoint = self.server.owner.endpoint(self.path)
        accepted = endpoint.status < 300 and (endpoint.verify is None or endpoint.verify(headers, body))
        endpoint.requests.append(ReceivedRequest(self.path, headers, body, time.monotonic(), accepted))
        status = endpoint.status if accepted or endpoint.status >= 300 else 401
        payload = b"ok" if accepted else b"rejected"
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: Receiver) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)


@dataclass
class Endpoint:
    status: int = 200
    verify: Verifier | None = None
    """Answer 200 only when this accepts the request (401 otherwise)."""
    requests: list[ReceivedRequest] = field(default_factory=list)


class Receiver:
    """Webhook endpoints on 127.0.0.1: each path answers its own status and records what it got."""

    def __init__(self) -> None:
        self._endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Lock()
        self._server = _ReceiverServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, *, status: int = 200, verify: Verifier | None = None) -> tuple[str, Endpoint]:
        """A new endpoint: its URL and what it records."""
        path = f"/hooks/{uuid.uuid4().hex}"
        endpoint = Endpoint(status=status, verify=verify)
        with self._lock:
            self._endpoints[path] = endpoint
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}", endpoint

    def endpoint(self, path: str) -> Endpoint:
        with self._lock:
            return self._endpoints.setdefault(path, Endpoint(status=404))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
