"""Fixtures of the reliability and security suite.

- The integration fixtures (`aws`, `call_api`, `dovecote_logs`, …) and the pipeline support
  (tests/integration/pipeline_support.py) are reused, not copied: the integration conftest
  fixtures are re-exported here.
- Every module of this folder runs behind a loopback-only network guard (no DNS lookups, no
  connection to anything but 127.0.0.0/8 and ::1), so fuzzed endpoint URLs can never make
  the in-process handlers reach another host.
- `local_stack` starts one in-process `LocalStack` per module (the handlers, the
  synthesized state machine and the HTTP API on 127.0.0.1, against moto), and restores
  the process environment afterwards so later tests in the same worker are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import (  # noqa: F401 - re-exported: these fixtures serve this folder too
    aws,
    call_api,
    dovecote_logs,
    http_event,
    lambda_context,
    use_profile,
)
from tests.reliability.reliability_support import LocalStackHarness, loopback_only_network


@pytest.fixture(scope="module", autouse=True)
def _loopback_only() -> Iterator[None]:
    with loopback_only_network():
        yield


@pytest.fixture(scope="module")
def local_stack(request: pytest.FixtureRequest, _loopback_only: None) -> Iterator[LocalStackHarness]:
    """An in-process local stack for this module; a module sets `LOCAL_STACK_OPTIONS` to change it."""
    options = getattr(request.module, "LOCAL_STACK_OPTIONS", {})
    with LocalStackHarness.running(**options) as harness:
        yield harness
