"""Counting what the handlers do, in the process that runs them (the local stack's).

- AWS calls: every botocore client created in this process gets `before-parameter-build`,
  `before-call` and `after-call` hooks. A call is counted for the function whose handler
  is running (a context variable, carried into the handlers' thread pools), or for a
  function's SQS poller (`esm:<function>`: Lambda's event source mapping receives and
  deletes on our behalf, and SQS bills those requests). Everything else (the local
  stack's plumbing, moto's own calls, the benchmark's reads) is not counted.
- DynamoDB request units from item sizes: the items read come back in the response; the
  size of an item a write replaces or grows is read from moto's in-memory table (moto
  runs in this process) just before and just after the write.
- Lambda invocations: each handler call is timed, by function and trigger.
- HTTP API requests: counted at the local gateway.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.session

from bench.metering import (
    CallStats,
    Usage,
    adjusted_duration_ms,
    eventbridge_billed_events,
    http_api_billed_requests,
    item_kind,
    item_size,
    read_units,
    sqs_billed_requests,
    write_units,
)
from functions.store.event_bus import DEFAULT_BUS

Undo = Callable[[], None]

current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_function", default=None)
current_excess: contextvars.ContextVar[dict[int, float] | None] = contextvars.ContextVar("bench_excess", default=None)
"""Per thread of the running invocation: how much longer than `Meter.idle_call_ms` its AWS calls took."""

ESM_OPERATIONS = frozenset({"ReceiveMessage", "DeleteMessageBatch", "DeleteMessage"})
POLLER_THREAD_PREFIX = "poller:"
_PARAMS = "bench.params"
_CALLER = "bench.caller"
_BEFORE = "bench.before"


def trigger_of(event: Any) -> str:
    if isinstance(event, dict):
        if "Records" in event:
            return "sqs"
        if "action" in event:
            return "stepfunctions"
        if "requestContext" in event or event.get("type") == "REQUEST":
            return "api"
    return "other"


def function_of_handler(handler_path: str) -> str:
    """`functions.deliver.handler.handler` → `deliver` (infra/handlers.py's naming)."""
    parts = handler_path.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "functions" else handler_path


class MotoItems:
    """Items as moto's in-memory DynamoDB holds them (moto's server runs in this process)."""

    def __init__(self, account_id: str = "123456789012", region: str = "us-east-1") -> None:
        from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415 - only with a local stack

        self._backend = dynamodb_backends[account_id][region]
        self._index_keys: dict[str, list[tuple[str, ...]]] = {}

    def get(self, table_name: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            item = self._backend.get_item(table_name, dict(key))
        except Exception:
            return None
        return None if item is None else dict(item.to_json()["Attributes"])

    def purge_partitions(self, table_name: str, partition: str) -> int:
        """Drop the partition `partition` and those under it (`partition#…`); returns how many.

        moto's Query reads (and sorts) every item of the table, so a benchmark that keeps
        earlier scenarios' items makes later scenarios' queries slower and slower."""
        items = self._backend.get_table(table_name).items
        doomed = [
            key for key in list(items) if str(key.value) == partition or str(key.value).startswith(f"{partition}#")
        ]
        for key in doomed:
            items.pop(key, None)
        return len(doomed)

    def key_of(self, table_name: str, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """The primary key of `item` (a PutItem's item)."""
        try:
            names = self._backend.get_table(table_name).table_key_attrs
        except Exception:
            return None
        key = {name: item[name] for name in names if name in item}
        return key if len(key) == len(names) else None

    def index_keys(self, table_name: str) -> list[tuple[str, ...]]:
        """The key attribute names of each global secondary index (all projecting every attribute)."""
        if table_name not in self._index_keys:
            table = self._backend.get_table(table_name)
            self._index_keys[table_name] = [
                tuple(element["AttributeName"] for element in index.describe()["KeySchema"])
                for index in table.global_indexes
            ]
        return self._index_keys[table_name]


def index_write_units(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, keys: tuple[str, ...]) -> int:
    """Write units one index (projection ALL) consumes when an item goes from `before` to `after`."""
    was = before is not None and all(k in before for k in keys)
    now = after is not None and all(k in after for k in keys)
    if before is not None and after is not None and was and now:
        if all(before[k] == after[k] for k in keys):
            return write_units(item_size(after))
        return write_units(item_size(before)) + write_units(item_size(after))
    if was:
        return write_units(item_size(before))
    if now:
        return write_units(item_size(after))
    return 0


class Meter:
    """The counts of the current measurement window (`start` … `stop`), thread-safe."""

    def __init__(self, items: MotoItems | None = None) -> None:
        self.items = items
        self.function_names: dict[str, str] = {}
        """A local function's name (as moto knows it) → the infra name (`deliver`, …)."""
        self.usage = Usage()
        self.executions: list[str] = []
        self.idle_call_ms = 0.0
        """The latency of an AWS call to an idle moto (calibrated by the harness)."""
        self._counting = False
        self._lock = threading.Lock()

    # the window

    def start(self) -> None:
        with self._lock:
            self.usage = Usage()
            self.executions = []
            self._counting = True

    def stop(self) -> Usage:
        with self._lock:
            self._counting = False
            return self.usage

    @property
    def counting(self) -> bool:
        return self._counting

    # Lambda and the gateway

    def record_invocation(
        self, function: str, trigger: str, duration_ms: float, records: int, error: bool, adjusted_ms: float
    ) -> None:
        if not self._counting:
            return
        with self._lock:
            self.usage.invocation((function, trigger)).record(
                duration_ms, records, error=error, adjusted_ms=adjusted_ms
            )

    def record_log_bytes(self, count: int) -> None:
        if self._counting:
            with self._lock:
                self.usage.log_bytes += count

    def record_api_request(self, request_bytes: int) -> None:
        if not self._counting:
            return
        with self._lock:
            self.usage.api_requests += 1
            self.usage.api_billed_requests += http_api_billed_requests(request_bytes)

    # botocore hooks

    def register(self, events: Any) -> None:
        events.register("before-parameter-build", self._before_parameter_build)
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)

    def _caller(self, service: str, operation: str) -> str | None:
        function = current_function.get()
        if function is not None:
            return function
        thread = threading.current_thread().name
        if service == "sqs" and operation in ESM_OPERATIONS and thread.startswith(POLLER_THREAD_PREFIX):
            local_name = thread.removeprefix(POLLER_THREAD_PREFIX)
            return f"esm:{self.function_names.get(local_name, local_name)}"
        return None

    def _before_parameter_build(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = params

    def _before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if not self._counting:
            return
        service, operation = model.service_model.service_name, model.name
        caller = self._caller(service, operation)
        if caller is None:
            return
        context[_CALLER] = caller
        context["bench.started"] = time.perf_counter()
        body = params.get("body") or b""
        context["bench.request_bytes"] = len(body)
        if service == "dynamodb" and self.items is not None and operation in ("PutItem", "UpdateItem", "DeleteItem"):
            api = context.get(_PARAMS) or {}
            table = api.get("TableName", "")
            key = api.get("Key") or self.items.key_of(table, api.get("Item") or {})
            context[_BEFORE] = self.items.get(table, key) if key else None

    def _after_call(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        caller = context.get(_CALLER)
        if caller is None or not self._counting:
            return
        service, operation = model.service_model.service_name, model.name
        api: dict[str, Any] = context.get(_PARAMS) or {}
        failed = getattr(http_response, "status_code", 200) >= 300
        stats = CallStats(calls=1, errors=int(failed), billed_requests=1)
        stats.total_ms = (time.perf_counter() - context.get("bench.started", time.perf_counter())) * 1000
        excess = current_excess.get()
        if excess is not None:
            thread = threading.get_ident()
            with self._lock:
                excess[thread] = excess.get(thread, 0.0) + max(0.0, stats.total_ms - self.idle_call_ms)
        stats.request_bytes = int(context.get("bench.request_bytes", 0))
        stats.response_bytes = len(getattr(http_response, "content", b"") or b"")
        if service == "sqs":
            payload = _sqs_payload(operation, api, parsed)
            if operation == "ReceiveMessage" and not parsed.get("Messages"):
                with self._lock:
                    self.usage.idle_receives += 1
                return
            stats.billed_requests = sqs_billed_requests(payload)
        elif service == "dynamodb":
            self._dynamodb_units(stats, operation, api, parsed, context, failed)
        elif service == "events" and operation == "PutEvents":
            # Only the deployer's default bus: a destination's bus is the customer's, which pays for it.
            entries = [e for e in api.get("Entries") or [] if e.get("EventBusName", DEFAULT_BUS) == DEFAULT_BUS]
            stats.billed_requests = eventbridge_billed_events(
                [len(json.dumps(entry, default=str).encode()) for entry in entries]
            )
        elif service == "stepfunctions" and operation == "StartExecution" and not failed:
            with self._lock:
                self.executions.append(str(parsed["executionArn"]))
        if service == "dynamodb":
            operation = f"{operation}:{_dynamodb_kind(api)}"
        with self._lock:
            self.usage.call((caller, service, operation)).add(stats)

    def _dynamodb_units(
        self,
        stats: CallStats,
        operation: str,
        api: dict[str, Any],
        parsed: dict[str, Any],
        context: dict[str, Any],
        failed: bool,
    ) -> None:
        table = api.get("TableName", "")
        if operation == "GetItem":
            stats.read_units = read_units(item_size(parsed.get("Item")), consistent=bool(api.get("ConsistentRead")))
        elif operation in ("Query", "Scan"):
            items = parsed.get("Items") or []
            size = sum(item_size(item) for item in items)
            scanned, returned = parsed.get("ScannedCount", len(items)), parsed.get("Count", len(items))
            if returned and scanned > returned:  # a filter dropped items that were read: scale up
                size = size * scanned // returned
            consistent = bool(api.get("ConsistentRead")) and "IndexName" not in api
            stats.read_units = read_units(size, consistent=consistent)
        elif operation == "BatchGetItem":
            # Each key is read as a GetItem would be: a key with no item still costs the least read.
            unprocessed = parsed.get("UnprocessedKeys") or {}
            for table_name, request in (api.get("RequestItems") or {}).items():
                consistent = bool(request.get("ConsistentRead"))
                items = (parsed.get("Responses") or {}).get(table_name) or []
                missing = len(request.get("Keys") or []) - len(items)
                missing -= len((unprocessed.get(table_name) or {}).get("Keys") or [])
                stats.read_units += sum(read_units(item_size(item), consistent=consistent) for item in items)
                stats.read_units += max(0, missing) * read_units(0, consistent=consistent)
        elif operation == "TransactGetItems":
            stats.read_units = sum(
                read_units(item_size(r.get("Item")), consistent=True, transactional=True)
                for r in parsed.get("Responses") or []
            )
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            before = context.get(_BEFORE)
            if failed:  # a failed condition still consumes the write
                stats.write_units = write_units(item_size(before))
                return
            after = self._after_item(operation, table, api, parsed)
            stats.write_units = write_units(max(item_size(before), item_size(after)))
            if self.items is not None:
                stats.index_write_units = sum(
                    index_write_units(before, after, keys) for keys in self.items.index_keys(table)
                )
                stats.write_units += stats.index_write_units
        elif operation == "BatchWriteItem":
            for requests in (api.get("RequestItems") or {}).values():
                for request in requests:
                    item = (request.get("PutRequest") or {}).get("Item")
                    stats.write_units += write_units(item_size(item))
        elif operation == "TransactWriteItems":
            for entry in api.get("TransactItems") or []:
                item = (entry.get("Put") or {}).get("Item")
                stats.write_units += write_units(item_size(item), transactional=True)

    def _after_item(
        self, operation: str, table: str, api: dict[str, Any], parsed: dict[str, Any]
    ) -> dict[str, Any] | None:
        if operation == "DeleteItem":
            return None
        if operation == "PutItem":
            return dict(api.get("Item") or {})
        if self.items is not None:
            return self.items.get(table, api.get("Key") or {})
        return parsed.get("Attributes")


def _dynamodb_kind(api: Mapping[str, Any]) -> str:
    """The kind of item a DynamoDB request is about, from its key (or a query's partition)."""
    key = api.get("Key") or api.get("Item")
    if key:
        return item_kind(_string(key.get("pk")), _string(key.get("sk")))
    values = api.get("ExpressionAttributeValues") or {}
    partition = _string(values.get(":pk"))
    if partition:
        return item_kind(partition)
    requests = api.get("RequestItems") or {}
    batch_keys = [
        key for request in requests.values() if isinstance(request, Mapping) for key in request.get("Keys", ())
    ]
    if batch_keys:  # BatchGetItem: the kinds it reads
        return "+".join(sorted({item_kind(_string(key.get("pk")), _string(key.get("sk"))) for key in batch_keys}))
    return "batch" if requests or "TransactItems" in api else "other"


def _string(value: Any) -> str:
    return str(value.get("S", "")) if isinstance(value, Mapping) else ""


def _sqs_payload(operation: str, api: Mapping[str, Any], parsed: Mapping[str, Any]) -> int:
    if operation == "SendMessage":
        return len(str(api.get("MessageBody", "")).encode())
    if operation == "SendMessageBatch":
        return sum(len(str(entry.get("MessageBody", "")).encode()) for entry in api.get("Entries") or [])
    if operation == "ReceiveMessage":
        return sum(len(str(message.get("Body", "")).encode()) for message in parsed.get("Messages") or [])
    return 0


# Installing the hooks


def instrument_botocore(meter: Meter) -> Undo:
    """Register `meter` on every botocore client created from now on, in any session."""
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        meter.register(client.meta.events)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def undo() -> None:
        botocore.session.Session.create_client = original  # type: ignore[method-assign]

    return undo


def propagate_context_to_thread_pools() -> Undo:
    """Run work submitted to a ThreadPoolExecutor in the submitter's context (so calls made
    by a handler's worker threads are counted for that handler)."""
    original = ThreadPoolExecutor.submit

    def submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return original(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit  # type: ignore[method-assign,assignment]

    def undo() -> None:
        ThreadPoolExecutor.submit = original  # type: ignore[method-assign]

    return undo


def time_local_functions(meter: Meter) -> Undo:
    """Time every handler call of the local stack's functions (dovecote_local/lambdas.py)."""
    from dovecote_local.lambdas import LocalFunction  # noqa: PLC0415

    original = LocalFunction.handler

    def timed_handler(self: LocalFunction) -> Callable[[Any, Any], Any]:
        handler = original.fget(self)  # type: ignore[attr-defined]
        function = function_of_handler(self.handler_path)

        def timed(event: Any, context: Any) -> Any:
            trigger = trigger_of(event)
            records = len(event.get("Records") or []) if trigger == "sqs" else 0
            excess: dict[int, float] = {}
            token, excess_token = current_function.set(function), current_excess.set(excess)
            started = time.perf_counter()
            error = False
            try:
                return handler(event, context)
            except BaseException:
                error = True
                raise
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                adjusted = adjusted_duration_ms(elapsed, excess)
                meter.record_invocation(function, trigger, elapsed, records, error, adjusted)
                current_function.reset(token)
                current_excess.reset(excess_token)

        return timed

    LocalFunction.handler = property(timed_handler)  # type: ignore[method-assign,assignment]

    def undo() -> None:
        LocalFunction.handler = original  # type: ignore[method-assign]

    return undo


def count_gateway_requests(meter: Meter) -> Undo:
    """Count the HTTP API requests the local gateway serves (dovecote_local/gateway.py)."""
    from dovecote_local.gateway import HttpApi, IncomingRequest  # noqa: PLC0415

    original = HttpApi.handle

    def handle(self: HttpApi, request: IncomingRequest) -> Any:
        size = len(request.body) + sum(len(name) + len(value) + 4 for name, value in request.headers)
        meter.record_api_request(size + len(request.method) + len(request.target))
        return original(self, request)

    HttpApi.handle = handle  # type: ignore[method-assign]

    def undo() -> None:
        HttpApi.handle = original  # type: ignore[method-assign]

    return undo
