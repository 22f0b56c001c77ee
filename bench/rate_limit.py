"""A burst to a rate-limited endpoint on the local stack: how far over its limit does it go (it must not)?

`--events` events (default 1,000) are published at once (batches of 100) to an application with one
endpoint limited to `--limit` deliveries a second (default 50), on `dovecote_local.LocalStack` in this
process. The receiver, on 127.0.0.1, runs in a process of its own, so that its arrival times are not
held up by the stack's threads (as a real endpoint's are not). Figures: the most requests the receiver
saw in any one-second window (sliding, from its arrival times) against the limit, the time from the
first publish to the last delivery, and what the limiter cost: its DynamoDB writes and the requeues
(SendMessageBatch calls and messages) per delivery, counted on the deliver function's AWS clients.

Every loop is bounded by the event count and by `--budget` seconds.

    python -m bench.rate_limit [--events 1000] [--limit 50] [--budget 150] [--json PATH]
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import requests
from botocore.client import BaseClient

from bench.local_throughput import Api, endpoint, local_stack
from bench.report import Target, benchmark_arguments, progress, run_metadata, table, write_json

PROFILE = "standard"

PUBLISH_BATCH = 100
_POLL_SECONDS = 0.1
_HTTP_TIMEOUT_SECONDS = 10


def _serve_arrivals(port: Any) -> None:
    """The receiver process: POST answers 200 and notes time.monotonic() (one clock for every process);
    GET answers the arrival times as JSON."""
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            arrivals.append(time.monotonic())
            self._answer(b"ok")

        def do_GET(self) -> None:
            self._answer(json.dumps(arrivals).encode())

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    server.serve_forever()


class ArrivalRecorder:
    """A receiver in a process of its own, recording when each request arrived."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._port = context.Value("i", 0)
        self._process = context.Process(target=_serve_arrivals, args=(self._port,), daemon=True)

    def start(self) -> ArrivalRecorder:
        self._process.start()
        deadline = time.monotonic() + 30
        while not self._port.value and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def close(self) -> None:
        self._process.terminate()
        self._process.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port.value}/limited"

    def arrivals(self) -> list[float]:
        return [float(t) for t in requests.get(self.url, timeout=_HTTP_TIMEOUT_SECONDS).json()]


def most_in_any_second(moments: list[float]) -> int:
    """The most moments in any half-open one-second window."""
    ordered = sorted(moments)
    most = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@contextmanager
def limiter_calls() -> Iterator[collections.Counter[str]]:
    """Counts the limiter's DynamoDB writes and the requeues (SendMessageBatch with DelaySeconds) made in-process."""
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    real = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "UpdateItem" and "#RL#" in str(params.get("Key", {}).get("pk", {}).get("S", "")):
            with lock:
                counts["limiter UpdateItem"] += 1
        elif operation == "SendMessageBatch" and any("DelaySeconds" in e for e in params.get("Entries", [])):
            with lock:
                counts["requeue SendMessageBatch"] += 1
                counts["requeued messages"] += len(params["Entries"])
        return real(client, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", counting):
        yield counts


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_arguments(__doc__, budget=150)
    parser.add_argument("--events", type=int, default=1000, help="events in the burst (default 1000)")
    parser.add_argument("--limit", type=int, default=50, help="the endpoint's rate_limit_per_second (default 50)")
    arguments = parser.parse_args(argv)

    deadline = time.monotonic() + arguments.budget
    with closing(ArrivalRecorder().start()) as receiver, local_stack(PROFILE) as stack:
        api = Api(stack.api_url, stack.create_api_key("bench-rate-limit", "bench"))
        endpoint(api, receiver.url, ["burst.*"], rate_limit_per_second=arguments.limit)
        progress(f"local stack: a burst of {arguments.events} events to an endpoint limited to {arguments.limit}/s …")
        with limiter_calls() as counts:
            started = time.monotonic()
            accepted = 0
            for start in range(0, arguments.events, PUBLISH_BATCH):
                count = min(PUBLISH_BATCH, arguments.events - start)
                batch = [{"type": "burst.event", "data": {"n": start + n}} for n in range(count)]
                answer = api.post("/v1/events/batch", {"events": batch})
                accepted += int(answer.json().get("accepted", 0)) if answer.status_code == 202 else 0
            while len(arrivals := receiver.arrivals()) < accepted and time.monotonic() < deadline:
                time.sleep(_POLL_SECONDS)

    most = most_in_any_second(arrivals)
    drain = (max(arrivals) - started) if arrivals else float("nan")
    delivered = len(arrivals)
    complete = delivered == accepted == arguments.events
    per_delivery = {name: value / max(delivered, 1) for name, value in counts.items()}
    metadata = run_metadata("bench.rate_limit", argv)
    print(f"Dovecote local stack: a burst to a rate-limited endpoint, profile {PROFILE}, receiver on 127.0.0.1")
    print(f"({metadata['date']}, commit {metadata['commit']}, {metadata['cpus']} CPUs)")
    print(
        table(
            ["figure", "value"],
            [
                ["events published at once", accepted],
                ["endpoint's rate_limit_per_second", arguments.limit],
                ["deliveries received", delivered],
                ["most requests in any 1-second window", most],
                ["seconds, first publish to last delivery", drain],
                ["ideal drain at the limit (s)", (arguments.events - arguments.limit) / arguments.limit],
                ["limiter DynamoDB writes per delivery", per_delivery.get("limiter UpdateItem", 0.0)],
                ["requeue SendMessageBatch calls per delivery", per_delivery.get("requeue SendMessageBatch", 0.0)],
                ["requeued messages per delivery", per_delivery.get("requeued messages", 0.0)],
            ],
        )
    )
    if not complete:
        print(f"note: {delivered} of {arguments.events} deliveries arrived within the budget")
    found = [
        Target(f"burst of {arguments.events}: most deliveries in any 1 s vs the limit", most, arguments.limit, "/s"),
        Target("burst to a rate-limited endpoint: every delivery arrived", float(complete), 1.0, comparison="=="),
    ]
    print()
    for target in found:
        print(target.line())
    write_json(
        arguments.json,
        {
            "benchmark": "rate_limit",
            **metadata,
            "profile": PROFILE,
            "events": accepted,
            "limit_per_second": arguments.limit,
            "deliveries": delivered,
            "most_in_any_second": most,
            "drain_seconds": drain,
            "calls_per_delivery": per_delivery,
            "targets": [t.to_json() for t in found],
        },
    )
    return 1 if arguments.check and not all(t.passed for t in found) else 0


if __name__ == "__main__":
    sys.exit(main())
