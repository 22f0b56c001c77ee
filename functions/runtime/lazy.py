"""A handler's process-wide dependencies, built on first use and replaceable by tests.

Built on the first invocation, not at import, so that the environment (and in tests the
moto endpoint) is in place first, and so that the cold start imports only what the handler
module needs. Thread-safe: the deliver function attempts a batch on several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class LazyDependencies(Generic[T]):
    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value

    def install(self, replacement: T) -> None:
        """Tests: use `replacement` instead of building from the environment."""
        self._value = replacement

    def reset(self, replacement: T | None = None) -> None:
        """Tests: forget the cached value, so the next `get` builds it again (or use `replacement`)."""
        self._value = replacement


class _BuiltOnFirstUse:
    """Stands in for what `build` returns, and builds it (once, thread-safely) when an attribute is first read."""

    def __init__(self, build: Callable[[], object]) -> None:
        self._built = LazyDependencies(build)

    def __getattr__(self, name: str) -> object:
        return getattr(self._built.get(), name)


def built_on_first_use(build: Callable[[], T]) -> T:
    """`build()`, deferred until the object is first used: for collaborators only some invocations need
    (operational events on failure paths, rate limits for limited endpoints), so that neither their
    modules nor their clients are part of every cold start. Pass methods as `lambda *a: proxy.method(*a)`:
    reading `proxy.method` builds the object."""
    return cast(T, _BuiltOnFirstUse(build))
