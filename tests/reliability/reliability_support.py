"""Support for the reliability and security suite.

- `loopback_only_network`: no DNS, no connection outside 127.0.0.0/8 and ::1.
- `LocalStackHarness`: an in-process `LocalStack` plus what the tests read from it (the
  table, the queues, the executions, the handlers' log lines).
- `Endpoints`: webhook receivers on 127.0.0.1 whose answer is decided per request.
- `RawServer`: a TCP server on 127.0.0.1 that misbehaves below HTTP (resets, endless or
  huge bodies, garbage instead of TLS).
- `AwsCallRecorder`: every AWS operation, attributed to the Dovecote function that made it.
- `report_figures`: appends a test's figures to $DOVECOTE_RELIABILITY_REPORT (JSON lines),
  the source of the counts in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import importlib
import io
import ipaddress
import json
import logging
import os
import pkgutil
import socket
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
import requests
from botocore.config import Config
from moto.core.config import default_user_config

import functions
from dovecote_local.lambdas import LambdaRuntime
from dovecote_local.stack import CONCURRENT_BATCHES_PER_QUEUE, LocalOptions, LocalStack
from dovecote_local.templates import ensure_templates
from tests.loopback_http import PostServer, Received

REPORT_ENV = "DOVECOTE_RELIABILITY_REPORT"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
MAX_WAIT_SECONDS = 120.0


def report_figures(name: str, **figures: Any) -> None:
    """Record a test's figures (cases tried, faults survived, deliveries lost, …) when asked to."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as report:
        report.write(json.dumps({"test": name, **figures}, sort_keys=True) + "\n")


def eventually(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.05, message: str = "") -> Any:
    """`check()` once it is truthy; AssertionError after `timeout` seconds (a bounded loop)."""
    deadline = time.monotonic() + min(timeout, MAX_WAIT_SECONDS)
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {message or check}")
        time.sleep(interval)


# The network guard ----------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", maxsplit=1)[0].strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", maxsplit=1)[0].strip("[]"))
    except ValueError:
        return False
    return True


@contextmanager
def loopback_only_network() -> Iterator[None]:
    """Inside: names other than localhost do not resolve (no DNS query leaves), and a TCP or UDP
    connection to anything but loopback is refused before a packet is sent."""
    original_getaddrinfo = socket.getaddrinfo
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or _is_literal(str(name)) or str(name).lower().rstrip(".") in LOOPBACK_NAMES:
            return original_getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (the test network resolves no names)")

    def refused(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return False
        return not _is_loopback(str(address[0]))

    def connect(self: socket.socket, address: Any) -> None:
        if refused(self, address):
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"blocked by the test network guard: {address[0]}")
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if refused(self, address):
            return errno.ECONNREFUSED
        return original_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.getaddrinfo = original_getaddrinfo
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]


# Webhook receivers ------------------------------------------------------------------------


Decide = Callable[[str, dict[str, str], bytes], int]
"""(path, headers, body) → the status to answer."""


class Endpoints:
    """Webhook endpoints on 127.0.0.1; each path answers what its `decide` says and records the request."""

    def __init__(self) -> None:
        self._decisions: dict[str, Decide] = {}
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server = PostServer(self._answer, name="endpoints")

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with self._lock:
            decide = self._decisions.get(path)
        status = decide(path, headers, body) if decide else 404
        with self._lock:
            self.requests.append(Received(path, headers, body, status))
        return status, b"ok" if status < 300 else b"failed"

    def add(self, decide: Decide | int = 200) -> str:
        """A new endpoint's URL; `decide` is a fixed status or a function of the request."""
        path = f"/hooks/{uuid.uuid4().hex}"
        with self._lock:
            self._decisions[path] = decide if callable(decide) else (lambda *_: decide)  # type: ignore[misc]
        return self._server.url(path)

    def requests_to(self, url: str) -> list[Received]:
        path = "/" + url.split("/", 3)[3]
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self._server.close()


def endpoints() -> closing[Endpoints]:
    """Fresh endpoints, closed when the `with` block ends."""
    return closing(Endpoints())


# Misbehaving servers -------------------------------------------------------------------------

RAW_SERVER_CONNECTION_SECONDS = 20.0
"""No connection is served longer than this, whatever the script says."""


