"""moto's server, in this process, set up the way the local stack needs it.

Step Functions really executes the state machine (`execute_state_machine`), Lambda runs
without Docker (`use_docker: false`, so `lambdas.patch_moto_lambda` can run the real
handlers), and Wait states sleep `seconds * time_scale`, waking at once on shutdown. A Wait
until a timestamp (`Timestamp`/`TimestampPath`, as the retry state machine's) is not scaled:
the deliver function already wrote the moment on the local stack's clock (its retry table is
scaled), so it waits until exactly then, to the millisecond (moto's own reading cuts the
fraction and compares with the machine's local time).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from functions.core.timestamps import parse_iso, utc_now

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}

_WAIT_SLICE_SECONDS = 0.25


class LocalStackStopping(Exception):
    """Raised in a waiting execution at shutdown, so it ends instead of running its next attempt early."""


class MotoServer:
    def __init__(self, port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        # moto's Step Functions calls Lambda through its own server at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        # moto's backends live in this process: start from nothing, even after an earlier stack.
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        requests.post(f"{self.endpoint_url}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()

    def stop(self) -> None:
        self._server.stop()


DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def patch_atomic_dynamodb_writes() -> Callable[[], None]:
    """Make moto's DynamoDB writes atomic, as DynamoDB's are: moto evaluates a condition and then
    writes without a lock, so two threads can both pass `enabled = :true` (both disabling an endpoint,
    both emitting `endpoint.disabled`). Returns the undo."""
    lock = threading.RLock()
    originals = {name: getattr(DynamoDBBackend, name) for name in DYNAMODB_WRITES}

    def atomic(write: Callable[..., Any]) -> Callable[..., Any]:
        def locked(*arguments: Any, **options: Any) -> Any:
            with lock:
                return write(*arguments, **options)

        return locked

    for name, write in originals.items():
        setattr(DynamoDBBackend, name, atomic(write))

    def undo() -> None:
        for name, write in originals.items():
            setattr(DynamoDBBackend, name, write)

    return undo


def patch_wait_states(time_scale: float, stopping: threading.Event) -> Callable[[], None]:
    """Scale every Wait state's seconds by `time_scale` (a timestamp is waited for as it is); once
    `stopping` is set, waiting executions end. Returns the undo."""
    original_interval, original_body = WaitFunction._wait_interval, WaitFunction._eval_body

    def eval_body(self: Any, env: Any) -> None:
        if not isinstance(self, Timestamp):
            wait_interval(self, env, self._get_wait_seconds(env=env) * time_scale)
            return
        self.string.eval(env=env)
        text = env.stack.pop()
        if not isinstance(text, str) or self._from_timestamp_string(text) is None:
            raise FailureEventException(self._create_failure_event(env, text))
        wait_interval(self, env, (parse_iso(text) - utc_now()).total_seconds())

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, wait_seconds)
        # program_state_event pulses when the execution stops (StopExecution): stop waiting then.
        while env.is_running():
            if stopping.is_set():
                raise LocalStackStopping("the local stack is stopping: this execution ends here")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            env.program_state_event.wait(min(remaining, _WAIT_SLICE_SECONDS))

    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
    WaitFunction._eval_body = eval_body  # type: ignore[method-assign]

    def undo() -> None:
        WaitFunction._wait_interval = original_interval  # type: ignore[method-assign]
        WaitFunction._eval_body = original_body  # type: ignore[method-assign]

    return undo
