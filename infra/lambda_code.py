"""The one Lambda code asset shared by every function, bundled locally (no Docker).

The asset holds the `functions` package (handlers are `functions.<name>.handler.handler`),
the deploy's profile as `functions/active_profile.json`, and the standard-library modules of
the client package that the functions import (CLIENT_MODULES: the signature schemes, the
profiles' home, the version). Everything else the code imports comes from the Lambda runtime
or the Powertools layer; see LAYER_PROVIDED_PACKAGES.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from functions.core.profile import BUNDLED_PROFILE_FILE, Profile, profile_json

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_PACKAGE = REPO_ROOT / "functions"
CLIENT_PACKAGE = REPO_ROOT / "clients" / "python" / "dovecote"
CLIENT_MODULES = ("__init__.py", "_version.py", "_ed25519.py", "schemes.py", "profiles")
"""What the functions import from the client package; each needs only the standard library."""

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
PIP_PYTHON_VERSION = "3.12"

# The python3.12 runtime ships boto3, botocore, s3transfer, jmespath, dateutil and urllib3
# (deliveries are sent with urllib3). The AWS-managed Powertools v3 layer is built from
# `aws-lambda-powertools[all]`, which brings pydantic v2, pydantic-settings, aws-xray-sdk,
# fastjsonschema and typing_extensions. So the asset needs no third-party package; add a
# requirement here (pip-installed for arm64 / 3.12 into the asset) if handlers ever do.
EXTRA_REQUIREMENTS: tuple[str, ...] = ()

RUNTIME_PROVIDED_PACKAGES = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "awslambdaric"}
)
LAYER_PROVIDED_PACKAGES = frozenset(
    {
        "aws_lambda_powertools",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "annotated_types",
        "typing_extensions",
        "typing_inspection",
        "aws_xray_sdk",
        "fastjsonschema",
        "jsonpath_ng",
        "jwt",
    }
)

_EXCLUDED_NAMES = ("__pycache__", "*.pyc", "tests", BUNDLED_PROFILE_FILE, ".mypy_cache", ".pytest_cache")


@jsii.implements(ILocalBundling)
class LocalFunctionsBundler:
    """Copies the `functions` package and CLIENT_MODULES, writes the profile, and pip-installs EXTRA_REQUIREMENTS."""

    def __init__(self, profile: Profile, requirements: tuple[str, ...] = EXTRA_REQUIREMENTS) -> None:
        self._profile = profile
        self._requirements = requirements

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        bundle_functions_package(Path(output_dir), self._profile, self._requirements)
        return True


def bundle_functions_package(output_dir: Path, profile: Profile, requirements: tuple[str, ...] = ()) -> None:
    package_dir = output_dir / "functions"
    ignored = shutil.ignore_patterns(*_EXCLUDED_NAMES)
    shutil.copytree(FUNCTIONS_PACKAGE, package_dir, ignore=ignored)
    client_dir = output_dir / CLIENT_PACKAGE.name
    client_dir.mkdir()
    for name in CLIENT_MODULES:
        source = CLIENT_PACKAGE / name
        if source.is_dir():
            shutil.copytree(source, client_dir / name, ignore=ignored)
        else:
            shutil.copy2(source, client_dir / name)
    (package_dir / BUNDLED_PROFILE_FILE).write_text(profile_json(profile), encoding="utf-8")
    if requirements:
        subprocess.run(  # noqa: S603 - fixed pip arguments, requirements come from this module
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--platform",
                PIP_PLATFORM,
                "--only-binary=:all:",
                "--python-version",
                PIP_PYTHON_VERSION,
                "--implementation",
                "cp",
                "--target",
                str(output_dir),
                *requirements,
            ],
            check=True,
        )


def functions_code(profile: Profile) -> lambda_.Code:
    """The shared code asset; bind it to every function of one stack."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_PACKAGE),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            local=LocalFunctionsBundler(profile),
            # Part of the CDK's asset cache key: a different profile must not reuse a bundle.
            environment={"DOVECOTE_PROFILE_SHA256": hashlib.sha256(profile_json(profile).encode()).hexdigest()},
        ),
    )