def read_http_request(connection: socket.socket, limit: int = 1 << 20) -> bytes:
    """Read one request (headers and Content-Length body), bounded in size; b'' on EOF."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < min(length, limit):
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def reset(connection: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    connection.close()


class RawServer:
    """A TCP server on 127.0.0.1 running `serve(connection, server)` for each connection, in a thread."""

    def __init__(self, serve: Callable[[socket.socket, RawServer], None]) -> None:
        self._serve = serve
        self.connections = 0
        self.bytes_sent = 0
        self.requests: list[bytes] = []
        self.notes: list[Any] = []
        """Whatever a script wants to tell the test (e.g. bytes sent on each connection)."""
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, name="raw-server", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/hooks"

    def sent(self, count: int) -> None:
        with self._lock:
            self.bytes_sent += count

    def record(self, request: bytes) -> None:
        with self._lock:
            self.requests.append(request)

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(RAW_SERVER_CONNECTION_SECONDS)
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._run, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self._serve(connection, self)
        with contextlib.suppress(OSError):
            connection.close()

    def close(self) -> None:
        self.closing.set()
        self._listener.close()
        self._thread.join(5)
        for thread in self._threads:
            thread.join(RAW_SERVER_CONNECTION_SECONDS)


@contextmanager
def raw_server(serve: Callable[[socket.socket, RawServer], None]) -> Iterator[RawServer]:
    server = RawServer(serve)
    try:
        yield server
    finally:
        server.close()


def stream_body(connection: socket.socket, server: RawServer, total: int | None, chunk: bytes) -> None:
    """Send `total` bytes of body (None: without end) until done, the peer leaves or time is up."""
    deadline = time.monotonic() + RAW_SERVER_CONNECTION_SECONDS
    sent = 0
    while (total is None or sent < total) and time.monotonic() < deadline and not server.closing.is_set():
        piece = chunk if total is None else chunk[: total - sent]
        try:
            connection.sendall(piece)
        except OSError:
            return
        sent += len(piece)
        server.sent(len(piece))


# Recording AWS calls per function ------------------------------------------------------------

_BATCH_ACTIONS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def iam_actions(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions an API call is authorized against (a batch or transaction by its parts)."""
    action = f"{service}:{operation}"
    if action in _BATCH_ACTIONS:
        return {_BATCH_ACTIONS[action]}
    if action in ("dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"):
        return {_TRANSACT_ACTIONS[kind] for item in params.get("TransactItems", []) for kind in item}
    return {action}


_RESOURCE_PARAMETERS = ("TableName", "QueueUrl", "stateMachineArn", "executionArn", "FunctionName", "RoleArn")


@dataclass(frozen=True)
class AwsCall:
    action: str
    resource: str | None
    """The table name, queue URL, state machine or execution ARN, or function the call names."""


