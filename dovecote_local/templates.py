"""The synthesized CloudFormation template the local stack builds from, cached under `.dovecote/`.

Synthesis starts jsii and takes 10-30 s, so templates are cached by a hash of the
profile and of every source file that shapes the stack. Several profiles are synthesized
in one child process (`python -m dovecote_local.templates NAME...`): jsii starts once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from functions.core.profile import load_profile, profile_json

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / ".dovecote" / "templates"
SYNTH_TIMEOUT_SECONDS = 600
QUIET_JSII = {
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
"""The environment of a process that synthesizes: no warnings from jsii about the Node version."""
_STACK_SOURCES = (
    "app.py",
    "cdk.json",
    "infra/**/*.py",
    "functions/core/*.py",
    "functions/pipeline/contract.py",  # the retry state machine's field names and paths
    "functions/store/table.py",
    "functions/portal/branding.py",
)


class TemplateError(RuntimeError):
    """No template could be synthesized or read; the message says why."""


def _profile_ref(name_or_path: str) -> str:
    """A shipped profile's name as is; a path made absolute (the synthesizer runs elsewhere)."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".json" or candidate.parent != Path("."):
        return str(candidate.resolve())
    return name_or_path


def cache_key(name_or_path: str) -> str:
    digest = hashlib.sha256(profile_json(load_profile(_profile_ref(name_or_path))).encode())
    for pattern in _STACK_SOURCES:
        for path in sorted(REPO_ROOT.glob(pattern)):
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    digest.update(metadata.version("aws-cdk-lib").encode())
    return digest.hexdigest()[:16]


def cached_template_path(name_or_path: str) -> Path:
    profile = load_profile(_profile_ref(name_or_path))
    return CACHE_DIR / f"{profile.name}-{cache_key(name_or_path)}.json"


def ensure_templates(profiles: list[str]) -> dict[str, Path]:
    """The cached template of each profile, synthesizing the missing ones in one child process."""
    if not (REPO_ROOT / "app.py").is_file():
        raise TemplateError(f"no CDK app at {REPO_ROOT}: pass --template PATH (a template `cdk synth` wrote)")
    paths = {profile: cached_template_path(profile) for profile in profiles}
    missing = [profile for profile, path in paths.items() if not path.is_file()]
    if missing:
        arguments = [f"{_profile_ref(profile)}={paths[profile]}" for profile in missing]
        environment = {**os.environ, **QUIET_JSII}
        try:
            completed = subprocess.run(  # noqa: S603 - this interpreter, this module
                [sys.executable, "-m", "dovecote_local.templates", *arguments],
                cwd=REPO_ROOT,
                env=environment,
                capture_output=True,
                text=True,
                timeout=SYNTH_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TemplateError(f"synthesis did not finish within {SYNTH_TIMEOUT_SECONDS} s") from None
        if completed.returncode != 0:
            raise TemplateError(f"synthesis failed:\n{completed.stderr.strip()[-4000:]}")
    return paths


def load_template(profile: str, template_path: Path | None = None) -> dict[str, Any]:
    path = template_path or ensure_templates([profile])[profile]
    try:
        template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TemplateError(f"cannot read template {path}: {error}") from None
    if not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return template


def _synthesize(arguments: list[str]) -> int:
    from infra.assembly import synthesize_template  # noqa: PLC0415 - starts jsii: only in the synthesizer

    for argument in arguments:
        profile, _, destination = argument.rpartition("=")
        template = synthesize_template(load_profile(profile), deletion_protection=False)
        path = Path(destination)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(template, indent=1), encoding="utf-8")
        partial.replace(path)
    return 0


if __name__ == "__main__":
    sys.exit(_synthesize(sys.argv[1:]))
