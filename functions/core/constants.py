"""Values several layers must agree on, in one place.

The event-type vocabulary (EVENT_TYPE_PATTERN, MAX_EVENT_TYPE_CHARS) lives with the profile
(functions/core/profile.py), and every way a moment is written as text in
functions/core/timestamps.py.
"""

from __future__ import annotations

import re

VERSION = "0.1.0"
"""Dovecote's release: the OpenAPI document's `info.version` and the delivery User-Agent.
The client package keeps its own version; tests/unit/test_constants.py keeps pyproject.toml in step."""

MAX_IDEMPOTENCY_KEY_CHARS = 255
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x7e]+")
"""An `Idempotency-Key` header: printable ASCII without spaces (use with `fullmatch`)."""
