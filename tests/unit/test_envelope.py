"""The delivered body: the profile's envelope, serialised exactly as JSON.stringify would."""

from __future__ import annotations

import json
import math
import random
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.core.envelope import (
    NotJsonError,
    compact_json,
    delivery_body,
    envelope_document,
    envelope_timestamp,
    javascript_unsafe_number,
    js_number,
    survives_javascript,
)
from functions.core.models import Event
from functions.core.profile import load_profile
from tests.unit.seed_examples import SEED_003_EXAMPLE_DATA

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")
CREATED_AT = datetime(2026, 3, 4, 12, 45, 0, 123456, tzinfo=UTC)


def event(data: Any = None, event_type: str = "task.completed") -> Event:
    return Event(
        id="evt_01jd2q8x4m7n3p5r9t1v6w8y0z",
        application_id="acme",
        type=event_type,
        data={"task_id": "task_8xK2mP"} if data is None else data,
        created_at=CREATED_AT,
    )


def run_node(script: str, stdin: str) -> str:
    assert NODE is not None
    completed = subprocess.run([NODE, "-e", script], input=stdin.encode(), capture_output=True, check=True, timeout=30)
    return completed.stdout.decode()


@pytest.mark.parametrize(
    ("profile", "expected_keys"),
    [
        ("standard", ["type", "timestamp", "data"]),
        ("delegated", ["event", "timestamp", "data"]),
        ("miteos", ["id", "type", "created_at", "data"]),
        ("mutx", ["id", "event", "timestamp", "data"]),
        ("meetloyd", ["id", "type", "timestamp", "data"]),
    ],
)
def test_envelope_uses_the_profiles_field_names_in_order(profile: str, expected_keys: list[str]) -> None:
    document = envelope_document(event(), load_profile(profile).envelope)
    assert list(document) == expected_keys


def test_envelope_carries_the_event_id_type_time_and_data() -> None:
    document = envelope_document(event({"a": 1}), load_profile("miteos").envelope)
    assert document == {
        "id": "evt_01jd2q8x4m7n3p5r9t1v6w8y0z",
        "type": "task.completed",
        "created_at": "2026-03-04T12:45:00Z",
        "data": {"a": 1},
    }


def test_timestamp_is_utc_iso8601_to_the_second_like_seed_003() -> None:
    assert envelope_timestamp(CREATED_AT) == "2026-03-04T12:45:00Z"


def test_body_is_compact_utf8_json_and_the_same_every_time() -> None:
    profile = load_profile("delegated")
    data = {"title": "Générer 5 créas ✨", "duration_seconds": 900.0, "ratio": 0.5}
    body = delivery_body(event(data), profile.envelope)
    assert body == delivery_body(event(data), profile.envelope)
    assert (
        body
        == (
            '{"event":"task.completed","timestamp":"2026-03-04T12:45:00Z",'
            '"data":{"title":"Générer 5 créas ✨","duration_seconds":900,"ratio":0.5}}'
        ).encode()
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (900.0, "900"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (1e16, "10000000000000000"),
        (2.0**60, "1152921504606847000"),
        (1e21, "1e+21"),
        (1.2e22, "1.2e+22"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (123456.789, "123456.789"),
    ],
)
def test_numbers_are_written_as_javascript_writes_them(value: float, text: str) -> None:
    assert js_number(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_javascript_number_text_reads_back_as_the_same_float(value: float) -> None:
    assert float(js_number(value)) == value


@given(st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1))
def test_integral_floats_within_2_pow_53_are_written_as_integers(value: int) -> None:
    assert js_number(float(value)) == str(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(NotJsonError):
        compact_json({"x": value})


def test_integer_like_keys_come_first_in_ascending_order_as_in_javascript() -> None:
    assert compact_json({"b": 1, "10": 2, "2": 3, "a": 4, "01": 5}) == '{"2":3,"10":2,"b":1,"a":4,"01":5}'


def test_strings_escape_only_what_json_stringify_escapes() -> None:
    text = 'quote" back\\ nl\n tab\t ctl\x01 del\x7f sep\u2028 é 😀 lone\ud800'
    assert compact_json(text) == '"quote\\" back\\\\ nl\\n tab\\t ctl\\u0001 del\x7f sep\u2028 é 😀 lone\\ud800"'
    assert compact_json(text).encode("utf-8")  # a lone surrogate is escaped, so the body is valid UTF-8


def test_seed_003_example_round_trips_through_a_python_json_parse_and_stringify() -> None:
    body = delivery_body(event(SEED_003_EXAMPLE_DATA), load_profile("delegated").envelope).decode()
    assert json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False) == body


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randrange(-(2**53) + 1, 2**53)
    if kind == 2:
        return struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
    if kind == 3:
        return rng.choice([0.1, 1.0, 1e-7, 1e21, 2.0**70, -0.0, 123.456, 1 / 3, 5e-324])
    if kind in (4, 5):
        alphabet = 'aé😀"\\\n\x01\x7f\u2028\ud800 /'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
    if kind in (6, 7):
        keys = [rng.choice(["a", "b", "0", "1", "10", "01", "-1", "é", "4294967295"]) for _ in range(rng.randrange(5))]
        return {key: _random_value(rng, depth + 1) for key in keys}
    return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return 0.5
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@needs_node
def test_javascript_reserialises_every_body_to_the_same_bytes() -> None:
    rng = random.Random(20260304)
    bodies = [compact_json({"data": _finite(_random_value(rng))}) for _ in range(400)]
    script = (
        "const bodies = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const bad = bodies.filter(b => JSON.stringify(JSON.parse(b)) !== b);"
        "process.stdout.write(JSON.stringify(bad));"
    )
    assert json.loads(run_node(script, json.dumps(bodies))) == []


INTEGERS = [
    0,
    -1,
    2**53 - 1,
    2**53,
    2**53 + 1,
    -(2**53) - 1,
    2**54,
    2**63 - 1,
    2**64,
    10**20,
    10**21,
    10**21 + 1,
    123456789012345678,
    10**308,
    10**309,
    -(10**20),
]


@needs_node
def test_an_integer_is_reported_unsafe_exactly_when_javascript_writes_it_back_differently() -> None:
    bodies = [compact_json({"data": {"n": value}}) for value in INTEGERS]
    script = (
        "const bodies = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(bodies.map(b => JSON.stringify(JSON.parse(b)) === b)));"
    )
    survives = json.loads(run_node(script, json.dumps(bodies)))

    assert [survives_javascript(value) for value in INTEGERS] == survives
    assert [javascript_unsafe_number({"n": value}) is None for value in INTEGERS] == survives


def test_the_unsafe_number_is_named_by_its_path_in_data() -> None:
    data = {"a": 1, "b": [1.5, {"c": True, "d": 2**60}], "e": 2**61}

    assert javascript_unsafe_number(data) == "data.b[1].d"
    assert javascript_unsafe_number({"ok": [1, 2.0, "9007199254740993", None, True]}) is None
