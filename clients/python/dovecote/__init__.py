"""Python SDK for the Dovecote webhook delivery API."""

from dovecote._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    DovecoteError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
)
from dovecote._models import (
    Attempt,
    DeletedWebhook,
    Delivery,
    DovecoteObject,
    Event,
    EventType,
    Recovery,
    Webhook,
    WebhookWithSecret,
)
from dovecote._pagination import AsyncListPage, ListPage
from dovecote._version import __version__
from dovecote.client import AsyncDovecote, Dovecote

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncDovecote",
    "AsyncListPage",
    "Attempt",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "DeletedWebhook",
    "Delivery",
    "Dovecote",
    "DovecoteError",
    "DovecoteObject",
    "Event",
    "EventType",
    "InvalidRequestError",
    "ListPage",
    "NotFoundError",
    "RateLimitError",
    "Recovery",
    "Webhook",
    "WebhookWithSecret",
    "__version__",
]
