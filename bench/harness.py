"""Running measured scenarios through the local stack (dovecote_local), in this process.

`BenchStack` starts a `LocalStack` with the counting hooks of bench/instrument.py installed,
and a `Receiver` on 127.0.0.1 answers the deliveries. A `Scenario` (fan-out, events, the
share of endpoints that fail before they succeed) runs in a measurement window: publish
through the HTTP API, wait until every delivery is accepted and the queues and retry
executions are idle, then read the executions' histories for their state transitions.
Every loop here is bounded by a count and a deadline.
"""

from __future__ import annotations

import collections
import io
import itertools
import json
import logging
import math
import os
import re
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import requests

from bench.instrument import (
    Meter,
    MotoItems,
    Undo,
    count_gateway_requests,
    function_of_handler,
    instrument_botocore,
    propagate_context_to_thread_pools,
    time_local_functions,
)
from bench.metering import Usage, state_transitions
from dovecote_local.gateway import free_port
from functions.core.profile import load_profile

log = logging.getLogger("bench")

DEFAULT_PROFILE = "standard"
TIME_SCALE = 0.002
"""Retry waits are played 500 times faster (each second of the profile's table takes 2 ms)."""
PUBLISH_CONCURRENCY = 2
"""Two publishers: more on two cores inflate each invocation's measured duration (bench/README.md)."""
SETUP_CONCURRENCY = 6
SETUP_ATTEMPTS = 3
SINGLE_TYPE_ENDPOINTS = 10
"""At fan-out 1 the application has this many endpoints, each subscribed to its own event type."""
HELD_QUEUES: set[str] = set()
"""Queues whose local poller waits (a burst scenario fills them first)."""
DEAD_FAILURES = 10**9
"""A dead endpoint answers 500 to every request."""
MAX_RECEIVES_PER_BATCH = 50
CALIBRATION_CALLS = 30
SERVICE_LOGGER = "dovecote"
DEPLOYED_LOG_LEVEL = "INFO"
"""infra/functions.py LOG_LEVEL (the local stack runs the handlers at WARNING)."""
DEPLOYED_ENVIRONMENT = {"POWERTOOLS_LOG_LEVEL": DEPLOYED_LOG_LEVEL, "POWERTOOLS_METRICS_DISABLED": "false"}
"""Logs and EMF metrics as deployed, so their volume can be counted."""
_POLL_SECONDS = 0.05
_WINDOW_POLL_SECONDS = 0.1
_HTTP_TIMEOUT_SECONDS = 30


def event_data(index: int) -> dict[str, Any]:
    """A typical agent-platform event body (about 400 bytes of JSON)."""
    return {
        "task_id": f"task_{index:08d}",
        "agent_id": "agent_7f3c9a",
        "status": "completed",
        "duration_ms": 1234 + index % 1000,
        "tokens": {"input": 1832, "output": 412},
        "summary": "The agent finished the task and produced a report. " * 4,
    }


# The receiver


@dataclass
class _Endpoint:
    failures_before_success: int = 0
    delay_seconds: float = 0.0
    seen: dict[str, int] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)


class Receiver:
    """Webhook endpoints on 127.0.0.1: `/<group>/<name>` answers 200, after `failures` 500s per delivery."""

    def __init__(self, delivery_id_header: str) -> None:
        self._header = delivery_id_header.lower()
        self._endpoints: dict[str, _Endpoint] = {}
        self._accepted_by_group: collections.Counter[str] = collections.Counter()
        """Distinct deliveries accepted per group, kept as they come: polling it costs O(1), so the
        wait loop does not slow the receiver (and the deliver function) as endpoints grow."""
        self._lock = threading.Lock()
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                status = owner._answer(self.path, self.headers.get(owner._header, ""))
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # A listen backlog like a production server's (socketserver's default is 5): a deliver
            # batch of 100 opens up to 100 connections at once.
            request_queue_size = 128

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def endpoint(self, path: str, failures_before_success: int = 0, delay_seconds: float = 0.0) -> str:
        with self._lock:
            self._endpoints[path] = _Endpoint(failures_before_success, delay_seconds)
        return f"{self.base_url}{path}"

    def accepted(self, group: str) -> int:
        with self._lock:
            return self._accepted_by_group[group]

    def delivery_ids(self, group: str, kind: str = "") -> set[str]:
        """The distinct delivery ids the group's endpoints (those of `kind`: flaky, ok, dead) were sent."""
        prefix = f"/{group}/{kind}"
        with self._lock:
            return {
                delivery_id
                for path, endpoint in self._endpoints.items()
                if path.startswith(prefix)
                for delivery_id in endpoint.seen
            }

    def _answer(self, path: str, delivery_id: str) -> int:
        with self._lock:
            self.requests += 1
            endpoint = self._endpoints.get(path)
            if endpoint is None:
                return 404
            seen = endpoint.seen.get(delivery_id, 0)
            endpoint.seen[delivery_id] = seen + 1
            delay = endpoint.delay_seconds
        if delay:
            time.sleep(delay)
        if seen < endpoint.failures_before_success:
            return 500
        with self._lock:
            if delivery_id not in endpoint.accepted:
                endpoint.accepted.add(delivery_id)
                self._accepted_by_group[path.split("/")[1]] += 1
        return 200


# Scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    fanout: int
    events: int
    flaky_share: float = 0.0
    """The share of endpoints that answer 500 `failures` times per delivery before 200."""
    failures: int = 2
    dead: bool = False
    """The failing endpoints never answer 2xx: their deliveries exhaust the table."""
    batch: int = 0
    """Publish through POST /v1/events/batch, this many events a request (0: one POST /v1/events each)."""
    endpoints: int | None = None
    """How many endpoints (default: the fan-out, or SINGLE_TYPE_ENDPOINTS at fan-out 1)."""
    burst: bool = False
    """Queue every delivery before the deliver function takes any: its batches are then full, as
    they are on AWS when an endpoint receives 10 or more deliveries a second (this process cannot
    publish that fast)."""
    idempotency_key: bool = True
    """Publish as the SDK does (an Idempotency-Key on every request)."""
    timeout_seconds: float = 240

    @property
    def expected_deliveries(self) -> int:
        return self.fanout * self.events


@dataclass
class ScenarioResult:
    scenario: Scenario
    usage: Usage
    seconds: float
    complete: bool
    published: int
    notes: list[str] = field(default_factory=list)
    table_deviation_seconds: float | None = None
    """The largest gap between two attempts of a failing delivery minus the (scaled) table delay
    between them, in seconds: processing time, which scaling does not shrink. NaN (with a note)
    when a delivery did not get exactly the attempts its endpoint's failures call for; None
    without retries."""
    retried_deliveries: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": vars(self.scenario),
            "seconds": round(self.seconds, 2),
            "complete": self.complete,
            "published": self.published,
            "notes": self.notes,
            "table_deviation_seconds": self.table_deviation_seconds,
            "retried_deliveries": self.retried_deliveries,
            "usage": self.usage.to_json(),
        }


class LogSink(io.TextIOBase):
    """Stands in for stdout while a stack runs: counts what the handlers write (their JSON logs
    and metrics, what CloudWatch Logs would ingest) during a measurement window, and drops it."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self.error_lines: collections.deque[str] = collections.deque(maxlen=20)
        """The last error lines the handlers logged (for diagnosing a failed run)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._meter.record_log_bytes(len(text.encode("utf-8", errors="replace")))
        if '"level":"ERROR"' in text or '"level":"CRITICAL"' in text:
            self.error_lines.append(text.strip()[:2000])
        return len(text)


def _capture_handler_output(sink: LogSink) -> Undo:
    """Send the handlers' stdout (Powertools logs at the deployed level, EMF metrics) to `sink`."""
    original = sys.stdout
    sys.stdout = sink
    saved_environment = {name: os.environ.get(name) for name in DEPLOYED_ENVIRONMENT}
    os.environ.update(DEPLOYED_ENVIRONMENT)  # loggers created later (handlers import lazily) read it
    for name in [*logging.root.manager.loggerDict, ""]:
        logger = logging.getLogger(name)
        if name == SERVICE_LOGGER or name.startswith(f"{SERVICE_LOGGER}."):
            logger.setLevel(DEPLOYED_LOG_LEVEL)
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is original:
                handler.setStream(sink)

    def undo() -> None:
        # The handlers' log handlers stay on the sink (it drops what comes outside a window):
        # a thread of the stopped stack may still log.
        sys.stdout = original
        for name, value in saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return undo


