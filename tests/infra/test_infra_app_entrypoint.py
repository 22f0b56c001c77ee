"""`app.py` and `cdk synth`: profile and context handling, the asset they bundle."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from aws_cdk import App

from functions.core.profile import BUNDLED_PROFILE_FILE, load_profile, profile_json
from infra.assembly import ContextError, context_flag, create_app
from infra.lambda_code import (
    CLIENT_MODULES,
    CLIENT_PACKAGE,
    EXTRA_REQUIREMENTS,
    LAYER_PROVIDED_PACKAGES,
    RUNTIME_PROVIDED_PACKAGES,
)
from infra.retry_definition import retry_state_machine_definition
from infra.template import resources_of_type, retry_state_machine_definition_from_template
from tests.infra.infra_test_support import functions_by_name, retry_path_waits
from tests.unit.fresh_python import run_python

pytestmark = pytest.mark.xdist_group("infra")

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
MAX_ASSET_ZIP_BYTES = 512 * 1024


def _run_app(context: dict[str, object], outdir: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)}
    return run_python("app.py", environment=environment)


def _write_profile(tmp_path: Path, changes: dict[str, object], removed: tuple[str, ...] = ()) -> Path:
    document = json.loads(profile_json(load_profile("standard")))
    document.update(changes)
    for dotted in removed:
        *parents, leaf = dotted.split(".")
        target = document
        for parent in parents:
            target = target[parent]
        del target[leaf]
    path = tmp_path / "bad-profile.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "removed", "expected"),
    [
        ({"retry_schedule_seconds": [5, 60, 300]}, (), ["retry_schedule_seconds", "must be 0"]),
        ({}, ("headers.signature",), ["headers.signature", "Field required"]),
    ],
    ids=["first-delay-not-zero", "missing-signature-header"],
)
def test_bad_profile_fails_synthesis_naming_the_field(tmp_path, changes, removed, expected):
    profile_path = _write_profile(tmp_path, changes, removed)

    result = _run_app({"profile": str(profile_path)}, tmp_path / "cdk.out")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    (message,) = [line for line in result.stderr.splitlines() if line.startswith("dovecote: ")]
    assert str(profile_path) in message
    for fragment in expected:
        assert fragment in message
    assert not (tmp_path / "cdk.out" / "Dovecote.template.json").exists()


def test_unknown_profile_name_lists_the_shipped_ones(tmp_path):
    result = _run_app({"profile": "nonexistent"}, tmp_path / "cdk.out")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "unknown profile 'nonexistent'" in result.stderr
    assert "standard" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), (True, True), ("true", True), (False, False), ("false", False), ("0", False)],
)
def test_deletion_protection_context_defaults_on_and_parses_cli_strings(value, expected):
    app = create_app() if value is None else _app_with_context({"deletionProtection": value})

    assert context_flag(app, "deletionProtection", default=True) is expected


def test_deletion_protection_context_rejects_a_non_boolean():
    app = _app_with_context({"deletionProtection": "maybe"})

    with pytest.raises(ContextError, match="deletionProtection"):
        context_flag(app, "deletionProtection", default=True)


def _app_with_context(context: dict[str, object]) -> App:
    return App(context=context)


@pytest.mark.skipif(not CDK_CLI.exists(), reason="the pinned CDK CLI is not installed (npm ci)")
def test_cdk_cli_synth_writes_the_chosen_profile_and_context(tmp_path):
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [
            str(CDK_CLI),
            "synth",
            "--no-notices",
            "--quiet",
            "-o",
            str(outdir),
            "-c",
            "profile=miteos",
            "-c",
            "deletionProtection=false",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((outdir / "Dovecote.template.json").read_text())
    definition = retry_state_machine_definition_from_template(template, "arn:aws:lambda:::function:deliver")
    miteos = load_profile("miteos")
    assert len(retry_path_waits(definition)) == len(miteos.retry_delays_seconds)
    assert definition == retry_state_machine_definition(miteos, "arn:aws:lambda:::function:deliver")
    (table,) = resources_of_type(template, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["DeletionProtectionEnabled"] is False


# --- the Lambda code asset -----------------------------------------------------------------


def _asset_dir(synthesized) -> Path:
    functions = functions_by_name(synthesized.template)
    (code,) = {json.dumps(function["Properties"]["Code"]) for _, function in functions.values()}
    asset_hash = json.loads(code)["S3Key"].removesuffix(".zip")
    return synthesized.assembly_dir / f"asset.{asset_hash}"


def _relative_files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("profile_name", ["standard", "miteos"])
def test_asset_bundles_the_chosen_profile_as_the_active_profile(every_profile, profile_name):
    synthesized = every_profile[profile_name]

    bundled = (_asset_dir(synthesized) / "functions" / BUNDLED_PROFILE_FILE).read_text(encoding="utf-8")

    assert bundled == profile_json(synthesized.profile)
    assert load_profile(_asset_dir(synthesized) / "functions" / BUNDLED_PROFILE_FILE) == synthesized.profile


def _source_files(root: Path, prefix: str) -> set[str]:
    return {
        f"{prefix}/{name}"
        for name in _relative_files(root)
        if "__pycache__" not in name and not name.endswith(".pyc") and name != BUNDLED_PROFILE_FILE
    }


def test_asset_is_the_functions_package_and_the_client_modules_without_caches_or_tests(standard):
    asset = _asset_dir(standard)
    client = {
        name
        for module in CLIENT_MODULES
        for name in (
            _source_files(CLIENT_PACKAGE / module, f"dovecote/{module}")
            if (CLIENT_PACKAGE / module).is_dir()
            else {f"dovecote/{module}"}
        )
    }
    expected = _source_files(REPO_ROOT / "functions", "functions") | {f"functions/{BUNDLED_PROFILE_FILE}"} | client

    files = _relative_files(asset)

    assert not any("__pycache__" in name or name.endswith(".pyc") or "/tests/" in name for name in files)
    if not EXTRA_REQUIREMENTS:
        assert files == expected


def test_each_profile_gets_its_own_asset(every_profile):
    assert len({_asset_dir(synthesized).name for synthesized in every_profile.values()}) == len(every_profile)


def test_asset_zips_well_under_one_mebibyte(standard):
    asset = _asset_dir(standard)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(asset.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(asset))

    assert buffer.tell() < MAX_ASSET_ZIP_BYTES


def _imported_modules(source: str) -> set[str]:
    """Absolute imports executed at run time, by dotted name (imports under `if TYPE_CHECKING:` are skipped)."""
    modules: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return modules


def _imported_top_level_modules(source: str) -> set[str]:
    return {module.split(".")[0] for module in _imported_modules(source)}


def test_bundled_code_imports_only_what_the_runtime_and_layer_provide(standard):
    asset = _asset_dir(standard)
    bundled_packages = {path.name for path in asset.iterdir() if path.is_dir()}
    available = set(sys.stdlib_module_names) | RUNTIME_PROVIDED_PACKAGES | LAYER_PROVIDED_PACKAGES | bundled_packages

    missing = {
        f"{path.relative_to(asset)}: {module}"
        for path in asset.rglob("*.py")
        for module in _imported_top_level_modules(path.read_text(encoding="utf-8"))
        if module not in available
    }

    assert missing == set()


def test_every_client_module_the_bundled_code_imports_is_in_the_asset(standard):
    asset = _asset_dir(standard)
    imported = {
        module
        for path in asset.rglob("*.py")
        for module in _imported_modules(path.read_text(encoding="utf-8"))
        if module.split(".")[0] == "dovecote"
    }

    missing = {
        module
        for module in imported
        if not (asset / f"{module.replace('.', '/')}.py").is_file()
        and not (asset / module.replace(".", "/") / "__init__.py").is_file()
    }

    assert "dovecote.schemes" in imported
    assert missing == set()


def test_import_scan_sees_run_time_imports_and_skips_type_checking_ones():
    source = "import requests\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mypy_boto3_sqs\n"

    assert _imported_top_level_modules(source) == {"requests", "typing"}


def test_every_handler_imports_from_the_asset_alone(standard):
    """Each module the handlers import is in the asset (python -S: the editable installs are not seen)."""
    import sysconfig  # noqa: PLC0415

    from bench.cold_start import FUNCTION_ENVIRONMENT  # noqa: PLC0415
    from infra.handlers import FUNCTION_NAMES, PORTAL_HANDLER, handler_path  # noqa: PLC0415

    asset = _asset_dir(standard)
    modules = [path.rpartition(".")[0] for path in [*map(handler_path, FUNCTION_NAMES), PORTAL_HANDLER]]
    code = (
        "import importlib, dovecote, functions; "
        f"[importlib.import_module(name) for name in {modules!r}]; "
        "print(dovecote.__file__); print(functions.__file__)"
    )
    python_path = os.pathsep.join([str(asset), sysconfig.get_paths()["purelib"]])
    completed = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=asset,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": python_path, **FUNCTION_ENVIRONMENT},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert all(line.startswith(str(asset)) for line in completed.stdout.split()), completed.stdout
