"""Building the CDK app: feature flags from cdk.json, cdk-nag checks, the Dovecote stack.

`app.py` (the `cdk` entry point) and the tests build the app the same way, so what the
tests check is what `cdk synth` writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from functions.core.profile import Profile
from infra.stack import STACK_NAME, DovecoteStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

CONTEXT_PROFILE = "profile"
CONTEXT_DELETION_PROTECTION = "deletionProtection"
CONTEXT_ALARM_EMAIL = "alarmEmail"

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ContextError(ValueError):
    """A CDK context value (`-c name=value`) that cannot be used."""


def feature_flags() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    return {key: value for key, value in context.items() if key.startswith("@aws-cdk")}


def create_app(outdir: str | None = None) -> App:
    """An app with cdk.json's feature flags and the AwsSolutions checks as a validation plugin."""
    app = App(outdir=outdir, context=feature_flags())
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True))
    return app


def context_flag(app: App, name: str, *, default: bool) -> bool:
    value = app.node.try_get_context(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ContextError(f"context {name}={value!r} is not a boolean: use true or false")


def add_dovecote_stack(
    app: App,
    profile: Profile,
    *,
    stack_name: str = STACK_NAME,
    deletion_protection: bool = True,
    alarm_email: str | None = None,
) -> DovecoteStack:
    return DovecoteStack(
        app,
        stack_name,
        profile=profile,
        deletion_protection=deletion_protection,
        alarm_email=alarm_email,
    )


def synthesize_template(profile: Profile, *, deletion_protection: bool = True) -> dict[str, Any]:
    """The CloudFormation template `cdk synth` writes for `profile` (slow: starts jsii and bundles)."""
    app = create_app()
    stack = add_dovecote_stack(app, profile, deletion_protection=deletion_protection)
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template
