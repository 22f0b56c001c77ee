"""The ingest function: POST /v1/events, and the test, retry and recover routes.

Importing this module builds the route table only; settings, clients and stores are built
by the first request that needs them (functions/ingest/dependencies.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api.app import build_resolver, logger
from functions.ingest.dependencies import reset_dependencies, use_dependencies
from functions.ingest.routes import router

if TYPE_CHECKING:
    from functions.core.profile import ApiDialect

__all__ = ["app", "handler", "reset_dependencies", "use_dependencies"]


def _dialect() -> ApiDialect:
    """The deployment's API dialect: of the profile the settings load (functions/runtime/settings.py)."""
    from functions.runtime.settings import active_profile  # noqa: PLC0415 - the profile is read on first request

    return active_profile().api


app = build_resolver(router, dialect=_dialect)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
