"""End-to-end support: `dovecote local` stacks in subprocesses, a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from dovecote import Dovecote
from dovecote.profiles import shipped_profile_names
from dovecote_local.gateway import free_port
from dovecote_local.templates import ensure_templates
from tests.loopback_http import PostServer, Received

PROFILES = shipped_profile_names()
DEFAULT_PROFILE = "standard"
"""Started without --profile, so the default is what is exercised."""
RETRY_PROFILE = "mutx"
"""The shortest retry table (0, 60 s, 600 s, 3600 s): the failure and cancellation tests use it."""
TIME_SCALE = 0.002
"""A one-hour wait lasts 7.2 s."""
STARTUP_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15


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


def launch_local_stack(
    profile: str,
    template: Path,
    directory: Path,
    *,
    name_the_profile: bool = True,
    time_scale: float = TIME_SCALE,
    extra_arguments: tuple[str, ...] = (),
) -> RunningStack:
    """`dovecote local` in a child process on a free port, loopback receivers allowed; not yet ready."""
    ready_file = directory / f"{profile}.ready.json"
    log_path = directory / f"{profile}.log"
    command = [
        sys.executable,
        "-m",
        "dovecote.cli",
        "local",
        "--port",
        str(free_port()),
        "--time-scale",
        str(time_scale),
        "--allow-http-loopback",
        "--template",
        str(template),
        "--ready-file",
        str(ready_file),
    ]
    if name_the_profile:
        command += ["--profile", profile]
    command += extra_arguments
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    return RunningStack(profile, process, ready_file, log_path)


@contextmanager
def ready_local_stack(profile: str, template: Path, directory: Path, *, time_scale: float) -> Iterator[RunningStack]:
    """`launch_local_stack`, ready; stopped on leaving (also when it never got ready)."""
    stack = launch_local_stack(profile, template, directory, time_scale=time_scale)
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


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
        return launch_local_stack(profile, template, self._directory, name_the_profile=profile != DEFAULT_PROFILE)

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


Verifier = Callable[[dict[str, str], bytes], bool]


@dataclass
class Endpoint:
    status: int = 200
    verify: Verifier | None = None
    """Answer 200 only when this accepts the request (401 otherwise)."""
    requests: list[Received] = field(default_factory=list)
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """Answers (status, headers) for the first requests, in order; `status` after them."""


class Receiver:
    """Webhook endpoints on 127.0.0.1: each path answers its own status and records what it got."""

    def __init__(self) -> None:
        self._endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Lock()
        self._server = PostServer(self._answer)

    def add(self, *, status: int = 200, verify: Verifier | None = None) -> tuple[str, Endpoint]:
        """A new endpoint: its URL and what it records."""
        path = f"/hooks/{uuid.uuid4().hex}"
        endpoint = Endpoint(status=status, verify=verify)
        with self._lock:
            self._endpoints[path] = endpoint
        return self._server.url(path), endpoint

    def endpoint(self, path: str) -> Endpoint:
        with self._lock:
            return self._endpoints.setdefault(path, Endpoint(status=404))

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, dict[str, str]]:
        endpoint = self.endpoint(path)
        with self._lock:
            status, reply_headers = endpoint.replies.pop(0) if endpoint.replies else (endpoint.status, {})
        verified = endpoint.verify is None or endpoint.verify(headers, body)
        received = Received(path, headers, body, status if verified or status >= 300 else 401)
        endpoint.requests.append(received)
        return received.status, b"ok" if received.accepted else b"rejected", reply_headers

    def close(self) -> None:
        self._server.close()
