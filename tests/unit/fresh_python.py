"""This repository's Python run afresh in a child process: for what only a new interpreter shows (what it
imports at start-up, what the installed command prints, what `app.py` does)."""

from __future__ import annotations

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
