#!/usr/bin/env python3
"""CDK entry point.

npx cdk synth -c profile=standard            # a shipped profile by name
npx cdk synth -c profile=path/to/profile.json
npx cdk deploy -c deletionProtection=false   # a throw-away stack: the table can be deleted
npx cdk deploy -c alarmEmail=ops@example.com # subscribe an address to the alarm topic
npx cdk deploy -c portalName=Acme -c portalAccentColor=#0f766e -c portalFrameAncestors=https://app.acme.com
"""

from __future__ import annotations

import sys

from functions.core.profile import ProfileError, load_profile
from functions.portal.branding import PortalSettingsError
from infra.assembly import (
    CONTEXT_ALARM_EMAIL,
    CONTEXT_DELETION_PROTECTION,
    CONTEXT_PROFILE,
    ContextError,
    add_dovecote_stack,
    context_flag,
    create_app,
)


def main() -> int:
    app = create_app()
    try:
        profile = load_profile(str(app.node.try_get_context(CONTEXT_PROFILE) or "standard"))
        deletion_protection = context_flag(app, CONTEXT_DELETION_PROTECTION, default=True)
    except (ProfileError, ContextError) as error:
        print(f"dovecote: {error}", file=sys.stderr)
        return 1
    try:
        add_dovecote_stack(
            app,
            profile,
            deletion_protection=deletion_protection,
            alarm_email=app.node.try_get_context(CONTEXT_ALARM_EMAIL) or None,
        )
    except PortalSettingsError as error:
        print(f"dovecote: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
