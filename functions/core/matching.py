"""Subscription patterns: which event types an endpoint receives.

A pattern is `*` (every type), an exact dotted type (`task.completed`), or a dotted prefix
followed by `.*` (`agent.*`), which matches every type under that prefix at any depth
(`agent.status`, `agent.status.changed`) but not the prefix itself (`agent`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from functions.core.profile import EVENT_TYPE_PATTERN, MAX_EVENT_TYPE_CHARS

MATCH_ALL = "*"
_WILDCARD_SUFFIX = ".*"
_DOTTED = EVENT_TYPE_PATTERN.pattern
_PATTERN = re.compile(rf"\*|{_DOTTED}|{_DOTTED}\.\*")
SUBSCRIPTION_PATTERN = f"^({_PATTERN.pattern})$"
"""`is_valid_pattern` as the OpenAPI document states it (without the length limit)."""


def is_valid_pattern(pattern: str) -> bool:
    """`*`, an event type or `prefix.*`, no longer than an event type (so that a publishable type can match it)."""
    return len(pattern) <= MAX_EVENT_TYPE_CHARS and _PATTERN.fullmatch(pattern) is not None


def pattern_matches(pattern: str, event_type: str) -> bool:
    if pattern == MATCH_ALL:
        return True
    if pattern.endswith(_WILDCARD_SUFFIX):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    return any(pattern_matches(pattern, event_type) for pattern in patterns)


def pattern_covers_catalog(pattern: str, catalog: Iterable[str]) -> bool:
    """Whether `pattern` matches at least one type of the catalog (a pattern that matches none is a typo)."""
    return any(pattern_matches(pattern, name) for name in catalog)
