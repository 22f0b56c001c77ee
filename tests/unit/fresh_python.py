"""This repository's Python run afresh in a child process: for what only a new interpreter shows (what it
imports at start-up, what the installed command prints, what `app.py` does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_python(*arguments: str, environment: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`python ARGUMENTS` at the repository root with exactly `environment`: its exit status and text output
    (it may take two minutes at most)."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=REPO_ROOT,
        env=dict(environment),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


FUNCTION_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "DOVECOTE_TABLE_NAME": "dovecote-test",
    "DOVECOTE_EVENTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/events",
    "DOVECOTE_DELIVERIES_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/deliveries",
    "DOVECOTE_RETRY_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:retries",
}
"""What the Lambda functions' settings need, with fake credentials (nothing is called)."""


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported once it has run `code` as a Lambda function would."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    environment = {**os.environ, **FUNCTION_ENVIRONMENT, "PYTHONPATH": str(REPO_ROOT)}
    environment.pop("DOVECOTE_PROFILE", None)
    completed = run_python("-c", script, environment=environment)
    assert completed.returncode == 0, completed.stderr
    return set(json.loads(completed.stdout.splitlines()[-1]))