def _batching_window(seconds: float) -> Undo:
    """Make the local SQS pollers fill batches as Lambda's event source mappings do: up to the
    batch size, for at most the mapping's batching window (MaximumBatchingWindowInSeconds)."""
    from dovecote_local.pollers import SQS_MAX_MESSAGES_PER_RECEIVE, QueuePoller  # noqa: PLC0415

    original = QueuePoller.poll_once

    def poll_once(self: QueuePoller) -> int:
        if self.mapping.queue_url in HELD_QUEUES:  # a burst is being queued: consume it whole, later
            time.sleep(_WINDOW_POLL_SECONDS)
            return 0
        batch_size = self.mapping.batch_size
        messages: list[dict[str, Any]] = []
        deadline = math.inf  # the window opens with the first message
        for _ in range(MAX_RECEIVES_PER_BATCH):
            received = self._sqs.receive_message(
                QueueUrl=self.mapping.queue_url,
                MaxNumberOfMessages=min(batch_size - len(messages), SQS_MAX_MESSAGES_PER_RECEIVE),
                WaitTimeSeconds=0 if messages else 1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if received and not messages:
                deadline = time.monotonic() + seconds
            messages += received
            if not messages or len(messages) >= batch_size or time.monotonic() >= deadline:
                break
            if not received:
                time.sleep(min(_WINDOW_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        if messages:
            self._process(messages)
        return len(messages)

    QueuePoller.poll_once = poll_once  # type: ignore[method-assign]

    def undo() -> None:
        QueuePoller.poll_once = original  # type: ignore[method-assign]

    return undo


class _QuietAttemptLog:
    """Stands in for the local stack's attempt printer, which reads every delivery back after
    each deliver run: load on moto that a deployed stack does not have."""

    def __init__(self, *_: Any, **__: Any) -> None:
        pass

    def observer(self, _name: str) -> Callable[..., None]:
        return lambda *_args: None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def _quiet_attempt_log() -> Undo:
    import dovecote_local.stack as local_stack  # noqa: PLC0415

    original = local_stack.AttemptLog
    local_stack.AttemptLog = _QuietAttemptLog  # type: ignore[misc,assignment]

    def undo() -> None:
        local_stack.AttemptLog = original  # type: ignore[misc]

    return undo


class BenchStack:
    """A local stack in this process, instrumented, with a receiver."""

    def __init__(
        self, profile: str = DEFAULT_PROFILE, time_scale: float = TIME_SCALE, batching_window_seconds: float = 1.0
    ) -> None:
        from dovecote_local.stack import LocalOptions, LocalStack  # noqa: PLC0415

        self.profile = load_profile(profile)
        self.batching_window_seconds = batching_window_seconds
        self.meter = Meter()
        self.log_sink = LogSink(self.meter)
        self._undo: list[Undo] = []
        self._options = LocalOptions(port=free_port(), profile=profile, time_scale=time_scale, allow_http_loopback=True)
        self._stack_type = LocalStack
        self.stack: Any = None
        self.receiver = Receiver(self.profile.headers.delivery_id or "webhook-id")
        self._http = threading.local()
        self._aws: dict[str, Any] = {}
        self._finished: set[str] = set()
        self.incidents: list[str] = []
        """Set-up requests that failed and were retried (not part of any measurement)."""

    def __enter__(self) -> BenchStack:
        _forget_handler_dependencies()  # a stack started earlier in this process left its clients cached
        try:
            self._undo += [
                instrument_botocore(self.meter),
                propagate_context_to_thread_pools(),
                time_local_functions(self.meter),
                count_gateway_requests(self.meter),
                _quiet_attempt_log(),
            ]
            self._undo.append(_batching_window(self.batching_window_seconds))
            self.receiver.start()
            self._undo.append(self.receiver.close)
            self.stack = self._stack_type(self._options, write=lambda _line: None).start()
            self._undo.append(self.stack.stop)
            # Restored after the stack has stopped (close() undoes in reverse order): work still
            # in flight when a scenario ran out of time must not write to the real stdout.
            self._undo.insert(0, _capture_handler_output(self.log_sink))
            self.meter.items = MotoItems()
            self.meter.idle_call_ms = self._idle_call_ms()
            self.meter.function_names = {
                f.name: function_of_handler(f.handler_path) for f in self.stack.resources.functions.values()
            }
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        while self._undo:
            try:
                self._undo.pop()()
            except Exception:
                log.debug("bench teardown step failed", exc_info=True)

    def _idle_call_ms(self) -> float:
        """The median latency of a DynamoDB GetItem while the stack is idle."""
        client, key = self.aws("dynamodb"), {"pk": {"S": "bench#calibration"}, "sk": {"S": "-"}}
        samples = []
        for _ in range(CALIBRATION_CALLS):
            started = time.perf_counter()
            client.get_item(TableName=self.stack.table_name, Key=key)
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    # clients (the benchmark's own calls are never counted: no handler is running)

    def aws(self, service: str) -> Any:
        if service not in self._aws:
            self._aws[service] = boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.stack.moto_endpoint,
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
        return self._aws[service]

    def http(self) -> requests.Session:
        session = getattr(self._http, "session", None)
        if session is None:
            session = self._http.session = requests.Session()
        return session

    def api(self, method: str, path: str, api_key: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {api_key}", **kwargs.pop("headers", {})}
        return self.http().request(
            method, f"{self.stack.api_url}{path}", headers=headers, timeout=_HTTP_TIMEOUT_SECONDS, **kwargs
        )

    # set-up (not measured)

    def application(self, application_id: str, endpoints: list[tuple[str, list[str]]]) -> str:
        """An application with an API key and one webhook per (url, event types); returns the key."""
        api_key = str(self.stack.create_api_key(application_id, "bench"))

        def create(endpoint: tuple[str, list[str]]) -> None:
            url, events = endpoint
            for attempt in range(SETUP_ATTEMPTS):
                response = self.api("POST", "/v1/webhooks", api_key, json={"url": url, "events": events})
                if response.ok:
                    return
                if response.status_code < 500 or attempt == SETUP_ATTEMPTS - 1:
                    errors = "\n".join(self.log_sink.error_lines)
                    raise RuntimeError(
                        f"creating a webhook failed: {response.status_code} {response.text[:300]}\n{errors}"
                    )
                self.incidents.append(f"POST /v1/webhooks answered {response.status_code}; retried")

        with ThreadPoolExecutor(max_workers=SETUP_CONCURRENCY) as pool:
            list(pool.map(create, endpoints))
        return api_key

    def publish_batches(
        self, api_key: str, events: list[tuple[str, dict[str, Any]]], size: int, deadline: float
    ) -> int:
        """POST /v1/events/batch, `size` events a request, each with an idempotency key; how many were accepted."""

        def send(start: int) -> int:
            if time.monotonic() > deadline:
                return 0
            chunk = [
                {"type": event_type, "data": data, "idempotency_key": f"bench-{uuid.uuid4().hex}"}
                for event_type, data in events[start : start + size]
            ]
            body = json.dumps({"events": chunk})
            response = self.api(
                "POST", "/v1/events/batch", api_key, data=body, headers={"Content-Type": "application/json"}
            )
            if response.status_code != 202:
                log.warning("publishing a batch failed: %s %s", response.status_code, response.text[:200])
                return 0
            return int(response.json()["accepted"])

        with ThreadPoolExecutor(max_workers=PUBLISH_CONCURRENCY) as pool:
            return sum(pool.map(send, range(0, len(events), size)))

    def publish(
        self, api_key: str, events: list[tuple[str, dict[str, Any]]], *, idempotency_key: bool, deadline: float
    ) -> int:
        """POST /v1/events for each (type, data); returns how many were accepted (202)."""

        def send(event: tuple[str, dict[str, Any]]) -> bool:
            event_type, data = event
            if time.monotonic() > deadline:
                return False
            headers = {"Content-Type": "application/json"}
            if idempotency_key:
                headers["Idempotency-Key"] = f"bench-{uuid.uuid4().hex}"
            body = json.dumps({"type": event_type, "data": data})
            response = self.api("POST", "/v1/events", api_key, data=body, headers=headers)
            if response.status_code != 202:
                log.warning("publishing failed: %s %s", response.status_code, response.text[:200])
            return response.status_code == 202

        with ThreadPoolExecutor(max_workers=PUBLISH_CONCURRENCY) as pool:
            return sum(pool.map(send, events))

    # waiting and reading back

    def queue_counts(self, queue_url: str) -> tuple[int, int]:
        """Messages waiting and in flight."""
        attributes = self.aws("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def queues_idle(self) -> bool:
        """No message waiting or in flight in the queues the functions consume."""
        urls = {mapping.queue_url for mapping in self.stack.resources.mappings}
        return not any(sum(self.queue_counts(url)) for url in urls)

    def busy(self, arns: list[str]) -> str:
        """What keeps the stack from idle: messages per queue (waiting/in flight) and running executions."""
        parts = []
        for url in sorted({mapping.queue_url for mapping in self.stack.resources.mappings}):
            waiting, in_flight = self.queue_counts(url)
            parts.append(f"{url.rsplit('/', 1)[-1]} {waiting} waiting, {in_flight} in flight")
        running = self.running_executions(arns)
        parts.append(f"{len(running)} executions running ({', '.join(a.rsplit(':', 1)[-1] for a in running[:3])})")
        return "; ".join(parts)

    def deliveries_queue_url(self) -> str:
        deliver = next(name for name, handler in self.meter.function_names.items() if handler == "deliver")
        return next(m.queue_url for m in self.stack.resources.mappings if m.function_name == deliver)

    def queued(self, queue_url: str) -> int:
        """Messages waiting or in flight."""
        return sum(self.queue_counts(queue_url))

    def dead_letters(self) -> int:
        """Messages in the queues no function consumes (the dead-letter queues)."""
        sqs = self.aws("sqs")
        consumed = {mapping.queue_url for mapping in self.stack.resources.mappings}
        total = 0
        for queue in self.stack.resources.queues.values():
            if queue.url not in consumed:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages"]
                )
                total += int(attributes["Attributes"]["ApproximateNumberOfMessages"])
        return total

    def executions_running(self, arns: list[str]) -> int:
        return len(self.running_executions(arns))

    def running_executions(self, arns: list[str]) -> list[str]:
        stepfunctions = self.aws("stepfunctions")
        running = []
        for arn in arns:
            if arn in self._finished:
                continue
            if stepfunctions.describe_execution(executionArn=arn)["status"] == "RUNNING":
                running.append(arn)
            else:
                self._finished.add(arn)
        return running

    def transitions(self, arns: list[str]) -> tuple[int, int]:
        """State transitions of the executions, and the size of their history events as JSON
        (what the state machine's execution logging, level ALL with data, writes to CloudWatch Logs)."""
        stepfunctions = self.aws("stepfunctions")
        transitions = history_bytes = 0
        for arn in arns:
            kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
            for _ in range(100):
                page = stepfunctions.get_execution_history(**kwargs)
                transitions += state_transitions(page["events"])
                history_bytes += sum(len(json.dumps(event, default=str)) for event in page["events"])
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
        return transitions, history_bytes

    # one measured scenario

    def run(self, scenario: Scenario, tag: str | None = None) -> ScenarioResult:
        """Set the scenario's application up, then measure: publish, wait for every delivery and for idle.

        The scenario's timeout bounds all of it, set-up included."""
        deadline = time.monotonic() + scenario.timeout_seconds
        group = tag or re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario.name)
        endpoints, events = self._plan(scenario, group)
        application_id = f"bench-{group}"
        api_key = self.application(application_id, endpoints)
        started = time.monotonic()
        self.meter.start()
        deliveries_queue = self.deliveries_queue_url()
        if scenario.burst:
            HELD_QUEUES.add(deliveries_queue)
        try:
            if scenario.batch:
                published = self.publish_batches(api_key, events, scenario.batch, deadline)
            else:
                published = self.publish(api_key, events, idempotency_key=scenario.idempotency_key, deadline=deadline)
            expected = published * scenario.fanout
            if scenario.burst:  # a receive already under way when the hold began may take a batch
                _wait(
                    lambda: self.queued(deliveries_queue) + len(self.receiver.delivery_ids(group)) >= expected,
                    deadline,
                )
        finally:
            HELD_QUEUES.discard(deliveries_queue)
        if scenario.dead:  # nothing is accepted: done once every delivery was attempted and ended
            complete = _wait(lambda: len(self.receiver.delivery_ids(group)) >= expected, deadline)
        else:
            complete = _wait(lambda: self.receiver.accepted(group) >= expected, deadline)
        idle = _wait(lambda: self.queues_idle() and not self.executions_running(self.meter.executions), deadline)
        usage = self.meter.stop()
        seconds = time.monotonic() - started
        usage.deliveries = len(self.receiver.delivery_ids(group)) if scenario.dead else self.receiver.accepted(group)
        usage.events = published
        usage.executions = len(self.meter.executions)
        usage.state_transitions, usage.execution_log_bytes = self.transitions(list(self.meter.executions))
        notes = []
        if published < scenario.events:
            notes.append(f"only {published} of {scenario.events} events were accepted before the deadline")
        if not complete:
            notes.append(f"only {usage.deliveries} of {expected} deliveries succeeded before the deadline")
        if not idle:
            notes.append(f"still busy at the deadline: {self.busy(self.meter.executions)}")
        if self.log_sink.error_lines:
            notes.append(f"the handlers logged errors; the last: {self.log_sink.error_lines[-1][:400]}")
            self.log_sink.error_lines.clear()
        if dead := self.dead_letters():
            notes.append(f"{dead} messages in dead-letter queues (all scenarios so far)")
        failing = sorted(self.receiver.delivery_ids(group, "flaky"))
        deviation = self.table_deviation(application_id, failing, scenario, notes) if failing else None
        if self.meter.items is not None:
            self.meter.items.purge_partitions(self.stack.table_name, f"T#{application_id}")
        result = ScenarioResult(scenario, usage, seconds, complete and idle, published, notes)
        result.table_deviation_seconds, result.retried_deliveries = deviation, len(failing)
        return result

    def table_deviation(
        self, application_id: str, delivery_ids: list[str], scenario: Scenario, notes: list[str]
    ) -> float:
        """See `ScenarioResult.table_deviation_seconds` (read back after the window, not counted)."""
        from functions.store.deliveries import DeliveryStore  # noqa: PLC0415

        store = DeliveryStore(self.aws("dynamodb"), self.stack.table_name)
        schedule = [seconds * self._options.time_scale for seconds in self.profile.retry_schedule_seconds]
        expected_attempts = len(schedule) if scenario.dead else min(len(schedule), scenario.failures + 1)
        worst = 0.0
        for delivery_id in delivery_ids:
            delivery = store.find(application_id, delivery_id)
            if delivery is None or len(delivery.attempts) != expected_attempts:
                attempts = "no row" if delivery is None else f"{len(delivery.attempts)} attempts ({delivery.status})"
                expected = f"the table and its endpoint call for {expected_attempts}"
                notes.append(f"{delivery_id}: {attempts}, where {expected}")
                return math.nan
            for earlier, later in itertools.pairwise(delivery.attempts):
                gap = (later.attempted_at - earlier.attempted_at).total_seconds()
                worst = max(worst, abs(gap - schedule[later.number - 1]))
        return worst

    def _plan(
        self, scenario: Scenario, group: str
    ) -> tuple[list[tuple[str, list[str]]], list[tuple[str, dict[str, Any]]]]:
        """Endpoints (url, event types) and events (type, data) for `scenario`."""
        if scenario.fanout == 1:
            count = scenario.endpoints or SINGLE_TYPE_ENDPOINTS
            types = [f"bench.single_{i}" for i in range(count)]
        else:
            count = scenario.endpoints or scenario.fanout
            types = ["bench.fanout"] * count
        flaky = round(count * scenario.flaky_share)
        endpoints = []
        for i in range(count):
            failing = i < flaky
            path = f"/{group}/{'flaky' if failing else 'ok'}/{i}"
            failures = DEAD_FAILURES if scenario.dead else scenario.failures
            url = self.receiver.endpoint(path, failures if failing else 0)
            endpoints.append((url, [types[i]]))
        event_types = types if scenario.fanout == 1 else types[:1]
        events = [(event_types[i % len(event_types)], event_data(i)) for i in range(scenario.events)]
        return endpoints, events

    def warm_up(self) -> None:
        """Import and initialize every handler (attempt 1, a retry execution), outside any window."""
        self.run(Scenario("warmup", fanout=2, events=3, flaky_share=0.5, failures=1, timeout_seconds=60))


def _forget_handler_dependencies() -> None:
    for name, module in list(sys.modules.items()):
        reset = getattr(module, "reset_dependencies", None)
        if name.startswith("functions.") and callable(reset):
            reset()


def _wait(condition: Callable[[], bool], deadline: float) -> bool:
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL_SECONDS)


@contextmanager
def bench_stack(
    profile: str = DEFAULT_PROFILE, time_scale: float = TIME_SCALE, batching_window_seconds: float = 1.0
) -> Iterator[BenchStack]:
    """A started, warmed-up BenchStack."""
    with BenchStack(profile, time_scale, batching_window_seconds) as bench:
        bench.warm_up()
        yield bench
