"""Printing the benchmarks' figures: compact tables, targets, run metadata, JSON files."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Target:
    """One target of the benchmarks' issue, and whether this run met it."""

    name: str
    value: float
    limit: float
    unit: str = ""
    comparison: str = "<="
    """`<=` (value at most limit), `>=` (at least limit) or `==`."""

    @property
    def passed(self) -> bool:
        if math.isnan(self.value):
            return False
        if self.comparison == "==":
            return self.value == self.limit
        if self.comparison == ">=":
            return self.value >= self.limit
        return self.value <= self.limit

    def line(self) -> str:
        verdict = "PASS" if self.passed else "MISS"
        limit = f"{self.comparison} {figure(self.limit)}{self.unit}"
        return f"{verdict}  {self.name}: {figure(self.value)}{self.unit} (target {limit})"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def figure(value: float) -> str:
    """A target's value: whole numbers without decimals, others with two."""
    if math.isnan(value):
        return "-"
    if value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, align_left: int = 1) -> str:
    """A plain-text table: the first `align_left` columns left-aligned, the others right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [
        max(len(str(h)), *(len(row[i]) for row in cells)) if cells else len(str(h)) for i, h in enumerate(headers)
    ]

    def render(row: Sequence[str]) -> str:
        return "  ".join(
            (value.ljust(widths[i]) if i < align_left else value.rjust(widths[i])) for i, value in enumerate(row)
        ).rstrip()

    lines = [render([str(h) for h in headers]), render(["-" * w for w in widths])]
    lines.extend(render(row) for row in cells)
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.3f}"
    return str(value)


def run_child(
    command: Sequence[str], cwd: Path, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`command` in a child process, bounded by `timeout`; its output captured as text, its exit status not checked."""
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def git_commit() -> str:
    try:
        completed = run_child(["git", "rev-parse", "--short", "HEAD"], REPO_ROOT, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    dirty = ""
    return (completed.stdout.strip() or "unknown") + dirty


def benchmark_arguments(
    description: str | None, *, json_output: bool = True, budget: float | None = None
) -> argparse.ArgumentParser:
    """A benchmark's command line: `--check`, `--json PATH` for its figures, `--budget SECONDS` for all of
    it when given a default; the caller adds its own."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    if json_output:
        parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    if budget is not None:
        parser.add_argument("--budget", type=float, default=budget, help=f"seconds for all of it (default {budget:g})")
    return parser


def run_metadata(module: str, argv: Sequence[str] | None) -> dict[str, Any]:
    """When, where and how a benchmark ran; `argv` as given to its `main` (None: this process's)."""
    arguments = sys.argv[1:] if argv is None else argv
    return {
        "command": " ".join(["python", "-m", module, *arguments]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write_json(path: str | None, document: dict[str, Any]) -> None:
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


def finish(arguments: argparse.Namespace, found: Sequence[Target], document: dict[str, Any]) -> int:
    """Write `document` and the targets to `--json`; the exit status: 1 when `--check` and a target was missed."""
    write_json(arguments.json, {**document, "targets": [target.to_json() for target in found]})
    return 1 if arguments.check and not all(target.passed for target in found) else 0


def progress(message: str) -> None:
    """Progress goes to stderr: stdout carries the figures."""
    print(message, file=sys.stderr, flush=True)
