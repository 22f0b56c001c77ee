"""Subscription patterns: exact types, `*`, and `prefix.*` families."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.core.matching import is_valid_pattern, matches_any, pattern_covers_catalog, pattern_matches

segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=8)
event_types = st.lists(segment, min_size=1, max_size=4).map(".".join)


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("task.completed", "task.completed", True),
        ("task.completed", "task.failed", False),
        ("task.completed", "task.completed.late", False),
        ("*", "anything.at.all", True),
        ("agent.*", "agent.status", True),
        ("agent.*", "agent.status.changed", True),
        ("agent.*", "agent", False),
        ("agent.*", "agents.status", False),
        ("agent.*", "deployment.created", False),
        ("deployment.*", "deployment.rolled_back", True),
    ],
)
def test_pattern_matches_exact_wildcard_and_prefix(pattern: str, event_type: str, expected: bool) -> None:
    assert pattern_matches(pattern, event_type) is expected


@given(event_types)
def test_star_matches_every_event_type(event_type: str) -> None:
    assert pattern_matches("*", event_type)


@given(event_types)
def test_a_type_matches_itself_exactly(event_type: str) -> None:
    assert pattern_matches(event_type, event_type)


@given(event_types, event_types)
def test_a_prefix_wildcard_matches_exactly_the_types_below_the_prefix(prefix: str, event_type: str) -> None:
    assert pattern_matches(f"{prefix}.*", event_type) is event_type.startswith(prefix + ".")
    assert pattern_matches(f"{prefix}.*", f"{prefix}.{event_type}")
    assert not pattern_matches(f"{prefix}.*", prefix)


@given(event_types, event_types)
def test_an_exact_pattern_matches_no_other_type(pattern: str, event_type: str) -> None:
    assert pattern_matches(pattern, event_type) is (pattern == event_type)


@given(st.lists(event_types, max_size=4), event_types)
def test_matches_any_is_true_when_one_pattern_matches(patterns: list[str], event_type: str) -> None:
    assert matches_any(patterns, event_type) is any(pattern_matches(p, event_type) for p in patterns)
    assert matches_any([*patterns, event_type], event_type)


@pytest.mark.parametrize("pattern", ["*", "task.completed", "agent.*", "a.b.*", "run"])
def test_valid_patterns(pattern: str) -> None:
    assert is_valid_pattern(pattern)


@pytest.mark.parametrize("pattern", ["", "**", "agent*", "*.status", "Agent.Status", "agent..x", "agent.", ".*"])
def test_invalid_patterns(pattern: str) -> None:
    assert not is_valid_pattern(pattern)


def test_pattern_covers_catalog_finds_typos() -> None:
    catalog = ["agent.started", "deployment.created"]
    assert pattern_covers_catalog("agent.*", catalog)
    assert not pattern_covers_catalog("agnet.*", catalog)
