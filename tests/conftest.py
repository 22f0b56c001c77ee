"""What every tier shares: moto without its quadratic SQS receive (dovecote_local.moto_fixes)."""

from __future__ import annotations

import pytest

from dovecote_local.moto_fixes import apply_moto_fixes


def pytest_configure(config: pytest.Config) -> None:
    apply_moto_fixes()
