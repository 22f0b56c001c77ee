"""Dovecote's AWS CDK app.

Modules without a CDK import (safe for the local stack, no jsii start-up):
`infra.routes` (ROUTES), `infra.handlers`, `infra.retry_definition`, `infra.template`.
"""
