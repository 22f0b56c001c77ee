"""Clients that act as a customer's role: AssumeRole with the endpoint's ExternalId, cached.

`StsRoleAssumer` calls `sts:AssumeRole`; `CachedRoleAssumer` keeps each role's credentials
(per role and ExternalId) until shortly before they expire, so a warm deliver function calls
STS about once an hour per role, not once per delivery. `RoleClients` builds (and keeps) the
boto3 client of a service, in the target's region, signed with those credentials.

A failed AssumeRole raises botocore's `ClientError` (e.g. `AccessDenied` for a wrong
ExternalId or a role that does not trust Dovecote); the senders classify it. Credentials
never leave this module: nothing here logs them, and errors carry only AWS's code and message.
"""

# ruff: noqa: PLC0415 - boto3 is imported on first use to keep the cold start small

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from functions.runtime.clients import client_config

SESSION_SECONDS = 3600
REFRESH_BEFORE = timedelta(minutes=5)
"""Credentials this close to their expiry are renewed before use."""
SESSION_NAME = "dovecote-delivery"


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime


class RoleAssumer(Protocol):
    def credentials(self, role_arn: str, external_id: str) -> RoleCredentials: ...


class StsRoleAssumer:
    """Calls STS each time; wrap it in `CachedRoleAssumer`. The STS client is built (by `sts_client`)
    on first use, so a deliver function that only sends HTTPS never builds it."""

    def __init__(self, sts_client: Callable[[], Any]) -> None:
        self._build_client = sts_client
        self._sts: Any = None
        self._lock = threading.Lock()
        self.calls = 0

    def _client(self) -> Any:
        with self._lock:
            if self._sts is None:
                self._sts = self._build_client()
            return self._sts

    def credentials(self, role_arn: str, external_id: str) -> RoleCredentials:
        self.calls += 1
        response = self._client().assume_role(
            RoleArn=role_arn,
            RoleSessionName=SESSION_NAME,
            ExternalId=external_id,
            DurationSeconds=SESSION_SECONDS,
        )
        issued = response["Credentials"]
        expiration = issued["Expiration"]
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=UTC)
        return RoleCredentials(
            access_key_id=issued["AccessKeyId"],
            secret_access_key=issued["SecretAccessKey"],
            session_token=issued["SessionToken"],
            expiration=expiration,
        )


class CachedRoleAssumer:
    """One set of credentials per (role, ExternalId), reused until `REFRESH_BEFORE` their expiry.

    Failures are not cached: the next attempt asks STS again (a trust policy fixed by the
    customer works on the next retry)."""

    def __init__(self, inner: RoleAssumer, clock: Callable[[], datetime] | None = None) -> None:
        self._inner = inner
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cache: dict[tuple[str, str], RoleCredentials] = {}
        self._lock = threading.Lock()

    def credentials(self, role_arn: str, external_id: str) -> RoleCredentials:
        key = (role_arn, external_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached.expiration - REFRESH_BEFORE > self._clock():
            return cached
        fresh = self._inner.credentials(role_arn, external_id)
        with self._lock:
            self._cache[key] = fresh
        return fresh


class RoleClients:
    """boto3 clients signed as the customer's role, one per (service, region, credentials)."""

    def __init__(self, assumer: RoleAssumer, endpoint_url: str | None = None) -> None:
        self._assumer = assumer
        self._endpoint_url = endpoint_url
        """None: AWS's endpoints (or AWS_ENDPOINT_URL, which the local stack sets to moto)."""
        self._clients: dict[tuple[str, str, str, str], tuple[str, Any]] = {}
        """(service, region, role, ExternalId) → (the access key it signs with, the client)."""
        self._lock = threading.Lock()

    def client(self, service: str, region: str, role_arn: str, external_id: str) -> Any:
        """Raises botocore's ClientError when the role cannot be assumed."""
        credentials = self._assumer.credentials(role_arn, external_id)
        key = (service, region, role_arn, external_id)
        with self._lock:
            access_key_id, client = self._clients.get(key, ("", None))
            if client is None or access_key_id != credentials.access_key_id:  # new, or renewed credentials
                import boto3

                client = boto3.session.Session().client(  # type: ignore[call-overload]
                    service,
                    region_name=region,
                    endpoint_url=self._endpoint_url,
                    aws_access_key_id=credentials.access_key_id,
                    aws_secret_access_key=credentials.secret_access_key,
                    aws_session_token=credentials.session_token,
                    config=client_config(),
                )
                self._clients[key] = (credentials.access_key_id, client)
        return client
