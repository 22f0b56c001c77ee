"""Python SDK for the Dovecote webhook delivery API.

The SDK's names load on first use (PEP 562), so `dovecote.verify`, `dovecote.schemes` and
`dovecote.profiles` (standard library only) import without pydantic or requests: a receiver
and the server's Lambda functions use them alone.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        PermissionDeniedError,
        RateLimitError,
    )
    from dovecote._models import (
        ApiKey,
        ApiKeyWithSecret,
        Application,
        Attempt,
        DeletedApplication,
        DeletedEventType,
        DeletedOperationalWebhook,
        DeletedWebhook,
        Delivery,
        DovecoteObject,
        Event,
        EventType,
        OperationalWebhook,
        OperationalWebhookWithSecret,
        PortalSession,
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
    "ApiKey",
    "ApiKeyWithSecret",
    "Application",
    "AsyncDovecote",
    "AsyncListPage",
    "Attempt",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "DeletedApplication",
    "DeletedEventType",
    "DeletedOperationalWebhook",
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
    "OperationalWebhook",
    "OperationalWebhookWithSecret",
    "PermissionDeniedError",
    "PortalSession",
    "RateLimitError",
    "Recovery",
    "Webhook",
    "WebhookWithSecret",
    "__version__",
]

_SDK_MODULES = ("dovecote._errors", "dovecote._models", "dovecote._pagination", "dovecote._version", "dovecote.client")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module_name in _SDK_MODULES:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module 'dovecote' has no attribute {name!r}")
