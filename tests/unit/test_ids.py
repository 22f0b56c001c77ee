"""Prefixed, time-sortable ids (functions/core/ids.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.core.ids import derived_id, has_prefix, id_milliseconds, is_event_id, new_id

MAX_MILLISECONDS = 2**48 - 1


def test_a_new_id_has_its_prefix_and_26_crockford_characters():
    identifier = new_id("wh")

    assert identifier.startswith("wh_")
    assert len(identifier) == len("wh_") + 26
    assert has_prefix(identifier, "wh")


@given(st.integers(0, MAX_MILLISECONDS))
def test_an_id_carries_its_millisecond_timestamp(milliseconds: int):
    assert id_milliseconds(new_id("evt", now_ms=milliseconds)) == milliseconds


@given(st.integers(0, MAX_MILLISECONDS - 1), st.integers(1, 10**9))
def test_ids_sort_by_time(earlier: int, gap: int):
    later = min(earlier + gap, MAX_MILLISECONDS)

    assert new_id("del", now_ms=earlier) < new_id("del", now_ms=later)


def test_ids_made_in_the_same_millisecond_differ():
    assert len({new_id("evt", now_ms=1_700_000_000_000) for _ in range(1000)}) == 1000


@pytest.mark.parametrize("event_id", ["order-42", "evt_00000000000000000000000000", "evt_zzzzzzzzzzzzzzzzzzzzzzzzzz"])
def test_a_derived_id_is_the_same_for_the_same_seed_and_sorts_at_the_moment_given_not_the_seed(event_id: str):
    published_at = datetime(2026, 3, 4, 12, 0, 0, 123_000, tzinfo=UTC)

    first = derived_id("del", at=published_at, seed=f"{event_id}:wh_a")
    again = derived_id("del", at=published_at, seed=f"{event_id}:wh_a")
    other = derived_id("del", at=published_at, seed=f"{event_id}:wh_b")

    assert first == again != other
    assert id_milliseconds(first) == int(published_at.timestamp() * 1000)


@pytest.mark.parametrize(
    "event_id",
    ["order-42", "3f2b8c1e-7d4a-4b9e-9a0c-1d2e3f4a5b6c", "a", "acme:orders.created_2026", "x" * 128, "evt_0000"],
)
def test_an_event_id_may_be_the_platforms_own(event_id: str):
    assert is_event_id(event_id)


@pytest.mark.parametrize("event_id", ["", "x" * 129, "order 42", "order/42", "ordér", "a#b", "id\n"])
def test_an_event_id_is_1_to_128_characters_of_letters_digits_and_underscore_dot_colon_dash(event_id: str):
    assert not is_event_id(event_id)


@pytest.mark.parametrize(
    ("identifier", "prefix"),
    [
        ("wh_01jdq3xk5m8n2p4r6t8v0w2y4z", "del"),
        ("wh_01jdq3xk5m8n2p4r6t8v0w2y4", "wh"),
        ("wh_01jdq3xk5m8n2p4r6t8v0w2y4zz", "wh"),
        ("wh_01JDQ3XK5M8N2P4R6T8V0W2Y4Z", "wh"),
        ("wh_01jdq3xk5m8n2p4r6t8v0w2y4u", "wh"),
        ("wh01jdq3xk5m8n2p4r6t8v0w2y4z", "wh"),
        ("01jdq3xk5m8n2p4r6t8v0w2y4z", "wh"),
        ("", "wh"),
        ("wh_../../etc/passwd", "wh"),
    ],
)
def test_has_prefix_refuses_anything_but_a_well_formed_id_of_that_kind(identifier: str, prefix: str):
    assert not has_prefix(identifier, prefix)
