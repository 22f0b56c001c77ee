"""The OpenAPI prose of every operation, by operation id: functions/api/operations.json is its one home.

A route takes its summary, description, tags, status code and response description from
there: `@router.get("/v1/webhooks", **operation("listWebhooks"))`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

OPERATIONS_FILE = Path(__file__).with_name("operations.json")


@cache
def _operations() -> dict[str, dict[str, Any]]:
    operations: dict[str, dict[str, Any]] = json.loads(OPERATIONS_FILE.read_text(encoding="utf-8"))
    return operations


def operation(operation_id: str) -> dict[str, Any]:
    """The route decorator's documentation arguments of this operation (KeyError for an unknown id)."""
    return {"operation_id": operation_id, **_operations()[operation_id]}
