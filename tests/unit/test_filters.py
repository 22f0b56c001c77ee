"""Payload filters: Outpost-style JSON filters over the envelope, and the path of each fault."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.core.filters import MAX_FILTER_DEPTH, FilterError, matches, validate_filter

ENVELOPE = {
    "id": "evt_1",
    "type": "order.created",
    "timestamp": "2026-12-02T10:00:00Z",
    "data": {"amount": 120, "currency": "EUR", "tags": ["vip"], "customer": {"email": "a@example.com"}, "test": False},
}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({}, True),
        ({"type": "order.created"}, True),
        ({"type": "order.refunded"}, False),
        ({"data": {"amount": {"$gte": 100}}}, True),
        ({"data": {"amount": {"$gte": 121}}}, False),
        ({"data": {"amount": {"$gt": 119, "$lt": 121}}}, True),
        ({"data": {"amount": {"$lte": 120.0}}}, True),
        ({"data": {"amount": {"$gt": "100"}}}, False),  # a number is not ordered against a string
        ({"data": {"currency": {"$in": ["EUR", "USD"]}}}, True),
        ({"data": {"currency": {"$nin": ["EUR", "USD"]}}}, False),
        ({"data": {"currency": {"$neq": "USD"}}}, True),
        ({"data": {"currency": {"$eq": "EUR"}}}, True),
        ({"data": {"currency": {"$startsWith": "E"}}}, True),
        ({"data": {"amount": {"$startsWith": "1"}}}, False),
        ({"data": {"customer": {"email": {"$exist": True}}}}, True),
        ({"data": {"customer": {"phone": {"$exist": False}}}}, True),
        ({"data": {"customer": {"phone": {"$exist": True}}}}, False),
        ({"data": {"customer": {"phone": {"$neq": "1"}}}}, True),  # absent is not equal
        ({"data": {"customer": {"phone": "1"}}}, False),
        ({"data": {"test": 0}}, False),  # false is not 0
        ({"data": {"tags": ["vip"]}}, True),
        ({"data": {"amount": 120.0}}, True),
        ({"$or": [{"type": "order.refunded"}, {"data": {"currency": "EUR"}}]}, True),
        ({"$or": [{"type": "order.refunded"}, {"data": {"currency": "USD"}}]}, False),
        ({"$and": [{"type": "order.created"}, {"data": {"amount": {"$gt": 100}}}]}, True),
        ({"$not": {"data": {"test": True}}}, True),
        ({"$not": {"data": {"test": False}}}, False),
        ({"type": "order.created", "data": {"currency": "USD"}}, False),  # every key must match
        ({"data": {"amount": {"missing": 1}}}, False),  # deeper than a number
    ],
)
def test_a_filter_lets_through_only_the_envelopes_it_describes(document: dict[str, Any], expected: bool) -> None:
    assert matches(validate_filter(document), ENVELOPE) is expected


def test_the_issues_example_lets_through_the_matching_half_of_twenty_events() -> None:
    document = validate_filter({"data": {"amount": {"$gte": 100}}})
    amounts = [10 * n for n in range(20)]  # 0 … 190: half of them 100 or more
    passed = [amount for amount in amounts if matches(document, {**ENVELOPE, "data": {"amount": amount}})]
    assert passed == list(range(100, 200, 10))


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ([], "filter"),
        ({"data": {"amount": {"$gtt": 1}}}, "filter.data.amount.$gtt"),
        ({"data": {"currency": {"$in": "EUR"}}}, "filter.data.currency.$in"),
        ({"data": {"amount": {"$gte": True}}}, "filter.data.amount.$gte"),
        ({"data": {"amount": {"$lt": [1]}}}, "filter.data.amount.$lt"),
        ({"data": {"email": {"$exist": "yes"}}}, "filter.data.email.$exist"),
        ({"data": {"email": {"$startsWith": 1}}}, "filter.data.email.$startsWith"),
        ({"$or": []}, "filter.$or"),
        ({"$or": [{"type": "a"}, "b"]}, "filter.$or"),
        ({"$and": [{"data": {"x": {"$nope": 1}}}]}, "filter.$and[0].data.x.$nope"),
        ({"$not": "x"}, "filter.$not"),
        ({"data": {"note": "x" * 5000}}, "filter"),
    ],
)
def test_an_invalid_filter_is_refused_naming_the_path_of_the_fault(document: Any, path: str) -> None:
    with pytest.raises(FilterError) as refused:
        validate_filter(document)
    assert refused.value.path == path
    assert str(refused.value).startswith(f"{path}: ")


def test_a_filter_nests_only_so_deep() -> None:
    document: dict[str, Any] = {"leaf": 1}
    for _ in range(MAX_FILTER_DEPTH):
        document = {"a": document}
    with pytest.raises(FilterError, match="nests at most"):
        validate_filter(document)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=10,
)


@given(value=json_values)
def test_an_empty_filter_passes_everything_and_not_of_it_nothing(value: Any) -> None:
    assert matches({}, value)
    assert not matches({"$not": {}}, value)


@given(value=json_values, operand=json_values)
def test_neq_is_the_negation_of_eq_and_nin_of_in(value: Any, operand: Any) -> None:
    envelope = {"data": {"field": value}}
    assert matches({"data": {"field": {"$neq": operand}}}, envelope) is not matches(
        {"data": {"field": {"$eq": operand}}}, envelope
    )
    assert matches({"data": {"field": {"$nin": [operand]}}}, envelope) is not matches(
        {"data": {"field": {"$in": [operand]}}}, envelope
    )
