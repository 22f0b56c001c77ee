"""What the benchmarks count, and what it costs: pure arithmetic, no AWS, no I/O.

- DynamoDB: item sizes by the documented rules, on-demand read/write request units.
- SQS, HTTP API, Lambda: billed requests and billed duration.
- Step Functions: state transitions in an execution history.
- `Usage`: the counts of one benchmark run; `cost_lines` turns them into dollars with
  bench/prices.py; `naive_usage` rewrites them as if every delivery had its own execution.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from bench.prices import PRICES, Price

KIB = 1024
DYNAMODB_WRITE_UNIT_BYTES = KIB
DYNAMODB_READ_UNIT_BYTES = 4 * KIB
SQS_CHUNK_BYTES = 64 * KIB
HTTP_API_CHUNK_BYTES = 512 * KIB
EVENTBRIDGE_CHUNK_BYTES = 64 * KIB
_LIST_OR_MAP_OVERHEAD = 3


# DynamoDB item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)


def number_size(text: str) -> int:
    """About (significant digits / 2) + 1 bytes, one more when negative."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return len(str(text))
    if value.is_zero():
        return 1
    _, digits, _ = value.normalize().as_tuple()  # normalize() drops leading and trailing zeros
    return math.ceil(len(digits) / 2) + 1 + (1 if value < 0 else 0)


def _text_size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    return len(str(value).encode("utf-8"))


