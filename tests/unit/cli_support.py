"""Runs the CLI in-process and captures what it prints."""

from __future__ import annotations

import pytest

from dovecote.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err
