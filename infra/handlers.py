"""The five functions and their handler strings (pure Python: the local stack imports it too)."""

from __future__ import annotations

from typing import Literal, get_args

FunctionName = Literal["authorizer", "management", "ingest", "fanout", "deliver"]
FUNCTION_NAMES: tuple[FunctionName, ...] = get_args(FunctionName)


def handler_path(name: FunctionName) -> str:
    """The Lambda handler: `functions/<name>/handler.py` defines `handler(event, context)`."""
    return f"functions.{name}.handler.handler"


def service_name(name: FunctionName) -> str:
    """POWERTOOLS_SERVICE_NAME of the function: its logs' `service` and its metrics' `service` dimension."""
    return name


PORTAL_HANDLER = "functions.portal.handler.handler"
"""The consumer portal's function (infra/portal.py): apart from the five, it serves pages, not the pipeline."""
PORTAL_MEMORY_MB = 128
