"""The consumer portal: its page, assets and session route (functions/portal/handler.py)."""

PORTAL_PATH = "/portal"
"""Where the stack serves the portal; a portal session's url opens it."""
