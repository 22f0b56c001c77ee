"""Dollars per million successful deliveries, from counted AWS usage of the local stack.

Runs events through the local stack (dovecote_local, the real handlers against moto on
127.0.0.1) at fan-out 1, 10 and 100, on the happy path and with 10 % of endpoints failing
twice before they succeed (their retries go through the retry state machine, waits scaled
down). Everything billed is counted in this process (bench/instrument.py): AWS calls per
service and operation with DynamoDB request units from item sizes and SQS 64 KiB chunks,
Lambda invocations with their measured durations, HTTP API requests, and the retry
executions' state transitions from their histories. bench/prices.py turns the counts into
dollars at the memory sizes infra/functions.py configures. The same counts are also priced
as the naive design (one Step Functions execution per delivery).

Caveat: moto serves every AWS call inside this same 2-core process, so the handlers'
measured durations (and their Lambda GB-seconds) are higher than they would be on AWS;
the tables show the Lambda duration line on its own so it can be judged.

    python -m bench.cost_model [--json PATH] [--scale 1.0] [--budget 430] [--only "mix f1" ...]
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.destination_cost import destination_costs
from bench.destination_cost import print_table as print_destination_table
from bench.destination_cost import rows as destination_rows
from bench.harness import Scenario, ScenarioResult, bench_stack
from bench.metering import (
    CostLine,
    Usage,
    by_service_usd,
    cost_lines,
    naive_usage,
    optional_cost_lines,
    per_million,
    total_usd,
)
from bench.prices import PRICES, PRICES_AS_OF, function_memory_mb, price_table
from bench.report import Target, benchmark_arguments, progress, run_metadata, table, write_json

PROFILE = "standard"
SCENARIOS = (
    Scenario("happy f1", fanout=1, events=1000),
    Scenario("batch f1", fanout=1, events=1000, batch=100),
    Scenario("happy f10", fanout=10, events=100),
    Scenario("happy f100", fanout=100, events=10),
    Scenario("mix f10", fanout=10, events=100, flaky_share=0.1, failures=2),
    Scenario("mix f1", fanout=1, events=1000, flaky_share=0.1, failures=2),
    Scenario("mix f10 burst", fanout=10, events=100, flaky_share=0.1, failures=2, burst=True),
    Scenario("dead endpoint", fanout=1, events=100, flaky_share=1.0, dead=True, endpoints=1, burst=True),
    Scenario("retry timing", fanout=10, events=30, flaky_share=0.1, failures=1),
)
DEFAULT_SCENARIOS = ("happy f1", "batch f1", "happy f10", "happy f100", "mix f10", "dead endpoint", "retry timing")
"""What `make bench` runs (mix f1 adds 2-3 minutes: `--only "mix f1"`; `--only "mix f10 burst"` is mix f10
with every delivery queued before the deliver function takes any, as at 100 deliveries/s or more)."""
TIME_SCALES = {"dead endpoint": 0.0002, "retry timing": 0.6}
"""Scenarios run on a stack of their own with this time scale (others: bench/harness.py TIME_SCALE).
Dead endpoint: the standard table's 27.6 hours play out in 20 seconds. Retry timing: the wait
before attempt 2 lasts 3 s, longer than the local stack takes to start an execution and reach its
Wait (up to about 1.5 s under moto on 2 cores), so the deviation measures Dovecote's scheduling;
at the other scenarios' scale that wait is 10 ms and their deviation is mostly moto's latency."""
TIMING_SCENARIOS = frozenset({"retry timing"})
"""Where the verdict on following the table comes from when they ran (the others' deviation is printed)."""
NO_AUTO_DISABLE = frozenset({"dead endpoint"})
"""Scenarios whose stack runs the profile without its automatic disabling: every delivery exhausts
the table (with it, the endpoint is disabled once 20 deliveries have, and the rest are cancelled at
their next attempt, which would make the figure cheaper than the table)."""
TARGET_F1_USD = 3.00
TARGET_BATCH_F1_USD = 1.50
TARGET_F10_USD = 1.00
TARGET_MIX_F10_USD = 5.00
TARGET_DEAD_USD = 50.00
TARGET_TABLE_DEVIATION_SECONDS = 1.0
DEFAULT_BUDGET_SECONDS = 430
SERVICE_COLUMNS = ("API Gateway", "Lambda", "SQS", "DynamoDB", "EventBridge", "Step Functions")


@dataclass
class Priced:
    """One scenario's usage in dollars."""

    result: ScenarioResult
    lines: list[CostLine]
    optional: list[CostLine]
    naive: list[CostLine]
    naive_usage: Usage
    adjusted: list[CostLine]
    """`lines` with Lambda durations at uncontended AWS latency."""

    @property
    def usage(self) -> Usage:
        return self.result.usage

    @property
    def deliveries(self) -> int:
        return self.usage.deliveries

    def per_million(self, lines: list[CostLine] | None = None) -> float:
        return per_million(total_usd(self.lines if lines is None else lines), self.deliveries)

    def line_per_million(self, service: str, item_prefix: str = "") -> float:
        usd = sum(line.usd for line in self.lines if line.service == service and line.item.startswith(item_prefix))
        return per_million(usd, self.deliveries)


def price(result: ScenarioResult, memory_mb: dict[str, int]) -> Priced:
    naive = naive_usage(result.usage)
    return Priced(
        result=result,
        lines=cost_lines(result.usage, memory_mb),
        optional=optional_cost_lines(result.usage),
        naive=cost_lines(naive, memory_mb),
        naive_usage=naive,
        adjusted=cost_lines(result.usage, memory_mb, adjusted=True),
    )


# What moves the figure: savings computed from the same counts


def _calls_usd(usage: Usage, caller: str, service: str, operation_prefix: str, *, index_only: bool = False) -> float:
    total = 0.0
    for (who, svc, operation), stats in usage.calls.items():
        if who != caller or svc != service or not operation.startswith(operation_prefix):
            continue
        if service == "dynamodb":
            writes = stats.index_write_units if index_only else stats.write_units
            total += PRICES["dynamodb_write_request_unit"].cost(writes)
            if not index_only:
                total += PRICES["dynamodb_read_request_unit"].cost(stats.read_units)
        elif service == "sqs":
            total += PRICES["sqs_standard_request"].cost(stats.billed_requests)
    return total


def levers(priced: Priced) -> list[tuple[str, str, float]]:
    """(change, where, dollars saved per million deliveries) for one scenario's counts."""
    usage = priced.usage
    saved: list[tuple[str, str, float]] = []

    def add(change: str, where: str, usd: float) -> None:
        saved.append((change, where, per_million(usd, usage.deliveries)))

    add(
        "no gsi1 write for the delivery log (key deliveries by endpoint; delivery ids would name the endpoint)",
        "functions/store/deliveries.py create_with_outcome / record_attempt (+ infra/storage.py gsi1)",
        _calls_usd(usage, "deliver", "dynamodb", "PutItem:delivery", index_only=True)
        + _calls_usd(usage, "deliver", "dynamodb", "UpdateItem:delivery", index_only=True),
    )
    add(
        "deliver: no event reads (at most this much; a batch reads its events in one BatchGetItem already)",
        "functions/pipeline/reads.py SharedReads.prefetch",
        _calls_usd(usage, "deliver", "dynamodb", "BatchGetItem:event")
        + _calls_usd(usage, "deliver", "dynamodb", "GetItem:event"),
    )
    return saved


def floor_per_million(fanout: int) -> float:
    """The least this data flow can cost per million deliveries, from list prices alone: no Lambda
    duration, no reads, no idempotency record, no index, full batches of 10, items under 1 KB.

    Per event: an HTTP API request, an ingest invocation, a SendMessage, the event row. Per 10
    events: a fan-out receive, delete and invocation. Per 10 deliveries: a SendMessageBatch and a
    deliver receive, delete and invocation. Per delivery: its row.
    """
    sqs, invocation = PRICES["sqs_standard_request"].cost(1), PRICES["lambda_request"].cost(1)
    write = PRICES["dynamodb_write_request_unit"].cost(1)
    per_event = PRICES["apigw_http_request"].cost(1) + invocation + sqs + write
    per_ten = 2 * sqs + invocation
    per_delivery = per_event / fanout + per_ten / (10 * fanout) + (per_ten + sqs) / 10 + write
    return per_delivery * 1_000_000


# Printing


def _per_delivery_rows(priced: list[Priced]) -> list[list[Any]]:
    keys = sorted({key for p in priced for key in p.usage.calls})
    rows: list[list[Any]] = []
    for caller, service, operation in keys:
        row: list[Any] = [caller, f"{service} {operation}"]
        for p in priced:
            stats = p.usage.calls.get((caller, service, operation))
            row.append(stats.calls / p.deliveries if stats and p.deliveries else 0.0)
        rows.append(row)
    totals: list[Any] = ["all", "AWS calls"]
    wru: list[Any] = ["", "DynamoDB WRU (of which GSI)"]
    rru: list[Any] = ["", "DynamoDB RRU"]
    sqs: list[Any] = ["", "SQS billed requests"]
    for p in priced:
        n = p.deliveries or 1
        dynamodb = p.usage.by_service().get("dynamodb")
        queue = p.usage.by_service().get("sqs")
        totals.append(p.usage.total_calls() / n)
        wru.append(f"{dynamodb.write_units / n:.2f} ({dynamodb.index_write_units / n:.2f})" if dynamodb else "0")
        rru.append(dynamodb.read_units / n if dynamodb else 0.0)
        sqs.append(queue.billed_requests / n if queue else 0.0)
    return [*rows, totals, wru, rru, sqs]


def _lambda_rows(priced: list[Priced]) -> list[list[Any]]:
    keys = sorted({key for p in priced for key in p.usage.invocations})
    rows = []
    for function, trigger in keys:
        row: list[Any] = [f"{function} ({trigger})"]
        for p in priced:
            stats = p.usage.invocations.get((function, trigger))
            if stats is None or not p.deliveries:
                row.append("-")
                continue
            batch = f" x{stats.records / stats.invocations:.1f}" if stats.records else ""
            adjusted = stats.adjusted_ms / stats.invocations
            row.append(
                f"{stats.invocations * 1000 / p.deliveries:.0f}{batch} @ {stats.mean_ms:.0f} ({adjusted:.0f}) ms"
            )
        rows.append(row)
    return rows


def print_report(priced: list[Priced], memory_mb: dict[str, int], skipped: list[str], metadata: dict[str, Any]) -> None:
    names = [p.result.scenario.name for p in priced]
    print(f"Dovecote cost model: profile {PROFILE}, local stack on 127.0.0.1")
    print(f"({metadata['date']}, commit {metadata['commit']})")
    print(f"Prices: us-east-1 list prices, bench/prices.py, {PRICES_AS_OF}. Memory (infra/functions.py): {memory_mb}")
    print()
    rows = []
    for p in priced:
        services = by_service_usd(p.lines)
        optional = sum(line.usd for line in p.optional)
        rows.append(
            [
                p.result.scenario.name,
                p.deliveries,
                p.usage.events,
                *(per_million(services.get(service, 0.0), p.deliveries) for service in SERVICE_COLUMNS),
                p.per_million(),
                p.line_per_million("Lambda", "") - _lambda_requests_per_million(p),
                p.per_million(p.adjusted),
                p.usage.state_transitions,
                p.per_million(p.naive),
                per_million(optional, p.deliveries),
            ]
        )
    print("Dollars per million successful deliveries")
    print(
        table(
            [
                "scenario",
                "deliveries",
                "events",
                "APIGW",
                "Lambda",
                "SQS",
                "DynamoDB",
                "EB",
                "SFN",
                "TOTAL",
                "(Lambda GB-s)",
                "TOTAL adj.",
                "transitions",
                "naive",
                "+logs/X-Ray",
            ],
            rows,
        )
    )
    print("  EB = EventBridge PutEvents entries: operational events on the deployer's default bus")
    print("  (Lambda GB-s) = the duration part of Lambda, measured in this process, where moto serves every call")
    print("  TOTAL adj. = TOTAL with each invocation shortened by the time its AWS calls waited beyond an idle")
    print("    moto's latency (contention in this 2-core process); TOTAL keeps the measured durations")
    print("  naive = the same counts with one Step Functions execution per delivery (Attempt 1, Choice 1, Done)")
    print("  +logs/X-Ray = estimated CloudWatch Logs ingestion and X-Ray traces, not in TOTAL")
    print()
    print("AWS calls per delivery (caller: function, or esm:<function> for its SQS event source mapping)")
    print(table(["caller", "call", *names], _per_delivery_rows(priced), align_left=2))
    print()
    print("Lambda invocations per 1,000 deliveries (x mean batch) @ mean measured (adjusted) duration")
    print(table(["function", *names], _lambda_rows(priced)))
    if priced:
        print()
        print("What moves the figure ($ per million deliveries saved, from the same counts)")
        focus = [p for p in priced if p.result.scenario.flaky_share == 0 and p.result.scenario.fanout in (1, 10)]
        lever_rows: dict[str, list[Any]] = {}
        for p in focus:
            for change, where, saving in levers(p):
                lever_rows.setdefault(change, [change, where]).append(saving)
        print(
            table(
                ["change", "where", *(p.result.scenario.name for p in focus)], list(lever_rows.values()), align_left=2
            )
        )
    print()
    floors = ", ".join(f"fan-out {n}: ${floor_per_million(n):.2f}" for n in (1, 10, 100))
    print(f"Floor of this data flow (list prices only; no duration, reads, idempotency record or index): {floors}")
    happy_f1 = next((p for p in priced if p.result.scenario.name == "happy f1" and p.result.complete), None)
    print()
    print_destination_table(happy_f1.per_million() if happy_f1 else None, destination_costs())
    for p in priced:
        if p.result.retried_deliveries:
            deviation = p.result.table_deviation_seconds
            print(
                f"retries: {p.result.scenario.name}: {p.result.retried_deliveries} deliveries retried in "
                f"{p.usage.executions} executions ({p.usage.state_transitions} transitions); largest deviation "
                f"from the table between two attempts: {deviation:.3f} s (nan: see the notes)"
            )
        for note in p.result.notes:
            print(f"note: {p.result.scenario.name}: {note}")
    for name in skipped:
        print(f"note: {name}: skipped (time budget)")


def _lambda_requests_per_million(p: Priced) -> float:
    usd = sum(line.usd for line in p.lines if line.service == "Lambda" and line.item.endswith("requests"))
    return per_million(usd, p.deliveries)


def targets(priced: list[Priced]) -> list[Target]:
    """A scenario cut off by its deadline has partial counts: its target shows as not met ("-")."""
    by_name = {p.result.scenario.name: p for p in priced}
    found: list[Target] = []

    def cost(name: str) -> float:
        p = by_name[name]
        return p.per_million() if p.result.complete else math.nan

    if "happy f1" in by_name:
        found.append(Target("cost at fan-out 1, happy path", cost("happy f1"), TARGET_F1_USD, " $/M"))
    if "batch f1" in by_name:
        found.append(Target("cost at fan-out 1, batch publish of 100", cost("batch f1"), TARGET_BATCH_F1_USD, " $/M"))
    if "happy f10" in by_name:
        found.append(Target("cost at fan-out 10, happy path", cost("happy f10"), TARGET_F10_USD, " $/M"))
    happy = [p for p in priced if p.result.scenario.flaky_share == 0]
    if happy:
        transitions = sum(p.usage.state_transitions for p in happy)
        found.append(Target("state transitions on the happy path", transitions, 0, "", "=="))
    if "mix f10" in by_name:
        found.append(Target("cost at fan-out 10, 10 % failing twice", cost("mix f10"), TARGET_MIX_F10_USD, " $/M"))
    if "dead endpoint" in by_name:
        found.append(Target("cost to a dead endpoint", cost("dead endpoint"), TARGET_DEAD_USD, " $/M"))
    timed = [p for p in priced if p.result.scenario.name in TIMING_SCENARIOS] or priced
    deviations = [
        p.result.table_deviation_seconds if p.result.complete else math.nan
        for p in timed
        if p.result.table_deviation_seconds is not None
    ]
    if deviations:
        worst = math.nan if any(math.isnan(d) for d in deviations) else max(deviations)
        found.append(
            Target(
                "retry table followed per delivery (largest deviation)",
                worst,
                TARGET_TABLE_DEVIATION_SECONDS,
                " s",
            )
        )
    return found


def to_json(
    priced: list[Priced], memory_mb: dict[str, int], skipped: list[str], metadata: dict[str, Any]
) -> dict[str, Any]:
    return {
        "benchmark": "cost_model",
        **metadata,
        "profile": PROFILE,
        "prices_as_of": PRICES_AS_OF,
        "prices": price_table(),
        "memory_mb": memory_mb,
        "skipped": skipped,
        "destinations": [
            dict(
                zip(("type", "pipeline", "sts_calls", "sts_wait", "dovecote", "send_customer", "all"), row, strict=True)
            )
            for row in destination_rows(
                destination_costs(),
                next((p.per_million() for p in priced if p.result.scenario.name == "happy f1"), None),
            )
        ],
        "scenarios": [
            {
                **p.result.to_json(),
                "usd_per_million": p.per_million(),
                "usd_per_million_adjusted": p.per_million(p.adjusted),
                "usd_per_million_by_line": [
                    {**vars(line), "usd_per_million": per_million(line.usd, p.deliveries)} for line in p.lines
                ],
                "optional_usd_per_million": {line.service: per_million(line.usd, p.deliveries) for line in p.optional},
                "naive_usd_per_million": p.per_million(p.naive),
                "naive_state_transitions": p.naive_usage.state_transitions,
                "levers": [
                    {"change": change, "where": where, "usd_per_million_saved": saving}
                    for change, where, saving in levers(p)
                ],
            }
            for p in priced
        ],
        "targets": [target.to_json() for target in targets(priced)],
    }


def scaled(scenario: Scenario, factor: float) -> Scenario:
    return replace(scenario, events=max(1, math.ceil(scenario.events * factor)))


def batching_window_seconds() -> float:
    from infra.functions import MAX_BATCHING_WINDOW  # noqa: PLC0415 - imports the CDK library

    return float(MAX_BATCHING_WINDOW.to_seconds())


def run(scenarios: list[Scenario], budget_seconds: float) -> tuple[list[ScenarioResult], list[str]]:
    results: list[ScenarioResult] = []
    skipped: list[str] = []
    started = time.monotonic()
    by_stack: dict[tuple[float | None, bool], list[Scenario]] = {}
    for scenario in scenarios:
        stack = (TIME_SCALES.get(scenario.name), scenario.name in NO_AUTO_DISABLE)
        by_stack.setdefault(stack, []).append(scenario)
    scratch = tempfile.TemporaryDirectory(prefix="dovecote-bench-profile-")
    for (scale, no_auto_disable), chosen in by_stack.items():
        if budget_seconds - (time.monotonic() - started) < 40:
            skipped += [scenario.name for scenario in chosen]
            continue
        options: dict[str, Any] = {"batching_window_seconds": batching_window_seconds()}
        if scale is not None:
            options["time_scale"] = scale
        profile = _without_auto_disable(PROFILE, scratch.name) if no_auto_disable else PROFILE
        with bench_stack(profile, **options) as bench:
            for scenario in chosen:
                left = budget_seconds - (time.monotonic() - started)
                if left < 20:
                    skipped.append(scenario.name)
                    continue
                progress(f"cost model: {scenario.name}: {scenario.events} events x fan-out {scenario.fanout} …")
                result = bench.run(replace(scenario, timeout_seconds=min(scenario.timeout_seconds, left)))
                progress(f"  {result.usage.deliveries} deliveries in {result.seconds:.0f} s")
                results.append(result)
    scratch.cleanup()
    return results, skipped


def _without_auto_disable(profile_name: str, directory: str) -> str:
    """A profile file: `profile_name` with its health rule off (the same table, headers, timeout)."""
    from functions.core.profile import load_profile  # noqa: PLC0415

    document = load_profile(profile_name).model_dump(mode="json")
    document["health"] = {"disable_after_failing_days": None, "disable_after_consecutive_failures": None}
    path = Path(directory) / f"{profile_name}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every scenario's events (default 1)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_SECONDS, help="seconds for all scenarios")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=[s.name for s in SCENARIOS],
        help=f"scenarios to run (default: {', '.join(DEFAULT_SCENARIOS)})",
    )
    arguments = parser.parse_args(argv)

    names = arguments.only or DEFAULT_SCENARIOS
    chosen = [s for s in SCENARIOS if s.name in names]
    memory_mb = function_memory_mb(PROFILE)
    results, skipped = run([scaled(s, arguments.scale) for s in chosen], arguments.budget)
    priced = [price(result, memory_mb) for result in results]
    metadata = run_metadata("bench.cost_model", argv)
    print_report(priced, memory_mb, skipped, metadata)
    found = targets(priced)
    print()
    for target in found:
        print(target.line())
    write_json(arguments.json, to_json(priced, memory_mb, skipped, metadata))
    return 1 if arguments.check and not all(t.passed for t in found) else 0


if __name__ == "__main__":
    sys.exit(main())
