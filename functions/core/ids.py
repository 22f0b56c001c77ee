"""Prefixed, time-sortable identifiers: `wh_…`, `evt_…`, `del_…`.

The body is a ULID-style 26-character Crockford base32 string: 48 bits of milliseconds
since the epoch, then 80 bits that are random, or derived from a seed for ids that must
come out the same every time (a delivery is one per event and endpoint).

An event's id may also be the platform's own (`order-42`, a UUID: EVENT_ID_PATTERN), so no
time is ever read out of an event id: a delivery id takes its time from the event's stored
publish time.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import datetime

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
APPLICATION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
"""An application's id: the platform's own identifier for its customer, or a generated `app_…`."""


EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
"""An event's id: Dovecote's `evt_…`, or one the platform chose (1-128 characters, e.g. a UUID, `order-42`)."""
MAX_EVENT_ID_CHARS = 128


RESERVED_EVENT_IDS = frozenset({"batch"})
"""Path segments of their own under /v1/events: `GET /v1/events/batch` could never read such an event."""


def is_event_id(value: str) -> bool:
    return bool(EVENT_ID_PATTERN.fullmatch(value)) and value not in RESERVED_EVENT_IDS


def is_application_id(value: str) -> bool:
    return bool(APPLICATION_ID_PATTERN.fullmatch(value)) and value not in {".", ".."}


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _compose(milliseconds: int, tail: int) -> str:
    return _encode((milliseconds << 80) | tail, 26)


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    milliseconds = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{prefix}_{_compose(milliseconds, secrets.randbits(80))}"


def derived_id(prefix: str, *, at: datetime, seed: str) -> str:
    """An id that sorts at the moment `at` and is the same for the same seed (and moment)."""
    milliseconds = int(at.timestamp() * 1000)
    tail = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
    return f"{prefix}_{_compose(milliseconds, tail)}"


def keyed_id(prefix: str, seed: str) -> str:
    """An id that is the same for the same seed, whenever it is made (it embeds no creation time)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}_{_compose(int.from_bytes(digest[10:16], 'big'), int.from_bytes(digest[:10], 'big'))}"


def id_milliseconds(identifier: str) -> int:
    """The creation time embedded in an id Dovecote made (`has_prefix`); never read it from an event id,
    which may be the platform's own."""
    body = identifier.rpartition("_")[2]
    value = 0
    for char in body[:10]:
        value = value * 32 + _ALPHABET.index(char)
    return value  # 10 chars hold 50 bits: two leading zero bits, then the 48-bit timestamp


def id_pattern(prefix: str) -> str:
    """The regular expression of an id of `prefix`, as the OpenAPI document states it."""
    return f"^{prefix}_[{_ALPHABET}]{{26}}$"


def has_prefix(identifier: str, prefix: str) -> bool:
    body = identifier.removeprefix(f"{prefix}_")
    return body != identifier and len(body) == 26 and all(c in _ALPHABET for c in body)
