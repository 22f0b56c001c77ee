"""Run every benchmark (`make bench`) within a bounded total time, then summarize the targets.

Each benchmark runs in its own process (one local stack per process), writes its figures
as JSON, and prints its tables; the summary lists every target as PASS or MISS. Loopback
only; every benchmark has its own time budget inside the total.

    python -m bench.run_all [--json-dir DIR] [--budget 900] [--check]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import REPO_ROOT, Target, benchmark_arguments, progress, run_metadata, write_json
from dovecote_local.templates import QUIET_JSII

DEFAULT_BUDGET_SECONDS = 900
_STOP_GRACE_SECONDS = 10
ENVIRONMENT = {**QUIET_JSII, "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class Benchmark:
    module: str
    seconds: float
    """The time this benchmark may take (its own budget, if it takes one, is a little less)."""
    budget_flag: bool = False
    """Pass `--budget` (its scenarios stop starting once it is used up)."""
    reserve: float = 0.0
    """Seconds kept for the benchmarks after this one."""


BENCHMARKS = (
    Benchmark("bench.cold_start", 110),
    Benchmark("bench.batch_concurrency", 80),
    Benchmark("bench.local_throughput", 120),
    Benchmark("bench.cost_model", 400, budget_flag=True, reserve=340),
    Benchmark("bench.fanout_scale", 190, budget_flag=True),
    Benchmark("bench.rate_limit", 150, budget_flag=True),
)
_BUDGET_MARGIN_SECONDS = 60
"""What a benchmark with a budget needs beyond it: start-up, the last scenario's tail, printing."""


@dataclass
class Outcome:
    module: str
    status: str
    seconds: float
    output: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def targets(self) -> list[dict[str, Any]]:
        return list(self.figures.get("targets", []))


def run_one(benchmark: Benchmark, json_path: Path, seconds: float) -> Outcome:
    command = [sys.executable, "-m", benchmark.module, "--json", str(json_path)]
    if benchmark.budget_flag:
        command += ["--budget", f"{max(30.0, seconds - _BUDGET_MARGIN_SECONDS):.0f}"]
    progress(f"== {' '.join(command[2:4])} (at most {seconds:.0f} s)")
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, **ENVIRONMENT},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=seconds)
        status = "ok" if process.returncode == 0 else f"exit {process.returncode}"
    except subprocess.TimeoutExpired:
        _stop(process)
        output, _ = process.communicate()
        status = "timeout"
    elapsed = time.monotonic() - started
    figures: dict[str, Any] = {}
    if json_path.is_file():
        figures = json.loads(json_path.read_text(encoding="utf-8"))
    return Outcome(benchmark.module, status, elapsed, output or "", figures)


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the benchmark's process group (it may have started moto or a synthesizer)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(_STOP_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def summary(outcomes: list[Outcome], total_seconds: float) -> list[str]:
    lines = [f"Summary ({total_seconds:.0f} s in all)"]
    for outcome in outcomes:
        lines.append(f"{outcome.module}: {outcome.status}, {outcome.seconds:.0f} s")
        for target in outcome.targets:
            fields = ("name", "value", "limit", "unit", "comparison")
            lines.append("  " + Target(**{name: target[name] for name in fields if name in target}).line())
        if outcome.status != "ok" and not outcome.targets:
            lines.append("  (no figures)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_arguments(__doc__, json_output=False)
    parser.add_argument("--json-dir", metavar="DIR", help="keep every benchmark's JSON (and run_all.json) here")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_SECONDS, help="seconds for everything")
    arguments = parser.parse_args(argv)

    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="dovecote-bench-") as scratch:
        directory = Path(arguments.json_dir or scratch)
        directory.mkdir(parents=True, exist_ok=True)
        for benchmark in BENCHMARKS:
            left = arguments.budget - (time.monotonic() - started)
            seconds = min(benchmark.seconds, left - benchmark.reserve)
            if seconds < 30:
                outcomes.append(Outcome(benchmark.module, "skipped (total time budget)", 0.0))
                continue
            name = benchmark.module.removeprefix("bench.")
            outcome = run_one(benchmark, directory / f"{name}.json", seconds)
            print(outcome.output, end="" if outcome.output.endswith("\n") else "\n", flush=True)
            outcomes.append(outcome)
        total = time.monotonic() - started
        lines = summary(outcomes, total)
        print("\n".join(lines))
        if arguments.json_dir:
            write_json(
                str(directory / "run_all.json"),
                {
                    **run_metadata("bench.run_all", argv),
                    "seconds": total,
                    "benchmarks": [
                        {"module": o.module, "status": o.status, "seconds": o.seconds, "targets": o.targets}
                        for o in outcomes
                    ],
                },
            )
    crashed = any(o.status not in ("ok", "skipped (total time budget)") for o in outcomes)
    missed = any(not t["passed"] for o in outcomes for t in o.targets)
    if crashed:
        return 2
    return 1 if arguments.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
