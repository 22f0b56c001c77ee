"""The delivered body: the profile's envelope around the event, as JSON.stringify would write it.

Receivers written from seeds 003 and 004 sign `JSON.stringify(req.body)`, i.e. the body
parsed and serialised again by JavaScript. So the body Dovecote signs and sends is exactly
what JavaScript produces for it: `JSON.stringify(JSON.parse(body)) === body`. That means
no whitespace, non-ASCII characters as UTF-8 (not `\\u` escapes), numbers the way
`Number.prototype.toString` writes them (`1.0` is `1`, `1e-7` is `1e-7`, `1e16` is
`10000000000000000`), and object keys in JavaScript's property order (integer-like keys
first, ascending, then the rest as given). The one thing that cannot be written that
way is an integer JavaScript cannot hold (beyond ±2**53, or one it would print in exponent
form such as 10**21): a JavaScript receiver re-serialises it differently. Under a profile
whose envelope says `js_reserializable` (seeds 003 and 004), publishing refuses such a
number with a 422 naming its field (`javascript_unsafe_number`); under the others it is
sent exactly as given, for receivers that verify the raw body.

The body depends only on the stored event, so every attempt sends the same bytes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from functions.core.models import Event
from functions.core.profile import Envelope
from functions.core.timestamps import envelope_timestamp

_encode_string = json.encoder.encode_basestring  # C-accelerated; keeps non-ASCII as is (ensure_ascii=False)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ARRAY_INDEX = re.compile(r"^(0|[1-9][0-9]{0,9})$")
_MAX_ARRAY_INDEX = 2**32 - 2
_SAFE_INTEGER = 2**53


class NotJsonError(ValueError):
    """A value JSON cannot carry (NaN, Infinity, a non-string key, an unknown type)."""


def js_number(value: float) -> str:
    """`value` written as JavaScript's Number.prototype.toString writes it."""
    if math.isnan(value) or math.isinf(value):
        raise NotJsonError("numbers must be finite (NaN and Infinity are not JSON)")
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < _SAFE_INTEGER:
        return str(int(value))
    sign = "-" if value < 0 else ""
    mantissa, _, exponent_text = repr(abs(value)).partition("e")
    exponent = int(exponent_text) if exponent_text else 0
    whole, _, fraction = mantissa.partition(".")
    leading_zeros = len(fraction) - len(fraction.lstrip("0"))
    point = exponent - leading_zeros if whole == "0" else len(whole) + exponent
    digits = (whole + fraction).lstrip("0").rstrip("0")
    # JavaScript's rule, with value = 0.<digits> x 10**point and k significant digits.
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    exponent_part = f"e{'+' if power >= 0 else '-'}{abs(power)}"
    if k == 1:
        return sign + digits + exponent_part
    return sign + digits[0] + "." + digits[1:] + exponent_part


def survives_javascript(value: int) -> bool:
    """Whether JavaScript, parsing the integer `value`, writes it back with the same digits."""
    if abs(value) < _SAFE_INTEGER:
        return True
    try:
        return js_number(float(value)) == str(value)
    except OverflowError:
        return False


def javascript_unsafe_number(value: Any, path: str = "data") -> str | None:
    """The path (`data.items[2].amount`) of the first number in `value` that JavaScript would re-serialise
    differently, or None when `JSON.stringify(JSON.parse(compact_json(value)))` gives the same text."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return None
    if isinstance(value, int):
        return None if survives_javascript(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            found = javascript_unsafe_number(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            found = javascript_unsafe_number(item, f"{path}[{position}]")
            if found:
                return found
    return None


def _ordered_keys(document: dict[Any, Any]) -> list[Any]:
    index_keys = []
    other_keys = []
    for key in document:
        if not isinstance(key, str):
            raise NotJsonError(f"object keys must be strings, not {type(key).__name__}")
        if _ARRAY_INDEX.fullmatch(key) and int(key) <= _MAX_ARRAY_INDEX:
            index_keys.append(key)
        else:
            other_keys.append(key)
    if not index_keys:
        return other_keys
    return sorted(index_keys, key=int) + other_keys


def _write(value: Any, parts: list[str]) -> None:
    if isinstance(value, str):
        parts.append(_encode_string(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(str(value))
    elif isinstance(value, float):
        parts.append(js_number(value))
    elif isinstance(value, dict):
        parts.append("{")
        for position, key in enumerate(_ordered_keys(value)):
            if position:
                parts.append(",")
            parts.append(_encode_string(key))
            parts.append(":")
            _write(value[key], parts)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        for position, item in enumerate(value):
            if position:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    else:
        raise NotJsonError(f"{type(value).__name__} is not a JSON value")


def compact_json(value: Any) -> str:
    """`value` as JSON.stringify writes it (compact, UTF-8-ready, JavaScript number and key order)."""
    parts: list[str] = []
    _write(value, parts)
    text = "".join(parts)
    if _LONE_SURROGATE.search(text):  # only inside strings; escaped as JSON.stringify does
        text = _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text


def envelope_document(event: Event, envelope: Envelope) -> dict[str, Any]:
    fields: list[tuple[str | None, Any]] = [
        (envelope.id_field, event.id),
        (envelope.type_field, event.type),
        (envelope.timestamp_field, envelope_timestamp(event.created_at)),
        (envelope.data_field, event.data),
    ]
    return {name: value for name, value in fields if name is not None}


def delivery_body(event: Event, envelope: Envelope) -> bytes:
    return compact_json(envelope_document(event, envelope)).encode("utf-8")
