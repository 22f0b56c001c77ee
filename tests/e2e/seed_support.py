"""Seed contracts end to end: one local stack per seed module, the seed's own requests over plain HTTP,
and receivers running the seed's own verification snippet.

The snippets in tests/e2e/seed_snippets/ are copied from the seed documents as they are (the Flask
one had lost its indentation in the document's text: it is restored, nothing else changed). They run
on stand-ins for the frameworks they use (tests/e2e/seed_shims/: Express's express.json() parses with
JSON.parse, Flask's request.get_data() is the raw body), so what decides is the snippet's own code.
"""

from __future__ import annotations

import glob
import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from dovecote_local.templates import ensure_templates
from tests.e2e.e2e_support import Endpoint, Receiver, RunningStack, Verifier, eventually, ready_local_stack

HERE = Path(__file__).resolve().parent
SNIPPETS = HERE / "seed_snippets"
SHIMS = HERE / "seed_shims"
REPO_ROOT = HERE.parents[1]
NODE = shutil.which("node")
RECEIVER_START_SECONDS = 20


def _python_312() -> str | None:
    """An interpreter that parses the seed 004 Flask snippet (its f-string spans lines: Python 3.12+)."""
    if sys.version_info >= (3, 12):
        return sys.executable
    candidates = [shutil.which(f"python3.{minor}") for minor in range(12, 15)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3")))
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


PYTHON_312 = _python_312()
needs_node = pytest.mark.skipif(NODE is None, reason="node runs the seeds' JavaScript snippets")
needs_python_312 = pytest.mark.skipif(PYTHON_312 is None, reason="the seed 004 Flask snippet needs Python 3.12+")


@contextmanager
def seed_stack(profile: str, directory: Path, *, time_scale: float) -> Iterator[RunningStack]:
    """`dovecote local --profile PROFILE` for one test module."""
    with ready_local_stack(profile, ensure_templates([profile])[profile], directory, time_scale=time_scale) as stack:
        yield stack


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


class Http:
    """The seed's requests as its document writes them: plain HTTP with a bearer key, nothing else."""

    def __init__(self, stack: RunningStack) -> None:
        self._base = stack.api_url
        self._key = stack.api_key

    def __call__(self, method: str, path: str, body: Any = None, *, raw: str | None = None) -> Answer:
        headers = {"Authorization": f"Bearer {self._key}"}
        data = None
        if raw is not None or body is not None:
            headers["Content-Type"] = "application/json"
            data = (raw if raw is not None else json.dumps(body)).encode()
        response = requests.request(method, self._base + path, headers=headers, data=data, timeout=10)
        return Answer(response.status_code, response.json() if response.content else None)


class SnippetReceiver:
    """A seed's snippet serving HTTP on 127.0.0.1 in a child process."""

    def __init__(self, command: list[str], environment: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PORT": "0", **environment},
            cwd=SHIMS,
        )
        self.port = self._read_port()

    def _read_port(self) -> int:
        assert self._process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self._process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + RECEIVER_START_SECONDS
        while time.monotonic() < deadline:
            if selector.select(timeout=0.2):
                line = self._process.stdout.readline().decode()
                if line.startswith("listening "):
                    return int(line.split()[1])
                if not line:
                    break
        self.close()
        errors = self._process.stderr.read().decode() if self._process.stderr else ""
        pytest.fail(f"the snippet receiver did not start: {errors}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)


@contextmanager
def express_snippet(snippet: str, **environment: str) -> Iterator[SnippetReceiver]:
    assert NODE is not None
    receiver = SnippetReceiver([NODE, str(SHIMS / "run_express_snippet.js"), str(SNIPPETS / snippet)], environment)
    try:
        yield receiver
    finally:
        receiver.close()


@contextmanager
def flask_snippet(snippet: str) -> Iterator[SnippetReceiver]:
    assert PYTHON_312 is not None
    python_path = os.pathsep.join([str(SHIMS), str(REPO_ROOT)])
    receiver = SnippetReceiver([PYTHON_312, str(SNIPPETS / snippet)], {"PYTHONPATH": python_path})
    try:
        yield receiver
    finally:
        receiver.close()


PAYLOADS: dict[str, str] = {
    "ordinary": '{"task_id": "task_8xK2mP", "status": "DONE", "duration_seconds": 900}',
    "non_ascii": '{"title": "Crème brûlée ✓ 日本語 😀", "quote": "«\\u00e9»", "line": "a\\u2028b"}',
    "one_point_zero": '{"amount": 1.0, "ratio": 0.10, "tiny": 1E-7, "big_float": 1e21}',
    "big_integer": '{"order_id": 12345678901234567890}',
    "nested_key_order": '{"b": {"z": 1, "a": [{"y": 2, "x": 1}]}, "a": null, "10": "ten", "2": "two"}',
}
"""Each payload kind's `data`, as the publisher writes it (raw JSON text, so 1.0 and big integers travel as written)."""


@dataclass(frozen=True)
class Outcome:
    published: int
    error: str | None = None
    """The 422's message when publishing was refused."""
    first_response_status: int | None = None
    """What the receiver answered the first attempt: 200 verified, 401 refused by the snippet."""

    @property
    def verified(self) -> bool:
        return self.first_response_status == 200


def publish_and_observe(http: Http, webhook_id: str, event_type: str, data_json: str) -> Outcome:
    """Publish `data_json` and wait for the first attempt of its delivery to `webhook_id`."""
    published = http("POST", "/v1/events", raw=f'{{"type": "{event_type}", "data": {data_json}}}')
    if published.status != 202:
        return Outcome(published.status, error=published.body["error"]["message"])
    event_id = published.body["id"]

    def first_attempt() -> Any:
        page = http("GET", f"/v1/webhooks/{webhook_id}/deliveries?limit=100").body["data"]
        return next((d for d in page if d["event_id"] == event_id and d["response_status"] is not None), None)

    delivery = eventually(first_attempt, timeout=20, message=f"the first attempt of {event_id}")
    return Outcome(published.status, first_response_status=delivery["response_status"])


def publish_every_payload_kind(http: Http, webhook_id: str, event_type: str) -> dict[str, Outcome]:
    """Each of PAYLOADS published as an event of `event_type`, with the first attempt to `webhook_id`."""
    return {kind: publish_and_observe(http, webhook_id, event_type, data) for kind, data in PAYLOADS.items()}


def publish_each_payload_to_a_verifier(
    http: Http, receiver: Receiver, event_type: str, verifier: Callable[[str], Verifier]
) -> tuple[dict[str, Outcome], Endpoint]:
    """A webhook of `event_type` whose receiver checks each request with `verifier(its secret)`, and
    every payload kind published to it (a refused signature answers 401)."""
    url, endpoint = receiver.add()
    webhook = http("POST", "/v1/webhooks", {"url": url, "events": [event_type]}).body
    endpoint.verify = verifier(webhook["secret"])
    return publish_every_payload_kind(http, webhook["id"], event_type), endpoint
