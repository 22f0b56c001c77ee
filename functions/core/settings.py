"""Runtime settings read from the environment the stack (or the local stack) sets.

Read when a handler first needs them, never at import time, so tests and the local
stack can set the environment first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from functions.core.profile import BUNDLED_PROFILE_FILE, Profile, load_profile

ENV_TABLE = "DOVECOTE_TABLE_NAME"
ENV_EVENTS_QUEUE = "DOVECOTE_EVENTS_QUEUE_URL"
ENV_DELIVERIES_QUEUE = "DOVECOTE_DELIVERIES_QUEUE_URL"
ENV_STATE_MACHINE = "DOVECOTE_RETRY_STATE_MACHINE_ARN"
ENV_PROFILE = "DOVECOTE_PROFILE"
ENV_ALLOW_HTTP_LOOPBACK = "DOVECOTE_ALLOW_HTTP_LOOPBACK"
ENV_TIME_SCALE = "DOVECOTE_TIME_SCALE"


@dataclass(frozen=True)
class Settings:
    table_name: str
    events_queue_url: str
    deliveries_queue_url: str
    retry_state_machine_arn: str
    profile: Profile
    allow_http_loopback: bool = False
    time_scale: float = 1.0
    """Local stack only: the factor Wait states and next_retry_at are multiplied by (0.01: an hour in 36 s)."""

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            table_name=os.environ.get(ENV_TABLE, ""),
            events_queue_url=os.environ.get(ENV_EVENTS_QUEUE, ""),
            deliveries_queue_url=os.environ.get(ENV_DELIVERIES_QUEUE, ""),
            retry_state_machine_arn=os.environ.get(ENV_STATE_MACHINE, ""),
            profile=active_profile(),
            allow_http_loopback=os.environ.get(ENV_ALLOW_HTTP_LOOPBACK, "") == "1",
            time_scale=float(os.environ.get(ENV_TIME_SCALE, "1") or 1),
        )


def active_profile() -> Profile:
    """The profile bundled into the Lambda asset, or the one named by DOVECOTE_PROFILE."""
    named = os.environ.get(ENV_PROFILE)
    if named:
        return load_profile(named)
    bundled = Path(__file__).resolve().parent.parent / BUNDLED_PROFILE_FILE
    if bundled.is_file():
        return load_profile(bundled)
    return load_profile("standard")
