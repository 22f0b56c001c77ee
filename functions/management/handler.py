"""The management function: webhook, delivery-log, event, catalog and platform routes of the HTTP API.

It is also the target of API Gateway's `$default` route (infra/routes.py): a request no
route takes is answered 405 with `Allow` when the API serves its path, else 404.

Importing this module builds the route table only; settings, clients and stores are built
by the first request that needs them (functions/management/dependencies.py), and the
whole API's route table by the first request no route takes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api.app import build_resolver, logger
from functions.management.operational_webhook import router as operational_router
from functions.management.platform import router as platform_router
from functions.management.routes import router

if TYPE_CHECKING:
    from functions.core.profile import ApiDialect


def _route_table() -> Mapping[str, Collection[str]]:
    from functions.management.openapi import route_table  # noqa: PLC0415 - only a request no route takes needs it

    return route_table()


def _dialect() -> ApiDialect:
    """The deployment's API dialect: of the profile the settings load (functions/runtime/settings.py)."""
    from functions.runtime.settings import active_profile  # noqa: PLC0415 - the profile is read on first request

    return active_profile().api


app = build_resolver(router, platform_router, operational_router, route_table=_route_table, dialect=_dialect)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
