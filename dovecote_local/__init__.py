"""The local stack: `dovecote local` runs Dovecote on 127.0.0.1 against moto (no AWS, no Docker)."""

from __future__ import annotations

from dovecote_local.command import main
from dovecote_local.stack import LocalOptions, LocalStack

__all__ = ["LocalOptions", "LocalStack", "main"]
