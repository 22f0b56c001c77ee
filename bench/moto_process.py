"""moto's server in a child process on 127.0.0.1, with the stack's DynamoDB table.

For measurements where AWS must not share this process's CPU and GIL (as DynamoDB does not
share a Lambda function's): the handler runs here, its AWS calls go to the child.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import TracebackType
from typing import Any, Self

import boto3
import requests

from bench.harness import free_port

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench"}
START_TIMEOUT_SECONDS = 30
_STOP_TIMEOUT_SECONDS = 10


class MotoProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                if requests.get(f"{self.endpoint_url}/moto-api/", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("moto's server did not start")
            time.sleep(0.1)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(_STOP_TIMEOUT_SECONDS)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def environment(self) -> dict[str, str]:
        """What a handler in this process needs to reach the child's AWS."""
        return {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def create_table(self, template: dict[str, Any], name: str) -> str:
        """The template's one DynamoDB table (keys, indexes, billing mode), named `name`."""
        tables = [r["Properties"] for r in template["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"]
        if len(tables) != 1:
            raise ValueError(f"expected one DynamoDB table in the template, found {len(tables)}")
        properties = tables[0]
        request = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        for optional in ("GlobalSecondaryIndexes", "ProvisionedThroughput"):
            if optional in properties:
                request[optional] = properties[optional]
        self.client("dynamodb").create_table(**request)
        return name


def apply_environment(values: dict[str, str]) -> dict[str, str | None]:
    """Set `values` in os.environ; returns what was there, for `restore_environment`."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    return saved


def restore_environment(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
