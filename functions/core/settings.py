"""Runtime settings read from the environment the stack (or the local stack) sets.

Read when a handler first needs them, never at import time, so tests and the local
stack can set the environment first. The profile is loaded (and validated) only when
`settings.profile` is first read: the authorizer, and the management routes that do not
need the profile, never build it, and this module does not import pydantic.
"""

# ruff: noqa: PLC0415 - the profile (and with it pydantic) is imported on first use

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.core.profile import Profile

ENV_TABLE = "DOVECOTE_TABLE_NAME"
ENV_EVENTS_QUEUE = "DOVECOTE_EVENTS_QUEUE_URL"
ENV_DELIVERIES_QUEUE = "DOVECOTE_DELIVERIES_QUEUE_URL"
ENV_STATE_MACHINE = "DOVECOTE_RETRY_STATE_MACHINE_ARN"
ENV_PROFILE = "DOVECOTE_PROFILE"
ENV_ALLOW_HTTP_LOOPBACK = "DOVECOTE_ALLOW_HTTP_LOOPBACK"
ENV_TIME_SCALE = "DOVECOTE_TIME_SCALE"


def active_profile(named: str | None = None) -> Profile:
    """The profile named (by default by DOVECOTE_PROFILE), else the one bundled into the Lambda asset."""
    from functions.core.profile import BUNDLED_PROFILE_FILE, load_profile

    if named is None:
        named = os.environ.get(ENV_PROFILE, "")
    if named:
        return load_profile(named)
    bundled = Path(__file__).resolve().parent.parent / BUNDLED_PROFILE_FILE
    if bundled.is_file():
        return load_profile(bundled)
    return load_profile("standard")


@dataclass(frozen=True)
class Settings:
    table_name: str
    events_queue_url: str
    deliveries_queue_url: str
    retry_state_machine_arn: str
    load_profile: Callable[[], Profile] = field(default=active_profile, repr=False, compare=False)
    """Called once, when `profile` is first read."""
    allow_http_loopback: bool = False
    time_scale: float = 1.0
    """Local stack only: the factor Wait states and next_retry_at are multiplied by (0.01: an hour in 36 s)."""

    @functools.cached_property
    def profile(self) -> Profile:
        """The deployment's profile, loaded on first use (cached_property writes past the frozen dataclass)."""
        return self.load_profile()

    @classmethod
    def from_environment(cls) -> Settings:
        """Reads the environment now; the profile it names is loaded when first needed."""
        return cls(
            table_name=os.environ.get(ENV_TABLE, ""),
            events_queue_url=os.environ.get(ENV_EVENTS_QUEUE, ""),
            deliveries_queue_url=os.environ.get(ENV_DELIVERIES_QUEUE, ""),
            retry_state_machine_arn=os.environ.get(ENV_STATE_MACHINE, ""),
            load_profile=functools.partial(active_profile, os.environ.get(ENV_PROFILE, "")),
            allow_http_loopback=os.environ.get(ENV_ALLOW_HTTP_LOOPBACK, "") == "1",
            time_scale=float(os.environ.get(ENV_TIME_SCALE, "1") or 1),
        )
