"""HTTP transport: configuration, authentication, error mapping and retries."""

from __future__ import annotations

import email.utils
import logging
import os
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from time import sleep as _sleep
from typing import Any, TypedDict

import requests

from dovecote._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConfigurationError,
    DovecoteError,
    error_for_status,
)
from dovecote._version import __version__

logger = logging.getLogger("dovecote")

API_URL_ENV = "DOVECOTE_API_URL"
API_KEY_ENV = "DOVECOTE_API_KEY"
TIMEOUT_ENV = "DOVECOTE_TIMEOUT"

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_MAX = 8.0
MAX_RETRY_AFTER = 60.0
"""A Retry-After longer than this is not waited for: the error is raised instead."""

_FALLBACK_ERROR_TYPES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}


class ClientOptions(TypedDict, total=False):
    """What `Dovecote(...)` and `AsyncDovecote(...)` accept, each optional (see `Dovecote`)."""

    api_key: str | None
    base_url: str | None
    timeout: float | None
    max_retries: int
    backoff_base: float
    backoff_max: float


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    api_key: str
    timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
    ) -> ClientSettings:
        """Fill what the caller left out from the environment and validate the result."""
        url = (base_url or os.environ.get(API_URL_ENV, "")).strip()
        if not url:
            raise ConfigurationError(f"no API URL configured: set {API_URL_ENV} (or pass base_url / --api-url)")
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"API URL must start with http:// or https://, got {url!r}")
        key = (api_key or os.environ.get(API_KEY_ENV, "")).strip()
        if not key:
            raise ConfigurationError(f"no API key configured: set {API_KEY_ENV} (or pass api_key / --api-key)")
        if timeout is None:
            timeout = _timeout_from_env()
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be positive, got {timeout}")
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be zero or more, got {max_retries}")
        return cls(
            base_url=_api_root(url),
            api_key=key,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )


def _timeout_from_env() -> float:
    value = os.environ.get(TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(f"{TIMEOUT_ENV} must be a number of seconds, got {value!r}") from None


def _api_root(url: str) -> str:
    """Accept the URL with or without a trailing `/v1`; routes are appended with their `/v1`."""
    url = url.rstrip("/")
    return url.removesuffix("/v1")


class Transport:
    """Sends requests and retries the ones marked retryable.

    Each thread gets its own `requests.Session`, so `AsyncDovecote` can run calls
    concurrently in worker threads.
    """

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._thread_local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        retryable: bool,
    ) -> Any:
        """Send one API call and return its decoded JSON body.

        `retryable` says whether repeating the call is safe; only then are 429, 5xx and
        connection failures retried, up to `max_retries` times.
        """
        url = self.settings.base_url + path
        request_headers = {
            "Authorization": f"Bearer {self.settings.api_key}",
            "Accept": "application/json",
            "User-Agent": f"dovecote-python/{__version__}",
            "Dovecote-Dialect": "none",  # the /v1 answers this SDK parses, whatever the profile's API dialect
            **(headers or {}),
        }
        query = {name: value for name, value in (params or {}).items() if value is not None}
        retries_done = 0
        while True:
            retry_after: float | None = None
            try:
                response = self._session().request(
                    method,
                    url,
                    params=query,
                    json=json_body,
                    headers=request_headers,
                    timeout=self.settings.timeout,
                )
            except requests.Timeout:
                error: DovecoteError = APITimeoutError(
                    f"the Dovecote API at {self.settings.base_url} did not answer within {self.settings.timeout:g}s",
                    error_type="timeout",
                )
            except requests.RequestException as exc:
                error = APIConnectionError(
                    f"the Dovecote API at {self.settings.base_url} is not reachable ({_connection_failure(exc)})",
                    error_type="connection_error",
                )
            else:
                if response.status_code < 400:
                    return _decode(response)
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                error = _error_from_response(response, retry_after)

            delay = self._retry_delay(error, retries_done, retry_after) if retryable else None
            if delay is None:
                raise error
            logger.info("retrying %s %s in %.2fs after %r", method, path, delay, error)
            _sleep(delay)
            retries_done += 1

    def _retry_delay(self, error: DovecoteError, retries_done: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next try, or None when the error is final."""
        if retries_done >= self.settings.max_retries:
            return None
        transient = isinstance(error, APIError) or error.status == 429
        if not transient:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= MAX_RETRY_AFTER else None
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * 2**retries_done)
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._thread_local, "session", None)
        if session is None:
            session = requests.Session()
            with self._sessions_lock:
                self._sessions.append(session)
            self._thread_local.session = session
        return session

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._thread_local = threading.local()


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        raise APIError(
            f"the API answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
            error_type="invalid_response",
        ) from None


def _error_from_response(response: requests.Response, retry_after: float | None) -> DovecoteError:
    status = response.status_code
    error_type: str | None = None
    message: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("error")
        if isinstance(detail, dict):
            error_type = _text_or_none(detail.get("type"))
            message = _text_or_none(detail.get("message"))
        elif isinstance(body.get("message"), str):  # API Gateway's own answers: {"message": "Unauthorized"}
            message = body["message"]
    if error_type is None:
        error_type = _FALLBACK_ERROR_TYPES.get(status, "api_error" if status >= 500 else "http_error")
    if message is None:
        message = f"HTTP {status} {response.reason or ''}".strip()
    return error_for_status(status, error_type, message, retry_after=retry_after)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not header:
        return None
    header = header.strip()
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _connection_failure(exc: requests.RequestException) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "host not found"
    if "ssl" in text or "certificate" in text:
        return "TLS error"
    if "reset" in text or "aborted" in text:
        return "connection reset"
    return type(exc).__name__