class AwsCallRecorder:
    """Every AWS operation made while installed, by the Dovecote function whose handler made it.

    Attribution: `LambdaRuntime.invoke` marks its thread with the function; thread pools
    started by a handler inherit the mark (`ThreadPoolExecutor.submit` is wrapped); an SQS
    poller's own calls (ReceiveMessage, DeleteMessageBatch) belong to the function it feeds,
    as Lambda's event source mapping makes them with that function's role. Calls are seen
    through a botocore `before-parameter-build` hook (the first of the before-call hooks, the one
    that sees the call's parameters) on every client created while installed.
    """

    def __init__(self) -> None:
        self.calls: dict[str, set[AwsCall]] = defaultdict(set)
        self.unattributed: set[AwsCall] = set()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._undo: list[Callable[[], None]] = []
        self.function_of_name: dict[str, str] = {}
        """Physical function name (or ARN) → Dovecote function name (authorizer, deliver, …)."""
        self.as_assumed_role: set[AwsCall] = set()
        """Calls made with a customer's assumed-role credentials (AWS destinations): authorized by the
        customer's role, not by the function's, so they are kept apart from `calls`."""

    def current(self) -> str | None:
        function = getattr(self._local, "function", None)
        if function is None:
            thread = threading.current_thread().name
            if thread.startswith("poller:"):
                function = self.function_of_name.get(thread.removeprefix("poller:"))
        return function

    @contextmanager
    def attributed(self, function: str | None) -> Iterator[None]:
        previous = getattr(self._local, "function", None)
        self._local.function = function
        try:
            yield
        finally:
            self._local.function = previous

    def actions(self, function: str) -> set[str]:
        with self._lock:
            return {call.action for call in self.calls.get(function, set())}

    def _before_call(self, model: Any, params: Any = None, **_: Any) -> None:
        parameters = params if isinstance(params, dict) else {}
        service = model.service_model.signing_name
        resource = next((str(parameters[name]) for name in _RESOURCE_PARAMETERS if name in parameters), None)
        calls = {AwsCall(action, resource) for action in iam_actions(service, model.name, parameters)}
        function = self.current()
        with self._lock:
            if function is None:
                self.unattributed.update(calls)
            else:
                self.calls[function].update(calls)

    def _assumed_role_call(self, model: Any, params: Any = None, **_: Any) -> None:
        parameters = params if isinstance(params, dict) else {}
        service = model.service_model.signing_name
        resource = next((str(parameters[name]) for name in _RESOURCE_PARAMETERS if name in parameters), None)
        with self._lock:
            self.as_assumed_role.update(AwsCall(a, resource) for a in iam_actions(service, model.name, parameters))

    def install(self) -> None:
        recorder = self
        original_create_client = botocore.session.Session.create_client
        original_invoke = LambdaRuntime.invoke
        original_submit = ThreadPoolExecutor.submit

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original_create_client(session, *args, **kwargs)
            if kwargs.get("aws_session_token"):  # functions/runtime/assumed_roles.py: signed as the customer's role
                client.meta.events.register("before-parameter-build", recorder._assumed_role_call)
            else:
                client.meta.events.register("before-parameter-build", recorder._before_call)
            return client

        def invoke(runtime: Any, name_or_arn: str, event: Any) -> Any:
            function = runtime.function(name_or_arn)
            with recorder.attributed(function.handler_path.split(".")[1]):
                return original_invoke(runtime, name_or_arn, event)

        def submit(pool: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            function = getattr(recorder._local, "function", None)

            def run() -> Any:
                with recorder.attributed(function):
                    return fn(*args, **kwargs)

            return original_submit(pool, run)

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        LambdaRuntime.invoke = invoke  # type: ignore[method-assign]
        ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]

        def undo() -> None:
            botocore.session.Session.create_client = original_create_client  # type: ignore[method-assign]
            LambdaRuntime.invoke = original_invoke  # type: ignore[method-assign]
            ThreadPoolExecutor.submit = original_submit  # type: ignore[method-assign]

        self._undo.append(undo)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()


# Log capture -----------------------------------------------------------------------------------


class _EverythingFormatter(logging.Formatter):
    """A record with every attribute it carries (message, arguments, `extra` fields, traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        attributes = {key: repr(value) for key, value in record.__dict__.items()}
        text = f"{record.name} {record.levelname} {record.getMessage()} {attributes}"
        if record.exc_info:
            text += " " + self.formatException(record.exc_info)
        return text


class LogCapture(io.StringIO):
    """Every line the handlers and the local stack log at the deployed level (INFO) while active."""

    @contextmanager
    def active(self) -> Iterator[LogCapture]:
        for module in pkgutil.walk_packages(functions.__path__, "functions."):
            importlib.import_module(module.name)  # every module's logger exists before its level is set
        dovecote = logging.getLogger("dovecote")
        powertools_handlers = [h for h in dovecote.handlers if isinstance(h, logging.StreamHandler)]
        previous_streams = [h.setStream(self) for h in powertools_handlers]  # type: ignore[type-var]
        # Powertools sets each logger's level when it is created (the local stack says WARNING):
        # every Dovecote logger, child loggers included, logs at the deployed level here.
        ours = [dovecote] + [
            logging.getLogger(name) for name in list(logging.root.manager.loggerDict) if name.startswith("dovecote.")
        ]
        previous_levels = [logger.level for logger in ours]
        for logger in ours:
            logger.setLevel(logging.INFO)
        everything = logging.StreamHandler(self)
        everything.setFormatter(_EverythingFormatter())
        everything.setLevel(logging.INFO)
        root = logging.getLogger()
        previous_root_level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(everything)
        try:
            yield self
        finally:
            root.removeHandler(everything)
            root.setLevel(previous_root_level)
            for logger, level in zip(ours, previous_levels, strict=True):
                logger.setLevel(level)
            for handler, stream in zip(powertools_handlers, previous_streams, strict=True):
                handler.setStream(stream)  # type: ignore[type-var]


# The in-process local stack ------------------------------------------------------------------


def reset_all_dependencies() -> None:
    """Drop every handler's cached clients and settings (as tests/integration/conftest.py does)."""
    for name, module in list(sys.modules.items()):
        reset = getattr(module, "reset_dependencies", None)
        if name.startswith("functions.") and callable(reset):
            reset()


