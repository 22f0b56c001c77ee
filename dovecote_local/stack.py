"""`LocalStack`: the whole Dovecote stack in one process, against moto, on 127.0.0.1.

    with LocalStack(LocalOptions(profile="miteos", time_scale=0.01)) as stack:
        print(stack.api_url, stack.api_key)

It sets this process's environment (AWS endpoint, credentials, the handlers' settings),
so a process runs one local stack at a time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import boto3
from botocore.config import Config

from dovecote_local.attempts import AttemptLog
from dovecote_local.gateway import GatewayServer, HttpApi
from dovecote_local.lambdas import LambdaRuntime, patch_moto_lambda
from dovecote_local.moto_fixes import apply_moto_fixes
from dovecote_local.moto_server import (
    FAKE_CREDENTIALS,
    REGION,
    MotoServer,
    patch_atomic_dynamodb_writes,
    patch_wait_states,
)
from dovecote_local.operational import route_default_bus
from dovecote_local.pollers import QueuePoller
from dovecote_local.resources import LocalResources, ResourceBuilder
from dovecote_local.state import StateDirectory
from dovecote_local.templates import cached_template_path, load_template
from dovecote_local.trust import patch_trust_policies
from functions.core.errors import ConflictError
from functions.core.models import ApiKey, Application, utc_now
from functions.core.profile import load_profile
from functions.management.credentials import create_api_key, create_platform_key
from functions.runtime import settings
from functions.store.api_keys import ApiKeyStore, is_well_formed, kind_of, new_api_key
from functions.store.applications import ApplicationStore

log = logging.getLogger("dovecote-local")

DEV_APPLICATION = "demo"
DEV_KEY_DESCRIPTION = "dovecote local development key"
PLATFORM_KEY_DESCRIPTION = "dovecote local platform key"
STACK_NAME = "Dovecote"
DELIVER_HANDLER = "functions.deliver.handler.handler"
_SHUTDOWN_JOIN_SECONDS = 5.0

_moto_port_of_this_process = 0
"""Handlers keep their AWS clients between invocations, so a later stack in this process reuses the port."""


CONCURRENT_BATCHES_PER_QUEUE = 4
"""Pollers per queue: Lambda's SQS event source mapping starts with five concurrent batches and scales out."""


@dataclass(frozen=True)
class LocalOptions:
    port: int = 8787
    profile: str = "standard"
    api_key: str | None = None
    platform_key: str | None = None
    time_scale: float = 1.0
    allow_http_loopback: bool = False
    moto_port: int = 0
    template: Path | None = None
    verbose: bool = False
    state_dir: Path | None = None
    """Keep the table (and the printed keys) here across restarts (dovecote_local.state)."""
    concurrent_batches: int = CONCURRENT_BATCHES_PER_QUEUE
    """Pollers per queue."""


