"""Payload filters: which events an endpoint receives beyond its event types.

A filter is a JSON object matched against the delivery's envelope (`id`, `type`,
`timestamp`, `data`), in Outpost's style: keys name fields, nested objects go deeper, a
plain value must be equal, and an object of operators tests the field:

    {"data": {"amount": {"$gte": 100}, "currency": {"$in": ["EUR", "USD"]}}}
    {"$or": [{"type": "order.refunded"}, {"data": {"priority": "high"}}]}
    {"data": {"customer": {"email": {"$exist": true}}}, "$not": {"data": {"test": true}}}

Operators: `$eq`, `$neq`, `$in`, `$nin` (a list of values), `$gt`, `$gte`, `$lt`, `$lte`
(numbers with numbers, strings with strings; anything else does not match), `$exist`
(true or false), `$startsWith` (a string), and `$and`, `$or` (lists of filters), `$not`
(a filter). Every key of an object must match. A field that is absent matches only
`{"$exist": false}` and `$neq`/`$nin`. Equality is JSON's: `true` is not `1`, `1` is `1.0`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

MAX_FILTER_BYTES = 4096
MAX_FILTER_DEPTH = 8


class FilterError(ValueError):
    """An invalid filter; `path` locates the fault (`filter.data.amount.$gte`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class _Missing:
    """An absent field."""


MISSING: Any = _Missing()


def _json_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, operand: Any) -> bool:
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (value, operand))
        strings = isinstance(value, str) and isinstance(operand, str)
        return (numbers or strings) and compare(value, operand)

    return test


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda value, operand: value is not MISSING and _json_equal(value, operand),
    "$neq": lambda value, operand: value is MISSING or not _json_equal(value, operand),
    "$in": lambda value, operand: value is not MISSING and any(_json_equal(value, item) for item in operand),
    "$nin": lambda value, operand: value is MISSING or not any(_json_equal(value, item) for item in operand),
    "$gt": _ordered(lambda value, operand: value > operand),
    "$gte": _ordered(lambda value, operand: value >= operand),
    "$lt": _ordered(lambda value, operand: value < operand),
    "$lte": _ordered(lambda value, operand: value <= operand),
    "$exist": lambda value, operand: (value is not MISSING) is operand,
    "$startsWith": lambda value, operand: isinstance(value, str) and value.startswith(operand),
}
_LOGICAL = ("$and", "$or", "$not")


def matches(filter_document: Mapping[str, Any], value: Any) -> bool:
    """Whether `value` (the envelope, or a field of it) passes the (validated) filter."""
    for key, operand in filter_document.items():
        if key == "$and":
            passed = all(matches(part, value) for part in operand)
        elif key == "$or":
            passed = any(matches(part, value) for part in operand)
        elif key == "$not":
            passed = not matches(operand, value)
        elif key in _COMPARISONS:
            passed = _COMPARISONS[key](value, operand)
        else:
            field = value.get(key, MISSING) if isinstance(value, dict) else MISSING
            passed = matches(operand, field) if isinstance(operand, dict) else _COMPARISONS["$eq"](field, operand)
        if not passed:
            return False
    return True


def validate_filter(filter_document: Any, path: str = "filter") -> dict[str, Any]:
    """The filter if it is valid; FilterError naming the faulty path otherwise."""
    if not isinstance(filter_document, dict):
        raise FilterError(path, "a filter is a JSON object")
    if len(json.dumps(filter_document, separators=(",", ":"))) > MAX_FILTER_BYTES:
        raise FilterError(path, f"a filter is at most {MAX_FILTER_BYTES} bytes of JSON")
    _check_object(filter_document, path, 1)
    return filter_document


def _check_object(document: dict[str, Any], path: str, depth: int) -> None:
    if depth > MAX_FILTER_DEPTH:
        raise FilterError(path, f"a filter nests at most {MAX_FILTER_DEPTH} objects deep")
    for key, operand in document.items():
        where = f"{path}.{key}"
        if key in ("$and", "$or"):
            if not isinstance(operand, list) or not operand or not all(isinstance(part, dict) for part in operand):
                raise FilterError(where, "takes a non-empty list of filters (objects)")
            for index, part in enumerate(operand):
                _check_object(part, f"{where}[{index}]", depth + 1)
        elif key == "$not":
            if not isinstance(operand, dict):
                raise FilterError(where, "takes a filter (an object)")
            _check_object(operand, where, depth + 1)
        elif key.startswith("$"):
            _check_operator(key, operand, where)
        elif isinstance(operand, dict):
            _check_object(operand, where, depth + 1)


def _check_operator(key: str, operand: Any, where: str) -> None:
    if key not in _COMPARISONS:
        known = ", ".join([*_COMPARISONS, *_LOGICAL])
        raise FilterError(where, f"unknown operator; use one of {known}")
    if key in ("$in", "$nin") and not isinstance(operand, list):
        raise FilterError(where, "takes a list of values")
    if key in ("$gt", "$gte", "$lt", "$lte") and (
        isinstance(operand, bool) or not isinstance(operand, int | float | str)
    ):
        raise FilterError(where, "takes a number or a string")
    if key == "$exist" and not isinstance(operand, bool):
        raise FilterError(where, "takes true or false")
    if key == "$startsWith" and not isinstance(operand, str):
        raise FilterError(where, "takes a string")
