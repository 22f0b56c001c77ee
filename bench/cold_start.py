"""Cold start of each function against a boto3-only floor, and the size of the code asset.

The Lambda asset is built with the infra bundling code (infra/lambda_code.py) into a
temporary directory and zipped. Each figure is then the median, over fresh Python processes
(interleaved, so drift hits every row alike), of the time from the first import to the end
of the step, in a Lambda-like layout: `python -S` with only the asset, the packages the
python3.12 runtime provides and those of the Powertools layer on sys.path (not the dev venv):

- import: `import functions.<name>.handler` (what Lambda's INIT runs), against `import boto3`;
- + init: then what the first request builds (settings, profile, the boto3 clients the
  function creates), against importing boto3 and creating the same clients.

Also measured, as a reference and not a target: the libraries the design prescribes, with no
Dovecote code (Powertools' validating HTTP resolver; Powertools Logger/Metrics with pydantic).

Target: every function's import + init at most 1.3 x its floor; the zipped asset < 1 MiB.

    python -m bench.cold_start [--json PATH] [--runs 10]
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import os
import re
import shutil
import statistics
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from bench.report import Target, benchmark_arguments, finish, progress, run_child, run_metadata, table

PROFILE = "standard"
TARGET_RATIO = 1.3
ASSET_LIMIT_BYTES = 1024 * 1024
DEFAULT_RUNS = 10
MARKER = "BENCH_MS="
CHILD_TIMEOUT_SECONDS = 60

_CHILD = """
import time
_t0 = time.perf_counter()
{imports}
_t1 = time.perf_counter()
{init}
_t2 = time.perf_counter()
print("{marker}%.3f %.3f" % ((_t1 - _t0) * 1000, (_t2 - _t1) * 1000))
"""


@dataclass(frozen=True)
class Subject:
    name: str
    imports: str
    init: str
    floor: str
    """The floor this subject is compared with (a key of FLOORS)."""


FLOORS = {
    "dynamodb": Subject("boto3 + dynamodb", "import boto3", 'boto3.session.Session().client("dynamodb")', ""),
    "dynamodb+sqs": Subject(
        "boto3 + dynamodb, sqs",
        "import boto3",
        '_s = boto3.session.Session(); _s.client("dynamodb"); _s.client("sqs")',
        "",
    ),
    "dynamodb+stepfunctions": Subject(
        "boto3 + dynamodb, stepfunctions",
        "import boto3",
        '_s = boto3.session.Session(); _s.client("dynamodb"); _s.client("stepfunctions")',
        "",
    ),
}
HANDLERS = (
    Subject("authorizer", "import functions.authorizer.handler as h", "h._api_keys()", "dynamodb"),
    Subject(
        "management",
        "import functions.management.handler as h",
        "from functions.management.dependencies import dependencies; dependencies()",
        "dynamodb",
    ),
    Subject(
        "ingest",
        "import functions.ingest.handler as h",
        "from functions.ingest.dependencies import dependencies; dependencies()",
        "dynamodb+sqs",
    ),
    Subject("fanout", "import functions.fanout.handler as h", "h.dependencies()", "dynamodb+sqs"),
    Subject("deliver", "import functions.deliver.handler as h", "h.dependencies()", "dynamodb+stepfunctions"),
)

REFERENCES = (
    Subject(
        "Powertools HTTP resolver, validating",
        "import boto3\nfrom aws_lambda_powertools import Logger\n"
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver",
        'boto3.session.Session().client("dynamodb"); Logger(service="ref"); '
        "APIGatewayHttpResolver(enable_validation=True)",
        "dynamodb",
    ),
    Subject(
        "Powertools Logger/Metrics + pydantic",
        "import boto3\nfrom aws_lambda_powertools import Logger, Metrics\nimport pydantic",
        '_s = boto3.session.Session(); _s.client("dynamodb"); _s.client("sqs"); Logger(service="ref"); '
        'Metrics(namespace="ref"); pydantic.create_model("Ref", id=(str, ...)).model_validate({"id": "x"})',
        "dynamodb+sqs",
    ),
)
"""No Dovecote code: what the libraries the design prescribes (Powertools routing with
validation; pydantic records) cost on their own against the same floors. Shown, not targets."""

FUNCTION_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "DOVECOTE_TABLE_NAME": "dovecote-bench",
    "DOVECOTE_EVENTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-events",
    "DOVECOTE_DELIVERIES_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-deliveries",
    "DOVECOTE_RETRY_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Dovecote",
    "LOG_LEVEL": "INFO",
}


# The asset and a Lambda-like sys.path


def build_asset(directory: Path) -> Path:
    """The functions asset as infra/lambda_code.py bundles it (for the standard profile)."""
    from functions.core.profile import load_profile  # noqa: PLC0415
    from infra.lambda_code import EXTRA_REQUIREMENTS, bundle_functions_package  # noqa: PLC0415

    asset = directory / "asset"
    asset.mkdir()
    bundle_functions_package(asset, load_profile(PROFILE), EXTRA_REQUIREMENTS)
    return asset


def zip_directory(source: Path, archive: Path) -> tuple[int, int, int]:
    """(files, bytes before, bytes zipped), deflate at the highest level."""
    files = raw = 0
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zipped:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(source))
                files += 1
                raw += path.stat().st_size
    return files, raw, archive.stat().st_size


def _distribution_paths(top_level: str) -> list[Path]:
    """The installed files of a top-level module or package, and its distribution's metadata."""
    spec = importlib.util.find_spec(top_level)
    if spec is None or spec.origin is None:
        return []
    origin = Path(spec.origin)
    paths = [origin.parent if spec.submodule_search_locations else origin]
    for name in metadata.packages_distributions().get(top_level, []):
        located = getattr(metadata.distribution(name), "_path", None)
        if located is not None:
            paths.append(Path(str(located)))
    return paths


