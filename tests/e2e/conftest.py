"""End-to-end fixtures.

One `dovecote local` per shipped profile, all started once per session (in parallel, after
one synthesis of every missing template) and shared by the tests, which talk to them only
over HTTP: through the SDK and the `dovecote` CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import pytest

from tests.e2e.e2e_support import PROFILES, Receiver, StackPool


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackPool]:
    pool = StackPool(tmp_path_factory.mktemp("local-stacks"))
    try:
        pool.start(PROFILES)
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    with closing(Receiver()) as server:
        yield server
