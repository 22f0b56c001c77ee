"""AWS clients for the pipeline's handlers, built on first use (boto3 is imported then, not at import time)."""

# ruff: noqa: PLC0415 - imports are deferred to first use to keep the cold start small

from __future__ import annotations

from typing import Any

CLIENT_MAX_POOL_CONNECTIONS = 32
"""Above the handlers' thread pools, so concurrent deliveries never wait for a connection."""


def aws_clients(*services: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=3,
        read_timeout=10,
        max_pool_connections=CLIENT_MAX_POOL_CONNECTIONS,
    )
    session = boto3.session.Session()
    return {service: session.client(service, config=config) for service in services}  # type: ignore[call-overload]