def _requirements_closure(top_levels: set[str]) -> set[str]:
    """`top_levels` and the top-level names of their installed, unconditional requirements."""
    by_distribution: dict[str, list[str]] = {}
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            by_distribution.setdefault(_normalized(distribution), []).append(module)
    found, pending = set(top_levels), list(top_levels)
    while pending:
        module = pending.pop()
        for distribution in metadata.packages_distributions().get(module, []):
            for requirement in metadata.distribution(distribution).requires or []:
                if "extra ==" in requirement:
                    continue
                name = _normalized(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
                for dependency in by_distribution.get(name, []):
                    if dependency not in found and not dependency.startswith("_"):
                        found.add(dependency)
                        pending.append(dependency)
    return found


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lambda_site(directory: Path) -> tuple[Path, Path]:
    """Directories with links to what the runtime (boto3 …) and the Powertools layer provide."""
    from infra.lambda_code import LAYER_PROVIDED_PACKAGES, RUNTIME_PROVIDED_PACKAGES  # noqa: PLC0415

    runtime, layer = directory / "runtime", directory / "layer"
    for target, names in ((runtime, set(RUNTIME_PROVIDED_PACKAGES)), (layer, set(LAYER_PROVIDED_PACKAGES))):
        target.mkdir()
        for name in sorted(_requirements_closure(names)):
            for path in _distribution_paths(name):
                link = target / path.name
                if not link.exists():
                    link.symlink_to(path, target_is_directory=path.is_dir())
    return runtime, layer


# Timing


def _run_in_lambda_layout(options: list[str], code: str, directory: Path, python_path: str) -> CompletedProcess[str]:
    """A fresh interpreter that sees only the asset, the runtime's and the layer's packages."""
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": python_path, **FUNCTION_ENVIRONMENT}
    return run_child([sys.executable, "-S", *options, "-c", code], directory, CHILD_TIMEOUT_SECONDS, environment)


def time_once(subject: Subject, directory: Path, python_path: str) -> tuple[float, float]:
    code = _CHILD.format(imports=subject.imports, init=subject.init, marker=MARKER)
    completed = _run_in_lambda_layout([], code, directory, python_path)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(MARKER)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{subject.name} failed in a Lambda-like layout:\n{completed.stderr.strip()[-2000:]}")
    import_ms, init_ms = (float(value) for value in lines[-1].removeprefix(MARKER).split())
    return import_ms, init_ms


def import_self_times(subject: Subject, directory: Path, python_path: str, runs: int = 3) -> dict[str, float]:
    """Mean self time (ms) of the modules `subject` imports, by top-level package (`functions.<x>` kept apart)."""
    code = f"{subject.imports}\n{subject.init}"
    totals: dict[str, float] = {}
    for _ in range(runs):
        completed = _run_in_lambda_layout(["-X", "importtime"], code, directory, python_path)
        for line in completed.stderr.splitlines():
            if not line.startswith("import time:") or line.count("|") != 2:
                continue
            self_us, _, name = line.removeprefix("import time:").split("|")
            if not self_us.strip().isdigit():
                continue
            parts = name.strip().split(".")
            package = ".".join(parts[:2]) if parts[0] == "functions" else parts[0]
            totals[package] = totals.get(package, 0.0) + int(self_us) / 1000 / runs
    return totals


def excess_imports(mine: dict[str, float], floor: dict[str, float], count: int = 5) -> list[tuple[str, float]]:
    """The packages that cost `mine` the most time beyond `floor`."""
    excess = {name: ms - floor.get(name, 0.0) for name, ms in mine.items()}
    return sorted(((n, ms) for n, ms in excess.items() if ms > 1.0), key=lambda item: -item[1])[:count]


def measure(runs: int, directory: Path, python_path: str) -> dict[str, dict[str, float]]:
    subjects = [*HANDLERS, *REFERENCES, *FLOORS.values()]
    samples: dict[str, list[tuple[float, float]]] = {s.name: [] for s in subjects}
    for round_number in range(runs):
        order = subjects if round_number % 2 == 0 else list(reversed(subjects))
        for subject in order:
            samples[subject.name].append(time_once(subject, directory, python_path))
    return {
        name: {
            "import_ms": statistics.median(i for i, _ in values),
            "total_ms": statistics.median(i + n for i, n in values),
        }
        for name, values in samples.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="fresh processes per row (at least 10)")
    arguments = parser.parse_args(argv)
    runs = max(DEFAULT_RUNS, arguments.runs)

    directory = Path(tempfile.mkdtemp(prefix="dovecote-cold-start-"))
    try:
        progress("cold start: bundling the asset with infra/lambda_code.py …")
        asset = build_asset(directory)
        files, raw_bytes, zipped_bytes = zip_directory(asset, directory / "asset.zip")
        runtime, layer = lambda_site(directory)
        python_path = os.pathsep.join(str(p) for p in (asset, runtime, layer))
        progress(f"cold start: {runs} fresh processes per row …")
        figures = measure(runs, directory, python_path)
        progress("cold start: import breakdown (python -X importtime) …")
        breakdown = {s.name: import_self_times(s, directory, python_path) for s in (*HANDLERS, *FLOORS.values())}
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    metadata_ = run_metadata("bench.cold_start", argv)
    rows = []
    found: list[Target] = []
    boto3_import = statistics.median(figures[f.name]["import_ms"] for f in FLOORS.values())
    for subject in HANDLERS:
        floor = FLOORS[subject.floor]
        mine, base = figures[subject.name], figures[floor.name]
        ratio = mine["total_ms"] / base["total_ms"]
        rows.append(
            [
                subject.name,
                mine["import_ms"],
                mine["import_ms"] / boto3_import,
                mine["total_ms"],
                floor.name,
                base["total_ms"],
                ratio,
            ]
        )
        found.append(Target(f"{subject.name} import + init vs its boto3 floor", ratio, TARGET_RATIO, "x"))
    found.append(Target("zipped Lambda asset", zipped_bytes / 1024, ASSET_LIMIT_BYTES / 1024, " KiB"))

    print(
        f"Dovecote cold start: median of {runs} fresh processes, Lambda-like sys.path (Python {sys.version.split()[0]})"
    )
    print(f"({metadata_['date']}, commit {metadata_['commit']}; python3.12 runtime + Powertools layer packages, -S)")
    print(
        table(
            ["function", "import ms", "vs import boto3", "import + init ms", "floor", "floor ms", "ratio"],
            rows,
        )
    )
    print(f"import boto3 alone: {boto3_import:.1f} ms (median of the floors' imports)")
    references = []
    for subject in REFERENCES:
        floor = FLOORS[subject.floor]
        references.append(
            [
                subject.name,
                figures[subject.name]["total_ms"],
                floor.name,
                figures[subject.name]["total_ms"] / figures[floor.name]["total_ms"],
            ]
        )
    print("the prescribed libraries alone, no Dovecote code (not targets):")
    print(table(["reference", "import + init ms", "floor", "ratio"], references))
    print("where the time beyond the floor goes (module self time by package, -X importtime, ms):")
    excess: dict[str, list[tuple[str, float]]] = {}
    for subject in HANDLERS:
        excess[subject.name] = excess_imports(breakdown[subject.name], breakdown[FLOORS[subject.floor].name])
        print(f"  {subject.name:10}  " + ", ".join(f"{name} {ms:.0f}" for name, ms in excess[subject.name]))
    print(
        f"asset (functions package + profile, Powertools layer excluded): {files} files, "
        f"{raw_bytes / 1024:.0f} KiB, zipped {zipped_bytes / 1024:.0f} KiB"
    )
    print()
    for target in found:
        print(target.line())
    document: dict[str, Any] = {
        "benchmark": "cold_start",
        **metadata_,
        "runs": runs,
        "figures_ms": figures,
        "import_excess_ms": excess,
        "references": {row[0]: {"total_ms": row[1], "floor": row[2], "ratio": row[3]} for row in references},
        "asset": {"files": files, "bytes": raw_bytes, "zipped_bytes": zipped_bytes},
    }
    return finish(arguments, found, document)


if __name__ == "__main__":
    sys.exit(main())