def attribute_value_size(value: Mapping[str, Any]) -> int:
    """The size of one AttributeValue in the low-level format, e.g. {"S": "abc"}."""
    ((kind, content),) = value.items()
    if kind in ("S", "B"):
        return _text_size(content)
    if kind == "N":
        return number_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS" or kind == "BS":
        return sum(_text_size(member) for member in content)
    if kind == "NS":
        return sum(number_size(member) for member in content)
    if kind == "L":
        return _LIST_OR_MAP_OVERHEAD + sum(1 + attribute_value_size(member) for member in content)
    if kind == "M":
        return _LIST_OR_MAP_OVERHEAD + sum(
            1 + _text_size(name) + attribute_value_size(member) for name, member in content.items()
        )
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Attribute names plus values, in bytes (0 for no item)."""
    if not item:
        return 0
    return sum(_text_size(name) + attribute_value_size(value) for name, value in item.items())


def write_units(size_bytes: int, *, transactional: bool = False) -> int:
    """On-demand write request units: one per KiB started (at least one), twice in a transaction."""
    units = max(1, math.ceil(size_bytes / DYNAMODB_WRITE_UNIT_BYTES))
    return units * 2 if transactional else units


def read_units(size_bytes: int, *, consistent: bool, transactional: bool = False) -> float:
    """On-demand read request units: one per 4 KiB started (at least one) when strongly
    consistent, half when eventually consistent, twice in a transaction."""
    units = max(1, math.ceil(size_bytes / DYNAMODB_READ_UNIT_BYTES))
    if transactional:
        return float(units * 2)
    return float(units) if consistent else units / 2


def item_kind(pk: str, sk: str = "") -> str:
    """What a key of the single table names (functions/store/table.py's layout)."""
    if pk.startswith("KEY#") or pk.endswith("#KEYS"):
        return "api_key"
    for marker, kind in (("#DEL#", "delivery"), ("#EVT#", "event"), ("#IDEM#", "idempotency"), ("#WH#", "delivery")):
        if marker in pk:
            return kind
    if sk.startswith("WH#") or (pk.startswith("T#") and not sk):
        return "webhook"
    return "other"


# Requests billed by size, and Lambda duration


def sqs_billed_requests(payload_bytes: int) -> int:
    """One request per 64 KiB chunk of the payload (at least one)."""
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def eventbridge_billed_events(entry_bytes: list[int]) -> int:
    """PutEvents is billed per entry, one event per 64 KiB chunk of it."""
    return sum(max(1, math.ceil(size / EVENTBRIDGE_CHUNK_BYTES)) for size in entry_bytes)


def http_api_billed_requests(request_bytes: int) -> int:
    """One request per 512 KiB of the request (at least one)."""
    return max(1, math.ceil(request_bytes / HTTP_API_CHUNK_BYTES))


def lambda_billed_ms(duration_ms: float) -> int:
    """Lambda rounds each invocation's duration up to the millisecond."""
    return max(1, math.ceil(duration_ms))


def adjusted_duration_ms(duration_ms: float, excess_by_thread: Mapping[int, float]) -> float:
    """An invocation's duration had its AWS calls answered at uncontended latency: minus, on the
    thread that waited longest, the time its calls took beyond that latency (at least 1 ms)."""
    return max(1.0, duration_ms - max(excess_by_thread.values(), default=0.0))


def gb_seconds(billed_ms: float, memory_mb: int) -> float:
    return billed_ms / 1000 * memory_mb / 1024


# Step Functions


def state_transitions(history_events: Iterable[Mapping[str, Any]]) -> int:
    """Billed transitions of one execution: one per state entered."""
    return sum(1 for event in history_events if str(event.get("type", "")).endswith("StateEntered"))


# Usage of one run


@dataclass
class CallStats:
    """AWS API calls of one (caller, service, operation)."""

    calls: int = 0
    errors: int = 0
    billed_requests: float = 0
    """SQS: 64 KiB chunks; EventBridge: events (64 KiB chunks of each entry); other services: the calls."""
    read_units: float = 0
    write_units: float = 0
    index_write_units: float = 0
    """The part of `write_units` spent on global secondary indexes."""
    request_bytes: int = 0
    response_bytes: int = 0
    total_ms: float = 0
    """Wall time of the calls as the caller saw them."""

    def add(self, other: CallStats) -> None:
        for name in (stat.name for stat in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class InvocationStats:
    """Lambda invocations of one (function, trigger)."""

    invocations: int = 0
    errors: int = 0
    total_ms: float = 0
    billed_ms: int = 0
    records: int = 0
    """SQS records handled (batch sizes add up here)."""
    adjusted_ms: float = 0
    adjusted_billed_ms: int = 0
    """The same at uncontended AWS latency (see `adjusted_duration_ms`)."""

    def record(
        self, duration_ms: float, records: int = 0, *, error: bool = False, adjusted_ms: float | None = None
    ) -> None:
        self.invocations += 1
        self.errors += int(error)
        self.total_ms += duration_ms
        self.billed_ms += lambda_billed_ms(duration_ms)
        self.records += records
        adjusted = duration_ms if adjusted_ms is None else adjusted_ms
        self.adjusted_ms += adjusted
        self.adjusted_billed_ms += lambda_billed_ms(adjusted)

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.invocations if self.invocations else 0.0


GroupT = TypeVar("GroupT")
CallKey = tuple[str, str, str]
"""(caller, service, operation): caller is a function name or `esm:<function>` (its SQS poller)."""
InvocationKey = tuple[str, str]
"""(function, trigger): trigger is `api`, `sqs` or `stepfunctions`."""


@dataclass
class Usage:
    deliveries: int = 0
    """Successful deliveries: the denominator of every per-delivery figure."""
    events: int = 0
    calls: dict[CallKey, CallStats] = field(default_factory=dict)
    invocations: dict[InvocationKey, InvocationStats] = field(default_factory=dict)
    api_requests: int = 0
    api_billed_requests: int = 0
    executions: int = 0
    state_transitions: int = 0
    log_bytes: int = 0
    """What the handlers wrote to stdout (logs at the deployed level, EMF metrics)."""
    execution_log_bytes: int = 0
    """The retry executions' history events as JSON (the state machine logs them all, with data)."""
    idle_receives: int = 0
    """Empty long polls of the SQS pollers: a fixed cost of an idle stack, left out of the figures."""

    def call(self, key: CallKey) -> CallStats:
        return self.calls.setdefault(key, CallStats())

    def invocation(self, key: InvocationKey) -> InvocationStats:
        return self.invocations.setdefault(key, InvocationStats())

    def by_service(self) -> dict[str, CallStats]:
        return self._calls_by(lambda key: key[1])

    def by_operation(self) -> dict[tuple[str, str], CallStats]:
        return self._calls_by(lambda key: (key[1], key[2]))

    def _calls_by(self, group: Callable[[CallKey], GroupT]) -> dict[GroupT, CallStats]:
        totals: dict[GroupT, CallStats] = {}
        for key, stats in self.calls.items():
            totals.setdefault(group(key), CallStats()).add(stats)
        return totals

    def total_calls(self) -> int:
        return sum(stats.calls for stats in self.calls.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "deliveries": self.deliveries,
            "events": self.events,
            "api_requests": self.api_requests,
            "api_billed_requests": self.api_billed_requests,
            "executions": self.executions,
            "state_transitions": self.state_transitions,
            "idle_receives": self.idle_receives,
            "log_bytes": self.log_bytes,
            "execution_log_bytes": self.execution_log_bytes,
            "calls": [
                {"caller": caller, "service": service, "operation": operation, **vars(stats)}
                for (caller, service, operation), stats in sorted(self.calls.items())
            ],
            "invocations": [
                {"function": function, "trigger": trigger, **vars(stats), "mean_ms": round(stats.mean_ms, 2)}
                for (function, trigger), stats in sorted(self.invocations.items())
            ],
        }


# Dollars


@dataclass(frozen=True)
class CostLine:
    service: str
    item: str
    quantity: float
    unit: str
    usd: float


def cost_lines(
    usage: Usage, memory_mb: Mapping[str, int], prices: Mapping[str, Price] = PRICES, *, adjusted: bool = False
) -> list[CostLine]:
    """Every billed quantity of `usage` at `prices`; Lambda duration at each function's memory
    (as measured, or `adjusted` to uncontended AWS latency)."""
    lines = [
        CostLine(
            "API Gateway",
            "HTTP API requests",
            usage.api_billed_requests,
            "requests",
            prices["apigw_http_request"].cost(usage.api_billed_requests),
        )
    ]
    functions = sorted({function for function, _ in usage.invocations})
    for function in functions:
        stats = [s for (f, _), s in usage.invocations.items() if f == function]
        invocations = sum(s.invocations for s in stats)
        seconds = sum(gb_seconds(s.adjusted_billed_ms if adjusted else s.billed_ms, memory_mb[function]) for s in stats)
        lines.append(
            CostLine(
                "Lambda", f"{function} requests", invocations, "invocations", prices["lambda_request"].cost(invocations)
            )
        )
        lines.append(
            CostLine(
                "Lambda",
                f"{function} duration ({memory_mb[function]} MB)",
                seconds,
                "GB-s",
                prices["lambda_arm64_gb_second"].cost(seconds),
            )
        )
    services = usage.by_service()
    sqs = services.get("sqs", CallStats())
    lines.append(
        CostLine(
            "SQS", "requests", sqs.billed_requests, "requests", prices["sqs_standard_request"].cost(sqs.billed_requests)
        )
    )
    dynamodb = services.get("dynamodb", CallStats())
    lines.append(
        CostLine(
            "DynamoDB",
            "write request units",
            dynamodb.write_units,
            "WRU",
            prices["dynamodb_write_request_unit"].cost(dynamodb.write_units),
        )
    )
    lines.append(
        CostLine(
            "DynamoDB",
            "read request units",
            dynamodb.read_units,
            "RRU",
            prices["dynamodb_read_request_unit"].cost(dynamodb.read_units),
        )
    )
    events = services.get("events", CallStats())
    lines.append(
        CostLine(
            "EventBridge",
            "custom events (PutEvents entries)",
            events.billed_requests,
            "events",
            prices["eventbridge_custom_event"].cost(events.billed_requests),
        )
    )
    lines.append(
        CostLine(
            "Step Functions",
            "state transitions",
            usage.state_transitions,
            "transitions",
            prices["sfn_standard_transition"].cost(usage.state_transitions),
        )
    )
    return lines


LAMBDA_PLATFORM_LOG_BYTES = 350
"""START, END and REPORT lines (with the X-Ray trace id) per invocation: an estimate."""
XRAY_SAMPLING = 0.05
"""X-Ray's default rule past its reservoir of one trace per second: 5 % of requests."""
GIB = 1024**3


def optional_cost_lines(usage: Usage, prices: Mapping[str, Price] = PRICES) -> list[CostLine]:
    """Estimates beside the total: CloudWatch Logs ingestion (handler logs at the deployed level,
    EMF metrics, Lambda's platform lines, the retry executions' logs) and X-Ray traces."""
    invocations = sum(s.invocations for s in usage.invocations.values())
    log_bytes = usage.log_bytes + usage.execution_log_bytes + invocations * LAMBDA_PLATFORM_LOG_BYTES
    log_gb = log_bytes / GIB
    queued = sum(s.invocations for (_, trigger), s in usage.invocations.items() if trigger == "sqs")
    traces = (usage.api_requests + queued + usage.executions) * XRAY_SAMPLING
    return [
        CostLine("CloudWatch Logs", "ingested", log_gb, "GB", prices["cloudwatch_logs_ingested_gb"].cost(log_gb)),
        CostLine(
            "X-Ray",
            f"traces ({XRAY_SAMPLING:.0%} sampled)",
            traces,
            "traces",
            prices["xray_trace_recorded"].cost(traces),
        ),
    ]


def total_usd(lines: Iterable[CostLine]) -> float:
    return sum(line.usd for line in lines)


def per_million(usd: float, deliveries: int) -> float:
    """Dollars per million successful deliveries."""
    return usd / deliveries * 1_000_000 if deliveries else math.nan


def by_service_usd(lines: Iterable[CostLine]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in lines:
        totals[line.service] = totals.get(line.service, 0.0) + line.usd
    return totals


# The naive design, from the same counts

NAIVE_ATTEMPT_ONE_STATES = 2
"""`Attempt 1` and `Choice 1`: what an execution per delivery adds in front of the retry states."""
NAIVE_END_STATES = 1
"""`Done` for a delivery that succeeded at attempt 1 (a retried one reaches its end state already)."""


def naive_usage(usage: Usage, *, deliver: str = "deliver", fanout: str = "fanout") -> Usage:
    """`usage` as it would be if each delivery were a Step Functions execution from its first attempt.

    - No deliveries queue: fan-out's SQS sends and the deliver function's SQS poller go
      (fan-out calls StartExecution instead, which is free).
    - The deliver function runs once per delivery, as a task, for attempt 1: each such
      invocation lasts what a measured task invocation lasted (a batch invocation when no
      task ran, which overstates it a little).
    - Transitions: the measured retry executions' own, plus `Attempt 1` and `Choice 1` for
      every delivery, plus `Done` for every delivery that needed no retry.
    """
    queued = usage.invocations.get((deliver, "sqs"), InvocationStats())
    attempts_one = queued.records
    tasks = usage.invocations.get((deliver, "stepfunctions"))
    single_ms = tasks.mean_ms if tasks and tasks.invocations else queued.mean_ms

    calls = {
        key: replace(stats)
        for key, stats in usage.calls.items()
        if key[0] != f"esm:{deliver}" and not (key[0] == fanout and key[1] == "sqs")
    }
    calls[(fanout, "stepfunctions", "StartExecution")] = CallStats(calls=attempts_one, billed_requests=attempts_one)
    calls.pop((deliver, "stepfunctions", "StartExecution"), None)

    invocations = {key: replace(stats) for key, stats in usage.invocations.items() if key != (deliver, "sqs")}
    as_tasks = invocations.setdefault((deliver, "stepfunctions"), InvocationStats())
    for _ in range(attempts_one):
        as_tasks.record(single_ms)

    retried = usage.executions
    transitions = (
        usage.state_transitions
        + NAIVE_ATTEMPT_ONE_STATES * attempts_one
        + NAIVE_END_STATES * max(0, attempts_one - retried)
    )
    return replace(
        usage,
        calls=calls,
        invocations=invocations,
        executions=attempts_one,
        state_transitions=transitions,
    )
