"""Property: the delivered body is compact JSON that round-trips exactly.

For arbitrary JSON documents (unicode and lone surrogates in strings and keys, integers of any
size, every finite float, deep nesting) and every shipped envelope: the body parses back to
the event's data, re-serialises to the same bytes (what JSON.stringify(JSON.parse(body))
does in the seeds' receivers), carries no whitespace outside strings, writes numbers as
JavaScript does, and is the same bytes every time it is built.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dovecote.profiles import shipped_profile_names
from functions.core.envelope import compact_json, delivery_body, envelope_timestamp, js_number
from functions.core.models import Event
from functions.core.profile import load_profile

EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

texts = st.text(st.characters(blacklist_categories=()), max_size=24)  # surrogates included
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), finite_floats, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(texts, inner, max_size=5)),
    max_leaves=30,
)
objects = st.dictionaries(texts, json_values, max_size=6)


def _same(left: Any, right: Any) -> bool:
    """JSON equality as JavaScript sees it: numbers are doubles (JavaScript writes 6.2e16 as
    62000000000000000, which Python reads back as an int), and -0.0 is 0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        if isinstance(left, float) or isinstance(right, float):
            return float(left) == float(right)
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return bool(left == right)


def _outside_strings(text: str) -> str:
    """The JSON text with every string literal removed."""
    out, inside, escaped = [], False, False
    for char in text:
        if inside:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        elif char == '"':
            inside = True
        else:
            out.append(char)
    return "".join(out)


@EXAMPLES
@given(json_values)
def test_compact_json_parses_back_to_the_same_value(value: Any) -> None:
    assert _same(json.loads(compact_json(value)), value)


@EXAMPLES
@given(json_values)
def test_parsing_and_serialising_again_gives_the_same_text(value: Any) -> None:
    text = compact_json(value)
    assert compact_json(json.loads(text)) == text


@EXAMPLES
@given(json_values)
def test_there_is_no_whitespace_outside_strings_and_the_text_is_utf8(value: Any) -> None:
    text = compact_json(value)
    assert not any(char.isspace() for char in _outside_strings(text))
    text.encode("utf-8")  # lone surrogates are escaped, so the body always encodes


@EXAMPLES
@given(finite_floats)
def test_numbers_use_javascript_notation(value: float) -> None:
    text = js_number(value)
    assert float(text) == value
    magnitude = abs(value)
    if value == 0 or (value.is_integer() and magnitude < 2**53):
        assert text == str(int(value))
    elif 1e-6 <= magnitude < 1e21:
        assert "e" not in text, text
        assert not text.endswith(".0"), text
    else:
        assert "e" in text, text
    if "e" in text:
        mantissa, exponent = text.split("e")
        assert exponent[0] in "+-"
        assert not exponent[1:].startswith("0")
        assert 1 <= abs(float(mantissa)) < 10


@pytest.mark.parametrize("profile_name", shipped_profile_names())
@EXAMPLES
@given(
    data=objects,
    event_type=st.from_regex(r"\A[a-z0-9_]{1,8}(\.[a-z0-9_]{1,8}){0,3}\Z"),
    offset=st.integers(0, 10**9),
)
def test_every_envelope_carries_the_event_and_is_stable(
    profile_name: str, data: Any, event_type: str, offset: int
) -> None:
    envelope = load_profile(profile_name).envelope
    created_at = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=offset, microseconds=offset % 997)
    event = Event(
        id="evt_01jd2q8x4m7n3p5r9t1v6w8y0z", application_id="t", type=event_type, data=data, created_at=created_at
    )
    body = delivery_body(event, envelope)
    assert body == delivery_body(event.model_copy(), envelope)  # the same bytes every attempt
    document = json.loads(body)
    expected = {
        envelope.id_field: event.id,
        envelope.type_field: event_type,
        envelope.timestamp_field: envelope_timestamp(created_at),
        envelope.data_field: data,
    }
    expected.pop(None, None)
    assert list(document) == [name for name in (envelope.id_field, envelope.type_field,
                                                envelope.timestamp_field, envelope.data_field) if name]  # fmt: skip
    assert _same(document, expected)
    assert compact_json(json.loads(body)).encode() == body
    if envelope.timestamp_field:
        stamp = datetime.fromisoformat(document[envelope.timestamp_field].replace("Z", "+00:00"))
        assert stamp == created_at.replace(microsecond=0)
    assert not math.isnan(len(body))
