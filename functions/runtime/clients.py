"""boto3 clients for every handler: one configuration (timeouts, retries, pool size), built on first use.

boto3 is imported when the first client is built, not when this module is imported, so a
handler's import stays light. Every function's clients come from here, so no client ever
waits on botocore's 60-second defaults.
"""

# ruff: noqa: PLC0415 - boto3 is imported on first use to keep the cold start small

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from functions.core.constants import DELIVERIES_BATCH_SIZE

if TYPE_CHECKING:
    from botocore.config import Config

CLIENT_MAX_POOL_CONNECTIONS = DELIVERIES_BATCH_SIZE + 8
"""Above the handlers' thread pools (a deliver batch is attempted at once), so concurrent deliveries
never wait for a connection."""
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 3

_session_lock = threading.Lock()
_session: Any = None


def client_config() -> Config:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_pool_connections=CLIENT_MAX_POOL_CONNECTIONS,
    )


def aws_client(service: str, *, region: str | None = None, endpoint_url: str | None = None) -> Any:
    """A client for `service` (in this environment's region unless given), with Dovecote's configuration."""
    global _session  # noqa: PLW0603 - one boto3 session per process, built on first use
    with _session_lock:  # creating clients from one session is not thread-safe
        if _session is None:
            import boto3

            _session = boto3.session.Session()
        return _session.client(service, config=client_config(), region_name=region, endpoint_url=endpoint_url)


def aws_clients(*services: str) -> dict[str, Any]:
    return {service: aws_client(service) for service in services}
