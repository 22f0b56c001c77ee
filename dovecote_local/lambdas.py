"""The stack's Lambda functions, run in this process.

Each function of the template is registered under its moto name and ARN with the
handler its `Handler` property names. The gateway and the SQS pollers call `invoke`
directly; Step Functions reaches the same handlers through moto's Lambda `Invoke` API,
which `patch_moto_lambda` routes here.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend

log = logging.getLogger("dovecote-local")

Handler = Callable[[Any, Any], Any]
InvocationObserver = Callable[["LocalFunction", Any, Any], None]


class FunctionError(Exception):
    """A handler raised: the error Lambda reports as `Unhandled`."""

    def __init__(self, function_name: str, error: BaseException) -> None:
        super().__init__(f"{function_name}: {type(error).__name__}: {error}")
        self.payload = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_tb(error.__traceback__)[1:],  # from the handler down
        }


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started_at: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started_at
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    handler_path: str
    """`package.module.function`, as in the template's `Handler` property."""
    timeout_seconds: float = 30
    memory_mb: int = 128
    _handler: Handler | None = None

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            module_name, _, attribute = self.handler_path.rpartition(".")
            self._handler = getattr(importlib.import_module(module_name), attribute)
        return self._handler

    def context(self) -> LambdaContext:
        return LambdaContext(self.name, self.arn, self.memory_mb, self.timeout_seconds)


class LambdaRuntime:
    def __init__(self) -> None:
        self._functions: dict[str, LocalFunction] = {}
        self._observers: list[InvocationObserver] = []
        self._lock = threading.Lock()

    def register(self, function: LocalFunction) -> None:
        with self._lock:
            self._functions[function.name] = function
            self._functions[function.arn] = function

    def observe(self, observer: InvocationObserver) -> None:
        """Call `observer(function, event, result)` after every successful invocation."""
        self._observers.append(observer)

    def function(self, name_or_arn: str) -> LocalFunction:
        name = name_or_arn
        if name_or_arn.startswith("arn:") and name_or_arn not in self._functions:
            name = name_or_arn.split(":")[6]  # arn:aws:lambda:region:account:function:NAME[:qualifier]
        try:
            return self._functions[name]
        except KeyError:
            raise LookupError(f"no local function {name_or_arn!r}") from None

    def load_all(self) -> None:
        """Import every handler now, so a broken handler fails at start-up, not on first use."""
        for function in {id(f): f for f in self._functions.values()}.values():
            _ = function.handler

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        function = self.function(name_or_arn)
        try:
            result = function.handler(event, function.context())
        except Exception as error:
            log.warning("%s raised %s: %s", function.name, type(error).__name__, error)
            log.debug("%s raised", function.name, exc_info=True)
            raise FunctionError(function.name, error) from error
        for observer in self._observers:
            try:
                observer(function, event, result)
            except Exception:
                log.exception("invocation observer failed")
        return result


def patch_moto_lambda(runtime: LambdaRuntime) -> Callable[[], None]:
    """Route moto's simple Lambda backend (`use_docker: false`) to `runtime`; returns the undo."""
    original = LambdaSimpleBackend.invoke

    def invoke(  # noqa: PLR0917 - moto's signature
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        event = json.loads(body) if body else {}
        try:
            result = runtime.invoke(function_name, event)
        except FunctionError as error:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(error.payload).encode()
        return json.dumps(result).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]

    def undo() -> None:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]

    return undo