@dataclass
class LocalStackHarness:
    stack: Any
    output: list[str] = field(default_factory=list)
    """Lines the stack printed (its attempt log)."""
    recorder: AwsCallRecorder | None = None
    http: requests.Session = field(default_factory=requests.Session)

    @classmethod
    @contextmanager
    def running(
        cls,
        *,
        profile: str = "mutx",
        time_scale: float = 0.001,
        record_aws_calls: bool = False,
        concurrent_batches: int = CONCURRENT_BATCHES_PER_QUEUE,
    ) -> Iterator[LocalStackHarness]:
        environment = dict(os.environ)
        moto_config = copy.deepcopy(default_user_config)
        template = ensure_templates([profile])[profile]
        recorder = AwsCallRecorder() if record_aws_calls else None
        output: list[str] = []
        stack = LocalStack(
            LocalOptions(
                port=0,
                profile=profile,
                time_scale=time_scale,
                allow_http_loopback=True,
                template=template,
                concurrent_batches=concurrent_batches,
            ),
            write=output.append,
        )
        if recorder is not None:
            recorder.install()
        try:
            stack.start()
            # Handlers cache their clients: drop any built by earlier tests of this process.
            reset_all_dependencies()
            harness = cls(stack=stack, output=output, recorder=recorder)
            harness.http.trust_env = False
            if recorder is not None:
                for function in stack.resources.functions.values():
                    recorder.function_of_name[function.name] = function.handler_path.split(".")[1]
            yield harness
        finally:
            stack.stop()
            if recorder is not None:
                recorder.uninstall()
            os.environ.clear()
            os.environ.update(environment)
            default_user_config.clear()
            default_user_config.update(moto_config)
            reset_all_dependencies()

    # the HTTP API ---------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return str(self.stack.api_url)

    @property
    def api_key(self) -> str:
        return str(self.stack.api_key)

    def new_key(self, application: str) -> str:
        return str(self.stack.create_api_key(application, "reliability suite"))

    def api(
        self,
        method: str,
        path: str,
        key: str | None = None,
        *,
        authorization: str | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        sent = dict(headers or {})
        if authorization is not None:
            sent["Authorization"] = authorization
        elif key is not None:
            sent["Authorization"] = f"Bearer {key}"
        return self.http.request(method, self.api_url + path, json=json_body, headers=sent, timeout=30)

    # AWS, read directly ---------------------------------------------------------------------

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.stack.moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 3}),
        )

    @property
    def table_name(self) -> str:
        return str(self.stack.table_name)

    def scan(self) -> list[dict[str, Any]]:
        """Every item of the table (DynamoDB JSON)."""
        dynamodb = self.client("dynamodb")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        for _ in range(10_000):
            page = dynamodb.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return items

    def queue_url(self, logical_prefix: str) -> str:
        for logical_id, queue in self.stack.resources.queues.items():
            if logical_id.startswith(logical_prefix) and "Dlq" not in logical_id.removeprefix(logical_prefix)[:3]:
                return str(queue.url)
        raise LookupError(logical_prefix)

    def queue_urls(self) -> dict[str, str]:
        return {logical_id: str(queue.url) for logical_id, queue in self.stack.resources.queues.items()}

    def queue_depth(self, url: str) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def executions(self, status: str | None = None) -> list[dict[str, Any]]:
        stepfunctions = self.client("stepfunctions")
        kwargs: dict[str, Any] = {"stateMachineArn": self.stack.resources.state_machine_arn, "maxResults": 1000}
        if status:
            kwargs["statusFilter"] = status
        found: list[dict[str, Any]] = []
        for _ in range(1000):
            page = stepfunctions.list_executions(**kwargs)
            found.extend(page["executions"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return found
