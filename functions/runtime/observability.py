"""Powertools Logger and Metrics named by the environment, and tracing built on first invocation.

The service name is POWERTOOLS_SERVICE_NAME (the stack sets it to the function's name),
`dovecote` where it is unset (tests, the local stack, which runs every function in one
process). Modules below a handler log through `logger(child=True)`, which joins the
handler's logger.

Tracing: built on first invocation and only where X-Ray can receive it.

Constructing a Powertools Tracer imports the X-Ray SDK (about 130 ms, more than boto3
itself), even when tracing is disabled. So the handlers do not build one at import time:
`traced` builds it on the first invocation, and only inside Lambda with tracing not
disabled (POWERTOOLS_TRACE_DISABLED); locally and in tests the handler runs untraced.
"""

# ruff: noqa: PLC0415 - the X-Ray SDK is imported on first use by design

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger

from functions.core import metrics as metric_names

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

Handler = TypeVar("Handler", bound=Callable[..., Any])
_TRUTHY = {"1", "true", "yes", "on"}
DEFAULT_SERVICE = "dovecote"
ENV_SERVICE = "POWERTOOLS_SERVICE_NAME"
ENV_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"


def service_name() -> str:
    return os.environ.get(ENV_SERVICE) or DEFAULT_SERVICE


def logger(*, child: bool = False) -> Logger:
    return Logger(service=service_name(), child=child)


def metrics() -> Metrics:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    service_metrics = Metrics(
        namespace=os.environ.get(ENV_METRICS_NAMESPACE) or metric_names.NAMESPACE, service=service_name()
    )
    if is_metrics_disabled():
        # Powertools keeps the values of disabled metrics and prints them every 100: keep none.
        service_metrics.add_metric = _discard_metric  # type: ignore[method-assign]
    return service_metrics


def _discard_metric(*_: object, **__: object) -> None:
    return None


def tracing_enabled() -> bool:
    in_lambda = bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL")
    return in_lambda and os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() not in _TRUTHY


def traced() -> Callable[[Handler], Handler]:
    """`Tracer(service).capture_lambda_handler(capture_response=False)`, built when first called."""

    def decorate(handler: Handler) -> Handler:
        wrapped: Callable[..., Any] | None = None

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            nonlocal wrapped
            if wrapped is None:
                if tracing_enabled():
                    from aws_lambda_powertools import Tracer

                    wrapped = Tracer(service=service_name()).capture_lambda_handler(handler, capture_response=False)
                else:
                    wrapped = handler
            return wrapped(event, context)

        return invoke  # type: ignore[return-value]

    return decorate
