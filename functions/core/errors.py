"""Domain errors. Each maps to one HTTP status and error type at the API edge."""

from __future__ import annotations


class DovecoteError(Exception):
    status_code = 500
    error_type = "internal_error"

    def __init_subclass__(cls, *, status_code: int | None = None, error_type: str | None = None) -> None:
        super().__init_subclass__()
        cls.status_code = status_code or cls.status_code
        cls.error_type = error_type or cls.error_type

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DovecoteError, status_code=404, error_type="not_found"): ...


class InvalidRequestError(DovecoteError, status_code=422, error_type="invalid_request"): ...


class UnsafeUrlError(InvalidRequestError, error_type="invalid_url"): ...


class ConflictError(DovecoteError, status_code=409, error_type="conflict"): ...


class PayloadTooLargeError(DovecoteError, status_code=413, error_type="payload_too_large"): ...


class ServiceUnavailableError(DovecoteError, status_code=503, error_type="service_unavailable"):
    """A queue refused a message; nothing was kept, so the caller can retry the request."""


class UnauthorizedError(DovecoteError, status_code=401, error_type="unauthorized"): ...


class ForbiddenError(DovecoteError, status_code=403, error_type="forbidden"): ...
