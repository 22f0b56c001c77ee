"""Exceptions raised by the SDK: one class per kind of failure a caller handles differently."""

from __future__ import annotations


class DovecoteError(Exception):
    """Base of every SDK error.

    `status` is the HTTP status (None when no response arrived), `error_type` the API's
    `error.type` (e.g. "not_found"), `message` its human-readable `error.message`.
    """

    def __init__(self, message: str, *, status: int | None = None, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message}" if self.error_type else self.message

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status!r}, error_type={self.error_type!r}, message={self.message!r})"


class ConfigurationError(DovecoteError, ValueError):
    """The client is missing its base URL or API key, or was given an unusable value."""


class AuthenticationError(DovecoteError):
    """401 (and 403, see PermissionDeniedError): the API key is missing, wrong, revoked or not allowed."""


class PermissionDeniedError(AuthenticationError):
    """403: the credential is valid but may not do this (a platform route without a platform key,
    an application route with a platform key outside `client.application(...)`, a read-only session's change)."""


class InvalidRequestError(DovecoteError):
    """400/413/422: the request was rejected as malformed or invalid; retrying won't help."""


class NotFoundError(DovecoteError):
    """404: no such object for this API key's application (other applications' objects are 404 too)."""


class ConflictError(DovecoteError):
    """409: the request conflicts with the object's current state."""


class RateLimitError(DovecoteError):
    """429: too many requests. `retry_after` is the server's hint in seconds, if it sent one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, error_type=error_type)
        self.retry_after = retry_after


class APIError(DovecoteError):
    """5xx, or a response the SDK could not understand."""


class APIConnectionError(APIError):
    """No response: the API could not be reached (refused, DNS, TLS, reset)."""


class APITimeoutError(APIConnectionError):
    """No response within the client's timeout."""


def error_for_status(
    status: int, error_type: str | None, message: str, *, retry_after: float | None = None
) -> DovecoteError:
    if status == 429:
        return RateLimitError(message, status=status, error_type=error_type, retry_after=retry_after)
    error_class: type[DovecoteError]
    if status == 403:
        error_class = PermissionDeniedError
    elif status == 401:
        error_class = AuthenticationError
    elif status == 404:
        error_class = NotFoundError
    elif status == 409:
        error_class = ConflictError
    elif status in (400, 413, 422):
        error_class = InvalidRequestError
    elif status >= 500:
        error_class = APIError
    else:
        error_class = DovecoteError
    return error_class(message, status=status, error_type=error_type)
