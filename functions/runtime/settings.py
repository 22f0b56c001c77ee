"""Runtime settings read from the environment the stack (or the local stack) sets.

`REQUIRED_ENVIRONMENT` says which variables each function needs; the stack sets exactly
those (infra/functions.py builds each function's environment from it), and
`Settings.for_function` refuses to start without one, naming it (`SettingsError`), instead
of running with an empty table name. Read when a handler first builds its dependencies,
never at import time, so tests and the local stack can set the environment first.
The profile is loaded (and validated) only when `settings.profile` is first read: the
authorizer, and the management routes that do not need it, never build it, and this
module does not import pydantic.
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
ENV_DESTINATION_ROLES = "DOVECOTE_DESTINATION_ROLES"
"""The IAM role ARN pattern AWS destinations' roles must match (the deliver function's sts:AssumeRole scope)."""

REQUIRED_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "authorizer": (ENV_TABLE,),
    "management": (ENV_TABLE, ENV_STATE_MACHINE, ENV_EVENTS_QUEUE),
    "ingest": (ENV_TABLE, ENV_EVENTS_QUEUE, ENV_DELIVERIES_QUEUE),
    "fanout": (ENV_TABLE, ENV_DELIVERIES_QUEUE),
    "deliver": (ENV_TABLE, ENV_STATE_MACHINE, ENV_EVENTS_QUEUE, ENV_DELIVERIES_QUEUE),
    "portal": (),  # its branding (functions/portal/branding.py) is optional: every setting has a default
}
"""The variables each function cannot run without (by function name, as in infra/handlers.py)."""


class SettingsError(RuntimeError):
    """The environment lacks what a function needs; the message names the variable."""


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
    destination_roles: str = ""
    """The role ARN pattern of AWS destinations; empty: functions/core/destinations.py's default."""

    @functools.cached_property
    def profile(self) -> Profile:
        """The deployment's profile, loaded on first use (cached_property writes past the frozen dataclass)."""
        return self.load_profile()

    @classmethod
    def for_function(cls, function_name: str) -> Settings:
        """The settings of one function, refused when a variable it needs is unset."""
        return cls.from_environment(required=REQUIRED_ENVIRONMENT[function_name], function_name=function_name)

    @classmethod
    def from_environment(cls, *, required: tuple[str, ...] = (), function_name: str = "this function") -> Settings:
        """Reads the environment now; the profile it names is loaded when first needed."""
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise SettingsError(f"{', '.join(missing)} must be set: {function_name} cannot run without it")
        time_scale_text = os.environ.get(ENV_TIME_SCALE, "") or "1"
        try:
            time_scale = float(time_scale_text)
        except ValueError:
            time_scale = 0.0
        if not time_scale > 0:
            raise SettingsError(f"{ENV_TIME_SCALE} must be a number greater than 0, not {time_scale_text!r}")
        return cls(
            table_name=os.environ.get(ENV_TABLE, ""),
            events_queue_url=os.environ.get(ENV_EVENTS_QUEUE, ""),
            deliveries_queue_url=os.environ.get(ENV_DELIVERIES_QUEUE, ""),
            retry_state_machine_arn=os.environ.get(ENV_STATE_MACHINE, ""),
            load_profile=functools.partial(active_profile, os.environ.get(ENV_PROFILE, "")),
            allow_http_loopback=os.environ.get(ENV_ALLOW_HTTP_LOOPBACK, "") == "1",
            time_scale=time_scale,
            destination_roles=os.environ.get(ENV_DESTINATION_ROLES, ""),
        )