class _Service:
    """`AwsClients.<name>`: the client of one service, made on first use."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __get__(self, clients: AwsClients, owner: type[AwsClients]) -> Any:
        return clients._client(self.service)


@dataclass
class AwsClients:
    endpoint_url: str
    _clients: dict[str, Any] = field(default_factory=dict)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoint_url,
                region_name=REGION,
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                config=Config(retries={"max_attempts": 2}),
            )
        return self._clients[service]

    dynamodb = _Service("dynamodb")
    sqs = _Service("sqs")
    iam = _Service("iam")
    lambda_ = _Service("lambda")
    stepfunctions = _Service("stepfunctions")

    @property
    def events(self) -> Any:
        return self._client("events")


def _keep_key(store: ApiKeyStore, api_key: ApiKey) -> bool:
    """Store a key whose plaintext is known (one restored from the state directory is there already).

    False when the restored key was revoked meanwhile: it cannot be used again."""
    existing = store.find_by_hash(api_key.key_hash)
    if existing is None:
        store.create(api_key)
    return existing is None or existing.revoked_at is None


class LocalStack:
    def __init__(self, options: LocalOptions | None = None, write: Callable[[str], None] | None = None) -> None:
        self.options = options or LocalOptions()
        self.api_key = ""
        self.platform_key = ""
        self._api_keys: ApiKeyStore | None = None
        self._write = write or (lambda line: print(line, flush=True))
        self._stopping = threading.Event()
        self._undo: list[Callable[[], None]] = []
        self._moto: MotoServer | None = None
        self._gateway: GatewayServer | None = None
        self._threads: list[threading.Thread] = []
        self.resources: LocalResources | None = None
        self.profile_name = ""
        self.operational_events_url = ""
        """The queue the default bus's operational events land in (dovecote_local/operational.py)."""

    @property
    def api_url(self) -> str:
        port = self._gateway.port if self._gateway else self.options.port
        return f"http://127.0.0.1:{port}"

    @property
    def moto_endpoint(self) -> str:
        return self._moto.endpoint_url if self._moto else ""

    @property
    def table_name(self) -> str:
        return self.resources.table_name if self.resources else ""

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if self.options.api_key and not (
            is_well_formed(self.options.api_key) and kind_of(self.options.api_key) == "application"
        ):
            raise ValueError(
                "--api-key: not a Dovecote application key (dvc_live_ and 43 letters or digits); omit it for a new one"
            )
        if self.options.platform_key and not (
            is_well_formed(self.options.platform_key) and kind_of(self.options.platform_key) == "platform"
        ):
            raise ValueError(
                "--platform-key: not a Dovecote platform key (dvc_plat_ and 43 letters or digits); "
                "omit it for a new one"
            )
        profile = load_profile(self.options.profile)
        self.profile_name = profile.name
        template = self._template(profile.name)
        clients = self._start_moto()
        runtime = LambdaRuntime()
        self._undo.append(patch_moto_lambda(runtime))

        self.resources = ResourceBuilder(template, clients, stack_name=STACK_NAME, region=REGION).build()
        self.operational_events_url = route_default_bus(clients.events, clients.sqs)
        self._configure_environment(self.resources)
        state = self._restore_state(clients)
        for function in self.resources.functions.values():
            runtime.register(function)
        runtime.load_all()
        deliver = self.resources.function_by_handler(DELIVER_HANDLER)
        attempt_log = AttemptLog(clients.dynamodb, self.resources.table_name, profile.max_attempts, self._write)
        runtime.observe(attempt_log.observer(deliver.name))
        attempt_log.start()
        self._undo.append(attempt_log.stop)
        self._create_credentials(clients, state)
        if state is not None:
            runtime.observe(state.mark_changed)
            self._run_in_background(threading.Thread(target=state.save_until, args=(self._stopping,), name="state"))

        for mapping in self.resources.mappings:
            for _ in range(self.options.concurrent_batches):
                self._run_in_background(QueuePoller(mapping, clients.sqs, runtime, REGION, self._stopping))
        self._serve_api(HttpApi(runtime, self.resources.routes, self.resources.authorizer, REGION))

    def _template(self, profile_name: str) -> dict[str, Any]:
        if self.options.template is None and not cached_template_path(self.options.profile).is_file():
            self._write(f"Synthesizing the stack for profile {profile_name} (once: it is cached under .dovecote/)…")
        return load_template(self.options.profile, self.options.template)

    def _start_moto(self) -> AwsClients:
        global _moto_port_of_this_process  # noqa: PLW0603
        if not self.options.verbose:
            # moto logs every failed task, and the executions ended at shutdown, as errors.
            logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        apply_moto_fixes()
        self._moto = MotoServer(self.options.moto_port or _moto_port_of_this_process)
        self._moto.start()
        _moto_port_of_this_process = self._moto.port
        self._undo.append(self._moto.stop)
        self._undo.append(patch_wait_states(self.options.time_scale, self._stopping))
        self._undo.append(patch_atomic_dynamodb_writes())
        self._undo.append(patch_trust_policies())  # AssumeRole honours trust policies, as in AWS
        return AwsClients(self._moto.endpoint_url)

    def _serve_api(self, api: HttpApi) -> None:
        try:
            self._gateway = GatewayServer(self.options.port, api)
        except OSError as error:
            where = f"127.0.0.1:{self.options.port}"
            raise OSError(f"cannot serve the API on {where} ({error.strerror}): try another --port") from None
        self._run_in_background(threading.Thread(target=self._gateway.serve_forever, name="gateway", daemon=True))

    def _run_in_background(self, thread: threading.Thread) -> None:
        thread.start()
        self._threads.append(thread)

    def _configure_environment(self, resources: LocalResources) -> None:
        environment = {
            **resources.environment,
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.moto_endpoint,
            settings.ENV_TABLE: resources.table_name,
            settings.ENV_STATE_MACHINE: resources.state_machine_arn,
            settings.ENV_PROFILE: self.options.profile,
            settings.ENV_TIME_SCALE: repr(self.options.time_scale),
            settings.ENV_ALLOW_HTTP_LOOPBACK: "1" if self.options.allow_http_loopback else "0",
            "POWERTOOLS_LOG_LEVEL": "INFO" if self.options.verbose else "WARNING",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        os.environ.update(environment)

    def _restore_state(self, clients: AwsClients) -> StateDirectory | None:
        if self.options.state_dir is None:
            return None
        state = StateDirectory(self.options.state_dir, clients.dynamodb, self.table_name)
        restored = state.restore()
        where = self.options.state_dir
        self._write(f"State: {restored} items restored from {where}" if restored else f"State: kept in {where}")
        return state

    def _create_credentials(self, clients: AwsClients, state: StateDirectory | None) -> None:
        """A platform key, the demo application and its key: given ones, the state directory's, or random ones."""
        store = ApiKeyStore(clients.dynamodb, self.table_name)
        saved = state.saved_keys() if state is not None else {}
        now = utc_now()
        with contextlib.suppress(ConflictError):  # restored from the state directory
            ApplicationStore(clients.dynamodb, self.table_name).create(
                Application(id=DEV_APPLICATION, name="Demo application", created_at=now, updated_at=now)
            )
        api_key = self.options.api_key or saved.get("api_key")
        if api_key and _keep_key(store, new_api_key(DEV_APPLICATION, api_key, DEV_KEY_DESCRIPTION)):
            self.api_key = api_key
        else:
            _, self.api_key = create_api_key(store, DEV_APPLICATION, DEV_KEY_DESCRIPTION)
        platform_key = self.options.platform_key or saved.get("platform_key")
        if platform_key and _keep_key(store, new_api_key(None, platform_key, PLATFORM_KEY_DESCRIPTION)):
            self.platform_key = platform_key
        else:
            _, self.platform_key = create_platform_key(store, PLATFORM_KEY_DESCRIPTION)
        self._api_keys = store
        if state is not None:
            state.keep_keys(api_key=self.api_key, platform_key=self.platform_key)

    def create_api_key(self, application_id: str, description: str = "") -> str:
        """A new API key for `application_id` (in-process use, e.g. tests)."""
        if self._api_keys is None:
            raise RuntimeError("the stack is not started")
        return create_api_key(self._api_keys, application_id, description)[1]

    def stop(self) -> None:
        self._stopping.set()
        if self._gateway is not None:
            self._gateway.shutdown()
            self._gateway.server_close()
        for thread in self._threads:
            thread.join(_SHUTDOWN_JOIN_SECONDS)
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except Exception:
                log.debug("undo during shutdown failed", exc_info=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def describe(stack: LocalStack) -> dict[str, Any]:
    """The stack's endpoints, as JSON-ready data (what `--ready-file` writes)."""
    resources = stack.resources
    return {
        "api_url": stack.api_url,
        "api_key": stack.api_key,
        "platform_key": stack.platform_key,
        "application_id": DEV_APPLICATION,
        "profile": stack.profile_name,
        "time_scale": stack.options.time_scale,
        "aws_endpoint_url": stack.moto_endpoint,
        "region": REGION,
        "table_name": stack.table_name,
        "state_machine_arn": resources.state_machine_arn if resources else "",
        "queues": {logical_id: q.url for logical_id, q in resources.queues.items()} if resources else {},
        "operational_events_url": stack.operational_events_url,
        "pid": os.getpid(),
        "python": sys.executable,
    }
