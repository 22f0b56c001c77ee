"""Property: subscription matching agrees with an independent oracle on dotted labels.

`*` matches everything; `a.b` matches only `a.b`; `a.*` matches every type with at least one
more label under `a` (never `a` itself, never `ab.c`). The oracle compares label lists, so a
string-prefix shortcut that let `agent.*` match `agentx.y` would be caught.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from functions.core.matching import is_valid_pattern, matches_any, pattern_matches

EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True)

labels = st.sampled_from(["a", "ab", "agent", "agent_x", "b", "x1", "0", "_"])
event_types = st.lists(labels, min_size=1, max_size=4).map(".".join)
patterns = st.one_of(st.just("*"), event_types, event_types.map(lambda prefix: prefix + ".*"))


def oracle(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    wanted, actual = pattern.split("."), event_type.split(".")
    if wanted[-1] == "*":
        prefix = wanted[:-1]
        return len(actual) > len(prefix) and actual[: len(prefix)] == prefix
    return wanted == actual


@EXAMPLES
@given(patterns, event_types)
def test_matching_agrees_with_the_label_oracle(pattern: str, event_type: str) -> None:
    assert is_valid_pattern(pattern)
    assert pattern_matches(pattern, event_type) is oracle(pattern, event_type)


@EXAMPLES
@given(st.lists(patterns, max_size=5), event_types)
def test_matches_any_is_the_or_of_its_patterns(subscribed: list[str], event_type: str) -> None:
    assert matches_any(subscribed, event_type) is any(oracle(p, event_type) for p in subscribed)


@EXAMPLES
@given(st.text(max_size=20))
@example("agent.status\n")  # `$` matches before a final newline: the pattern must use \Z / fullmatch
@example("agent.*\n")
@example("*\n")
def test_only_well_formed_patterns_are_valid(text: str) -> None:
    well_formed = text == "*" or (
        all(label and all(c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in label) for label in text.split("."))
        if not text.endswith(".*")
        else all(
            label and all(c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in label) for label in text[:-2].split(".")
        )
    )
    assert is_valid_pattern(text) is well_formed, text
