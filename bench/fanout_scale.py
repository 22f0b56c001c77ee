"""AWS calls and dollars per delivery as fan-out grows: 1, 10, 100, 1,000 endpoints per event.

Happy path through the local stack, counted and priced as bench/cost_model.py does (same
hooks, same price table, same memory sizes). Target: neither figure increases with fan-out
(a step may exceed the previous one by at most TOLERANCE, for the noise of measured durations).

    python -m bench.fanout_scale [--json PATH] [--scale 1.0] [--budget 240]
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from dataclasses import replace
from typing import Any

from bench.cost_model import PROFILE, batching_window_seconds
from bench.harness import Scenario, ScenarioResult, bench_stack
from bench.metering import by_service_usd, cost_lines, per_million, total_usd
from bench.prices import PRICES_AS_OF, function_memory_mb
from bench.report import Target, benchmark_arguments, finish, progress, run_metadata, table

SCENARIOS = (
    Scenario("fan-out 1", fanout=1, events=150),
    Scenario("fan-out 10", fanout=10, events=15),
    Scenario("fan-out 100", fanout=100, events=3),
    Scenario("fan-out 1000", fanout=1000, events=1),
)
TOLERANCE = 0.02
DEFAULT_BUDGET_SECONDS = 240


def figures(result: ScenarioResult, memory_mb: dict[str, int]) -> dict[str, Any]:
    usage = result.usage
    lines = cost_lines(usage, memory_mb)
    n = usage.deliveries or 1
    dynamodb = usage.by_service().get("dynamodb")
    lambda_ms = sum(s.total_ms for s in usage.invocations.values())
    return {
        "scenario": result.scenario.name,
        "fanout": result.scenario.fanout,
        "events": usage.events,
        "deliveries": usage.deliveries,
        "seconds": round(result.seconds, 1),
        "complete": result.complete,
        "notes": result.notes,
        "calls_per_delivery": usage.total_calls() / n,
        "usd_per_million": per_million(total_usd(lines), usage.deliveries),
        "usd_per_million_adjusted": per_million(
            total_usd(cost_lines(usage, memory_mb, adjusted=True)), usage.deliveries
        ),
        "usd_per_million_by_service": {k: per_million(v, usage.deliveries) for k, v in by_service_usd(lines).items()},
        "wru_per_delivery": (dynamodb.write_units / n) if dynamodb else 0.0,
        "rru_per_delivery": (dynamodb.read_units / n) if dynamodb else 0.0,
        "lambda_ms_per_delivery": lambda_ms / n,
        "usage": usage.to_json(),
    }


def worst_step(values: list[float]) -> float:
    """The largest ratio of a value to the one before it (1.0 or less: never increases)."""
    if any(math.isnan(value) for value in values):
        return math.nan
    ratios = [b / a for a, b in itertools.pairwise(values) if a > 0]
    return max(ratios, default=1.0)


def targets(rows: list[dict[str, Any]]) -> list[Target]:
    """Judged only when every fan-out ran to completion (a cut-off run's counts are partial)."""
    if len(rows) < 2:
        return []
    complete = all(row["complete"] for row in rows) and len(rows) == len(SCENARIOS)
    calls = [row["calls_per_delivery"] if complete else math.nan for row in rows]
    dollars = [row["usd_per_million"] if complete else math.nan for row in rows]
    limit = 1 + TOLERANCE
    return [
        Target("AWS calls per delivery never increase with fan-out (worst step)", worst_step(calls), limit, "x"),
        Target("dollars per delivery never increase with fan-out (worst step)", worst_step(dollars), limit, "x"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every scenario's events (default 1)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_SECONDS, help="seconds for all scenarios")
    arguments = parser.parse_args(argv)

    memory_mb = function_memory_mb(PROFILE)
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    started = time.monotonic()
    with bench_stack(PROFILE, batching_window_seconds=batching_window_seconds()) as bench:
        for planned in SCENARIOS:
            scenario = replace(planned, events=max(1, math.ceil(planned.events * arguments.scale)))
            left = arguments.budget - (time.monotonic() - started)
            if left < 20:
                skipped.append(scenario.name)
                continue
            progress(f"fan-out scale: {scenario.name}: {scenario.events} events …")
            result = bench.run(replace(scenario, timeout_seconds=left))
            progress(f"  {result.usage.deliveries} deliveries in {result.seconds:.0f} s")
            rows.append(figures(result, memory_mb))

    metadata = run_metadata("bench.fanout_scale", argv)
    print(f"Dovecote fan-out scale: profile {PROFILE}, happy path, local stack")
    print(f"({metadata['date']}, commit {metadata['commit']})")
    print(f"Prices: bench/prices.py ({PRICES_AS_OF}); memory: infra/functions.py")
    print(
        table(
            [
                "fan-out",
                "deliveries",
                "AWS calls/delivery",
                "WRU/delivery",
                "RRU/delivery",
                "Lambda ms/delivery",
                "DynamoDB $/M",
                "SQS $/M",
                "Lambda $/M",
                "total $/M",
                "adj. $/M",
            ],
            [
                [
                    row["fanout"],
                    row["deliveries"],
                    row["calls_per_delivery"],
                    row["wru_per_delivery"],
                    row["rru_per_delivery"],
                    row["lambda_ms_per_delivery"],
                    row["usd_per_million_by_service"].get("DynamoDB", 0.0),
                    row["usd_per_million_by_service"].get("SQS", 0.0),
                    row["usd_per_million_by_service"].get("Lambda", 0.0),
                    row["usd_per_million"],
                    row["usd_per_million_adjusted"],
                ]
                for row in rows
            ],
        )
    )
    for row in rows:
        for note in row["notes"]:
            print(f"note: {row['scenario']}: {note}")
    for name in skipped:
        print(f"note: {name}: skipped (time budget)")
    found = targets(rows)
    print()
    for target in found:
        print(target.line())
    document = {
        "benchmark": "fanout_scale",
        **metadata,
        "profile": PROFILE,
        "prices_as_of": PRICES_AS_OF,
        "memory_mb": memory_mb,
        "tolerance": TOLERANCE,
        "rows": rows,
        "skipped": skipped,
    }
    return finish(arguments, found, document)


if __name__ == "__main__":
    sys.exit(main())
