"""The management function: webhook, delivery-log, event, catalog and platform routes of the HTTP API.

Importing this module builds the route table only; settings, clients and stores are built
by the first request that needs them (functions/management/dependencies.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api.app import build_resolver, logger
from functions.management.platform import router as platform_router
from functions.management.routes import router

app = build_resolver(router, platform_router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
