"""The local stack as a developer runs it (`make local`): publish → receiver latency and sustained throughput.

No counting hooks: the stack is `dovecote_local.LocalStack` with its own defaults, in this
process, and a receiver on 127.0.0.1 that answers 200 at once.

- Latency, idle: events published one at a time to an application with one endpoint; for
  each, the time from the start of `POST /v1/events` to the receiver's request. p50 and p95.
- Throughput at fan-out 10: `--events` events (default 300, 3,000 deliveries) published by
  two publishers to ten endpoints; deliveries per second from the first publish to the
  last delivery received.

Every loop is bounded by a count and by `--budget` seconds.

    python -m bench.local_throughput [--events 300] [--latency-samples 20] [--budget 150] [--json PATH]
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import requests

from bench.harness import Receiver
from bench.report import Target, benchmark_arguments, finish, progress, run_metadata, table
from dovecote_local.gateway import free_port

if TYPE_CHECKING:
    from dovecote_local.stack import LocalStack

PROFILE = "standard"
FANOUT = 10
PUBLISHERS = 2
THROUGHPUT_TARGET = 50.0
"""Deliveries per second at fan-out 10 on 2 cores (issue #17)."""
_POLL_SECONDS = 0.002
_HTTP_TIMEOUT_SECONDS = 30


class ArrivalClock:
    """Polls the receiver's count of distinct deliveries of a group and notes when it last grew."""

    def __init__(self, receiver: Receiver, group: str) -> None:
        self._receiver = receiver
        self._group = group
        self.received = receiver.accepted(group)
        self.last_at = time.monotonic()

    def wait_for(self, count: int, deadline: float) -> bool:
        while self.received < count and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
            now = self._receiver.accepted(self._group)
            if now > self.received:
                self.received, self.last_at = now, time.monotonic()
        return self.received >= count


class Api:
    def __init__(self, base_url: str, api_key: str) -> None:
        self._base_url = base_url
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._local = threading.local()

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session.post(
            self._base_url + path, data=json.dumps(body), headers=self._headers, timeout=_HTTP_TIMEOUT_SECONDS
        )


def endpoint(api: Api, url: str, events: list[str], **settings: Any) -> None:
    """Create a webhook to `url` for `events`, with any other settings of its body (`rate_limit_per_second`)."""
    response = api.post("/v1/webhooks", {"url": url, "events": events, **settings})
    if response.status_code != 201:
        raise RuntimeError(f"creating a webhook failed: {response.status_code} {response.text[:300]}")


def latency(api: Api, receiver: ArrivalClock, samples: int, deadline: float) -> list[float]:
    seconds: list[float] = []
    for index in range(samples):
        if time.monotonic() > deadline:
            break
        expected = receiver.received + 1
        started = time.monotonic()
        if api.post("/v1/events", {"type": "latency.probe", "data": {"n": index}}).status_code != 202:
            continue
        if not receiver.wait_for(expected, deadline):
            break
        seconds.append(receiver.last_at - started)
        time.sleep(0.2)  # idle between probes
    return seconds


@dataclass(frozen=True)
class Load:
    """What a load run published and what arrived of it."""

    events: int
    """Accepted by the API."""
    deliveries: int
    """Received by the receiver."""
    seconds: float
    """From the first publish to the last delivery."""

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds

    def to_json(self) -> dict[str, float]:
        return {**asdict(self), "deliveries_per_second": self.per_second}


def throughput(api: Api, receiver: ArrivalClock, events: int, deadline: float) -> Load:
    before = receiver.received
    started = time.monotonic()

    def publish(index: int) -> bool:
        if time.monotonic() > deadline:
            return False
        return api.post("/v1/events", {"type": "load.event", "data": {"n": index}}).status_code == 202

    with ThreadPoolExecutor(max_workers=PUBLISHERS) as pool:
        accepted = sum(pool.map(publish, range(events)))
    receiver.wait_for(before + accepted * FANOUT, deadline)
    received = receiver.received - before
    return Load(accepted, received, max(receiver.last_at - started, 1e-9))


@contextmanager
def local_stack(profile: str = PROFILE) -> Iterator[LocalStack]:
    """The local stack with `profile` on a free port, HTTP to 127.0.0.1 allowed, its log quiet; stopped after."""
    from dovecote_local.stack import LocalOptions, LocalStack  # noqa: PLC0415

    logging.getLogger("dovecote-local").setLevel(logging.ERROR)
    options = LocalOptions(port=free_port(), profile=profile, allow_http_loopback=True)
    stack = LocalStack(options, write=lambda _line: None).start()
    try:
        yield stack
    finally:
        stack.stop()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_arguments(__doc__, budget=150)
    parser.add_argument("--events", type=int, default=300, help="events published at fan-out 10 (default 300)")
    parser.add_argument("--latency-samples", type=int, default=20, help="idle publish→receiver probes (default 20)")
    arguments = parser.parse_args(argv)

    deadline = time.monotonic() + arguments.budget
    with closing(Receiver("webhook-id").start()) as receiver, local_stack() as stack:
        probe_api = Api(stack.api_url, stack.create_api_key("bench-latency", "bench"))
        endpoint(probe_api, receiver.endpoint("/latency/probe"), ["latency.probe"])
        load_api = Api(stack.api_url, stack.create_api_key("bench-load", "bench"))
        for index in range(FANOUT):
            endpoint(load_api, receiver.endpoint(f"/load/{index}"), ["load.*"])
        progress(f"local stack: {arguments.latency_samples} idle latency probes …")
        probes = latency(probe_api, ArrivalClock(receiver, "latency"), arguments.latency_samples, deadline)
        progress(f"local stack: {arguments.events} events at fan-out {FANOUT} …")
        load = throughput(load_api, ArrivalClock(receiver, "load"), arguments.events, deadline)

    complete = load.deliveries == load.events * FANOUT == arguments.events * FANOUT
    p50_ms, p95_ms = percentile(probes, 0.5) * 1000, percentile(probes, 0.95) * 1000
    metadata = run_metadata("bench.local_throughput", argv)
    print(f"Dovecote local stack (make local): profile {PROFILE}, receiver on 127.0.0.1")
    print(f"({metadata['date']}, commit {metadata['commit']}, {metadata['cpus']} CPUs)")
    print(
        table(
            ["figure", "value"],
            [
                ["publish → receiver p50, idle (ms)", p50_ms],
                ["publish → receiver p95, idle (ms)", p95_ms],
                ["latency probes", len(probes)],
                [f"events published at fan-out {FANOUT}", load.events],
                ["deliveries received", load.deliveries],
                ["seconds, first publish to last delivery", load.seconds],
                ["deliveries per second", load.per_second],
            ],
        )
    )
    if not complete:
        print(f"note: {load.deliveries} of {arguments.events * FANOUT} deliveries arrived within the budget")
    found = [
        Target(
            f"local stack, sustained deliveries/s at fan-out {FANOUT}", load.per_second, THROUGHPUT_TARGET, "/s", ">="
        ),
        Target("local stack, every delivery of the load arrived", float(complete), 1.0, comparison="=="),
    ]
    print()
    for target in found:
        print(target.line())
    print(f"INFO  local stack, publish → receiver latency idle: p50 {p50_ms:.0f} ms, p95 {p95_ms:.0f} ms")
    document = {
        "benchmark": "local_throughput",
        **metadata,
        "profile": PROFILE,
        "latency_ms": [round(value * 1000, 1) for value in probes],
        "latency_p50_ms": p50_ms,
        "latency_p95_ms": p95_ms,
        **load.to_json(),
    }
    return finish(arguments, found, document)


if __name__ == "__main__":
    sys.exit(main())
