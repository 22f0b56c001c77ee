"""One deliver invocation with a batch of 10 deliveries against one with a single delivery.

Every endpoint is a receiver on 127.0.0.1 that answers 200 after 200 ms. DynamoDB is moto's
server in a child process (bench/moto_process.py) with the stack's table, so the handler
has this process to itself, as on Lambda. The deliveries are created by the real fan-out
code (functions/pipeline/fanout.py); their queue messages are collected instead of sent
and handed to the real deliver handler as one SQS event, timed here. A batch's attempts
run concurrently, so it should take about as long as one delivery.
Target: batch <= 1.5 x single (medians of interleaved runs).

moto answers one request at a time, so the 40 DynamoDB calls of a batch queue up behind
each other, which real DynamoDB does not do. The table therefore also shows each
invocation "at single-call latency": its duration minus, on its slowest thread, the time its
AWS calls took beyond the median latency of the calls of single invocations. The target is
judged on the measured medians. The process CPU time of each invocation is shown too: on
Lambda at the deliver function's memory (512 MB, about 512/1769 of a vCPU) the same CPU
work takes longer.

    python -m bench.batch_concurrency [--json PATH] [--runs 7]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import botocore.session

from bench.harness import Receiver, event_data
from bench.moto_process import MotoProcess, apply_environment, restore_environment
from bench.report import Target, benchmark_arguments, finish, progress, run_metadata, table

PROFILE = "standard"
RECEIVER_DELAY_SECONDS = 0.2
BATCH_SIZE = 10
TARGET_RATIO = 1.5
DEFAULT_RUNS = 7
EVENT_TYPE = "bench.batch"
TABLE_NAME = "dovecote-bench"
FULL_VCPU_MB = 1769
"""Lambda allocates one full vCPU at 1,769 MB, proportionally less below."""


class CallTimer:
    """Wall time of every AWS call, by thread, for the clients botocore creates from now on."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        self._original = botocore.session.Session.create_client

    def install(self) -> None:
        timer, original = self, self._original

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call", timer._before)
            client.meta.events.register("after-call", timer._after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        botocore.session.Session.create_client = self._original  # type: ignore[method-assign]

    def _before(self, context: dict[str, Any], **_: Any) -> None:
        context["bench.started"] = time.perf_counter()

    def _after(self, context: dict[str, Any], **_: Any) -> None:
        elapsed = (time.perf_counter() - context.get("bench.started", time.perf_counter())) * 1000
        with self._lock:
            self.calls.append((threading.get_ident(), elapsed))

    def take(self) -> list[tuple[int, float]]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


def queueing_ms(calls: list[tuple[int, float]], single_call_ms: float) -> float:
    """On the thread that waited longest, the time its calls took beyond `single_call_ms` each."""
    excess: dict[int, float] = {}
    for thread, elapsed in calls:
        excess[thread] = excess.get(thread, 0.0) + max(0.0, elapsed - single_call_ms)
    return max(excess.values(), default=0.0)


class CollectingQueue:
    """A deliveries queue that keeps the message bodies (stands in for functions/store/queues.py Queue)."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_batch(self, bodies: Sequence[str]) -> list[int]:
        self.bodies.extend(bodies)
        return []


class DeliverBench:
    """Endpoints, deliveries and deliver invocations against the child's table."""

    def __init__(self, moto: MotoProcess, receiver: Receiver) -> None:
        from functions.core.profile import load_profile  # noqa: PLC0415 - after the environment is set

        self._client = moto.client("dynamodb")
        self._receiver = receiver
        self.profile = load_profile(PROFILE)

    def endpoints(self, application_id: str, count: int) -> None:
        from functions.core.ids import new_id  # noqa: PLC0415
        from functions.core.models import SigningSecret, Webhook, utc_now  # noqa: PLC0415
        from functions.management.secrets import generate_secret  # noqa: PLC0415
        from functions.store.webhooks import WebhookStore  # noqa: PLC0415

        store, now = WebhookStore(self._client, TABLE_NAME), utc_now()
        for i in range(count):
            url = self._receiver.endpoint(f"/{application_id}/slow/{i}", delay_seconds=RECEIVER_DELAY_SECONDS)
            store.create(
                Webhook(
                    id=new_id("wh"),
                    application_id=application_id,
                    url=url,
                    events=[EVENT_TYPE],
                    secrets=[SigningSecret(value=generate_secret(self.profile.secret))],
                    created_at=now,
                    updated_at=now,
                )
            )

    def queued(self, application_id: str) -> list[str]:
        """Publish one new event (stored, as the ingest function does) and fan it out to the
        application's endpoints; the deliveries' queue messages."""
        from functions.core.ids import new_id  # noqa: PLC0415
        from functions.core.models import Event, utc_now  # noqa: PLC0415
        from functions.pipeline.fanout import FanOut, retention_expiry  # noqa: PLC0415
        from functions.pipeline.publishing import event_reference  # noqa: PLC0415
        from functions.store.events import EventStore  # noqa: PLC0415
        from functions.store.webhooks import WebhookStore  # noqa: PLC0415

        queue = CollectingQueue()
        fanout = FanOut(
            webhooks=WebhookStore(self._client, TABLE_NAME),
            deliveries_queue=queue,  # type: ignore[arg-type]
            profile=self.profile,
            events=EventStore(self._client, TABLE_NAME),
        )
        event = Event(
            id=new_id("evt"), application_id=application_id, type=EVENT_TYPE, data=event_data(0), created_at=utc_now()
        )
        expires = retention_expiry(event.created_at, self.profile.event_retention_days)
        EventStore(self._client, TABLE_NAME).put_new(event, expires)
        fanout.fan_out(event_reference(event))
        return queue.bodies

    @staticmethod
    def invoke(bodies: list[str]) -> tuple[float, float]:
        """One deliver invocation with these messages: (wall ms, process CPU ms)."""
        from dovecote_local.lambdas import LambdaContext  # noqa: PLC0415
        from dovecote_local.pollers import sqs_event  # noqa: PLC0415
        from functions.deliver.handler import handler  # noqa: PLC0415

        messages = [{"MessageId": str(uuid.uuid4()), "ReceiptHandle": "bench", "Body": body} for body in bodies]
        event = sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:bench-deliveries", "us-east-1")
        context = LambdaContext(
            "bench-deliver", "arn:aws:lambda:us-east-1:123456789012:function:bench-deliver", 512, 30
        )
        cpu, started = time.process_time(), time.perf_counter()
        result = handler(event, context)
        elapsed, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
        if result.get("batchItemFailures"):
            raise RuntimeError(f"deliver reported failures: {result}")
        return elapsed, cpu_ms


@dataclass
class Samples:
    wall: dict[str, list[float]] = field(default_factory=lambda: {"single": [], "batch": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"single": [], "batch": []})
    calls: dict[str, list[list[tuple[int, float]]]] = field(default_factory=lambda: {"single": [], "batch": []})
    accepted: dict[str, int] = field(default_factory=dict)

    def single_call_ms(self) -> float:
        latencies = [elapsed for calls in self.calls["single"] for _, elapsed in calls]
        return statistics.median(latencies) if latencies else 0.0

    def at_single_call_latency(self, kind: str) -> list[float]:
        single = self.single_call_ms()
        return [
            wall - queueing_ms(calls, single) for wall, calls in zip(self.wall[kind], self.calls[kind], strict=True)
        ]


def measure(runs: int) -> Samples:
    from dovecote_local.templates import load_template  # noqa: PLC0415

    template = load_template(PROFILE)
    samples = Samples()
    applications = {"single": "bench-single", "batch": "bench-batch"}
    receiver = Receiver("webhook-id").start()
    timer = CallTimer()
    timer.install()
    try:
        with MotoProcess() as moto:
            moto.create_table(template, TABLE_NAME)
            sqs = moto.client("sqs")
            # Unused on this happy path (no operational event, no rate limit), but the deliver function needs them.
            events_queue, deliveries_queue = (
                sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("events", "deliveries")
            )
            saved = apply_environment(
                {
                    **moto.environment(),
                    "DOVECOTE_TABLE_NAME": TABLE_NAME,
                    "DOVECOTE_EVENTS_QUEUE_URL": events_queue,
                    "DOVECOTE_DELIVERIES_QUEUE_URL": deliveries_queue,
                    "DOVECOTE_PROFILE": PROFILE,
                    "DOVECOTE_ALLOW_HTTP_LOOPBACK": "1",
                    "DOVECOTE_RETRY_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
                    "POWERTOOLS_LOG_LEVEL": "WARNING",
                    "POWERTOOLS_METRICS_DISABLED": "true",
                    "POWERTOOLS_TRACE_DISABLED": "true",
                }
            )
            try:
                bench = DeliverBench(moto, receiver)
                bench.endpoints(applications["single"], 1)
                bench.endpoints(applications["batch"], BATCH_SIZE)
                for round_number in range(runs + 1):  # round 0 warms both paths up
                    order = ["single", "batch"] if round_number % 2 == 0 else ["batch", "single"]
                    for kind in order:
                        bodies = bench.queued(applications[kind])
                        timer.take()
                        elapsed, cpu_ms = bench.invoke(bodies)
                        calls = timer.take()
                        if round_number > 0:
                            samples.wall[kind].append(elapsed)
                            samples.cpu[kind].append(cpu_ms)
                            samples.calls[kind].append(calls)
            finally:
                restore_environment(saved)
        samples.accepted = {kind: receiver.accepted(application) for kind, application in applications.items()}
    finally:
        timer.uninstall()
        receiver.close()
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="timed invocations of each kind")
    arguments = parser.parse_args(argv)
    runs = max(3, arguments.runs)

    progress(f"batch concurrency: {runs} runs each of 1 and {BATCH_SIZE} deliveries (receiver answers in 200 ms) …")
    samples = measure(runs)
    medians = {kind: statistics.median(values) for kind, values in samples.wall.items()}
    adjusted = {kind: statistics.median(samples.at_single_call_latency(kind)) for kind in samples.wall}
    cpu_medians = {kind: statistics.median(values) for kind, values in samples.cpu.items()}
    ratio = medians["batch"] / medians["single"]
    adjusted_ratio = adjusted["batch"] / adjusted["single"]
    metadata = run_metadata("bench.batch_concurrency", argv)

    delay_ms = RECEIVER_DELAY_SECONDS * 1000
    print(f"Dovecote deliver batch concurrency: receiver on 127.0.0.1 answering after {delay_ms:.0f} ms")
    print(f"({metadata['date']}, commit {metadata['commit']}; {runs} interleaved runs each; moto in a child process)")
    print(
        table(
            [
                "invocation",
                "deliveries",
                "median ms",
                "min ms",
                "max ms",
                "at single-call latency",
                "CPU ms",
                "accepted",
            ],
            [
                [
                    kind,
                    1 if kind == "single" else BATCH_SIZE,
                    medians[kind],
                    min(values),
                    max(values),
                    adjusted[kind],
                    cpu_medians[kind],
                    samples.accepted[kind],
                ]
                for kind, values in samples.wall.items()
            ],
        )
    )
    mean_latency = {
        kind: statistics.mean(e for calls in samples.calls[kind] for _, e in calls) for kind in samples.calls
    }
    print(
        f"AWS call latency (mean): single {mean_latency['single']:.1f} ms, batch {mean_latency['batch']:.1f} ms; "
        f"batch at single-call latency: {adjusted_ratio:.2f}x"
    )
    target = Target(f"batch of {BATCH_SIZE} vs single delivery (median duration)", ratio, TARGET_RATIO, "x")
    print()
    print(target.line())
    document: dict[str, Any] = {
        "benchmark": "batch_concurrency",
        **metadata,
        "receiver_delay_ms": RECEIVER_DELAY_SECONDS * 1000,
        "batch_size": BATCH_SIZE,
        "samples_ms": samples.wall,
        "cpu_ms": samples.cpu,
        "median_ms": medians,
        "median_at_single_call_latency_ms": adjusted,
        "median_cpu_ms": cpu_medians,
        "mean_aws_call_ms": mean_latency,
        "ratio": ratio,
        "ratio_at_single_call_latency": adjusted_ratio,
        "accepted": samples.accepted,
    }
    return finish(arguments, [target], document)


if __name__ == "__main__":
    sys.exit(main())
