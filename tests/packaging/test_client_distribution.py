"""The client distribution (clients/python) installed alone in a fresh virtualenv.

A receiver installs only `dovecote`: the SDK, the CLI and `dovecote.verify` must work
without the server code (`functions`, `dovecote_local`), and `dovecote local` / `dovecote
admin` answer in one line that they are not part of this installation. pip resolves the
client's dependencies through this machine's package index configuration, as `make setup`
does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
import venv
from importlib.metadata import version
from pathlib import Path

import pytest

from dovecote._version import __version__

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("client-distribution")]

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT_DIR = REPO_ROOT / "clients" / "python"
INSTALL_TIMEOUT_SECONDS = 600

RECEIVER = """
import hashlib, hmac, json
from dovecote.verify import WebhookVerificationError, verify
from dovecote import Dovecote, NotFoundError

body = b'{"type":"task.complete","data":{}}'
secret = "whsec_0123456789abcdef"
signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
genuine = verify("miteos", body, {"X-Miteos-Signature": signature}, secret)
try:
    verify("miteos", body + b" ", {"X-Miteos-Signature": signature}, secret)
    forged = "accepted"
except WebhookVerificationError:
    forged = "rejected"
with Dovecote(api_key="dvk_test", base_url="http://127.0.0.1:9") as client:
    sdk = type(client).__name__
print(json.dumps({"genuine": genuine, "forged": forged, "sdk": sdk, "error": NotFoundError.__name__}))
"""


def _isolated_environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return environment


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=_isolated_environment(),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.fixture(scope="module")
def client_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding the client distribution and its dependencies, nothing of the repository besides."""
    root = tmp_path_factory.mktemp("client-only")
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    # A copy, so that the build's scratch files (build/, *.egg-info) stay out of the checkout.
    source = root / "client"
    shutil.copytree(CLIENT_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    installed = _run([str(python), "-m", "pip", "install", "--quiet", str(source)], cwd=root)
    assert installed.returncode == 0, installed.stderr[-4000:]
    return python


def _python(client_only: Path, code: str) -> subprocess.CompletedProcess[str]:
    # -I: no current directory, PYTHONPATH or user site on sys.path, so only what was installed counts.
    return _run([str(client_only), "-I", "-c", code], cwd=client_only.parent.parent)


def test_verify_and_the_sdk_work_from_the_client_distribution_alone(client_only: Path):
    finished = _python(client_only, RECEIVER)

    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout) == {
        "genuine": True,
        "forged": "rejected",
        "sdk": "Dovecote",
        "error": "NotFoundError",
    }


def test_no_server_module_is_importable(client_only: Path):
    code = (
        "import importlib.util, json; "
        "print(json.dumps({m: importlib.util.find_spec(m) is not None "
        "for m in ('dovecote', 'functions', 'dovecote_local', 'infra', 'boto3', 'aws_lambda_powertools')}))"
    )
    finished = _python(client_only, code)

    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout) == {
        "dovecote": True,
        "functions": False,
        "dovecote_local": False,
        "infra": False,
        "boto3": False,
        "aws_lambda_powertools": False,
    }


def test_verify_loads_neither_pydantic_nor_requests(client_only: Path):
    code = "import sys, dovecote.verify; print(sorted({'pydantic', 'requests'} & set(sys.modules)))"
    finished = _python(client_only, code)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "[]"


def test_the_installed_distribution_has_the_shipped_profiles_and_one_version(client_only: Path):
    code = (
        "import json; from importlib.metadata import version; import dovecote; "
        "from dovecote.profiles import shipped_profile_names; "
        "print(json.dumps([version('dovecote'), dovecote.__version__, shipped_profile_names()]))"
    )
    finished = _python(client_only, code)
    shipped = sorted(path.stem for path in (CLIENT_DIR / "dovecote" / "profiles").glob("*.json"))

    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout) == [__version__, __version__, shipped]


@pytest.mark.parametrize("command", [["local"], ["admin", "bootstrap"]])
def test_server_commands_answer_in_one_line_without_the_server(client_only: Path, command: list[str]):
    dovecote = client_only.parent / "dovecote"

    finished = _run([str(dovecote), *command], cwd=client_only.parent.parent)

    assert finished.returncode == 2
    assert finished.stdout == ""
    assert finished.stderr == f"error: `dovecote {command[0]}` is not available in this installation\n"


def test_the_client_declares_only_its_own_small_dependency_set():
    client = tomllib.loads((CLIENT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    server = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    assert client["name"] == "dovecote"
    assert sorted(requirement.split(">")[0] for requirement in client["dependencies"]) == ["pydantic", "requests"]
    assert server["name"] == "dovecote-server"
    assert any(requirement.startswith("dovecote>") for requirement in server["dependencies"])
    assert "scripts" not in server, "the `dovecote` command belongs to the client distribution"
    assert version("dovecote-server") == version("dovecote") == __version__
