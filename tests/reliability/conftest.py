"""Fixtures of the reliability and security suite.

- The integration fixtures (`aws`, `call_api`, `dovecote_logs`, …) and the pipeline support
  (tests/integration/pipeline_support.py) are reused, not copied: the integration conftest
  is loaded under its own module name and its fixtures re-exported here.
- Every module of this folder runs behind a loopback-only network guard (no DNS lookups, no
  connection to anything but 127.0.0.0/8 and ::1), so fuzzed endpoint URLs can never make
  the in-process handlers reach another host.
- `local_stack` starts one in-process `LocalStack` per module (the handlers, the
  synthesized state machine and the HTTP API on 127.0.0.1, against moto), and restores
  the process environment afterwards so later tests in the same worker are unaffected.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_INTEGRATION = Path(__file__).resolve().parent.parent / "integration"


def _load_integration_conftest() -> object:
    spec = importlib.util.spec_from_file_location("dovecote_integration_conftest", _INTEGRATION / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_integration = _load_integration_conftest()

# pipeline_support does `from conftest import …`: when this folder runs alone, "conftest" is
# this module, so the names it needs are defined before it is imported.
TENANT = _integration.TENANT  # type: ignore[attr-defined]
OTHER_TENANT = _integration.OTHER_TENANT  # type: ignore[attr-defined]
ApiResponse = _integration.ApiResponse  # type: ignore[attr-defined]
AwsResources = _integration.AwsResources  # type: ignore[attr-defined]
CallApi = _integration.CallApi  # type: ignore[attr-defined]
FakeLambdaContext = _integration.FakeLambdaContext  # type: ignore[attr-defined]
reset_all_dependencies = _integration.reset_all_dependencies  # type: ignore[attr-defined]

aws = _integration.aws  # type: ignore[attr-defined]
call_api = _integration.call_api  # type: ignore[attr-defined]
http_event = _integration.http_event  # type: ignore[attr-defined]
lambda_context = _integration.lambda_context  # type: ignore[attr-defined]
dovecote_logs = _integration.dovecote_logs  # type: ignore[attr-defined]
use_profile = _integration.use_profile  # type: ignore[attr-defined]

if str(_INTEGRATION) not in sys.path:
    sys.path.append(str(_INTEGRATION))

from reliability_support import LocalStackHarness, loopback_only_network  # noqa: E402


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
