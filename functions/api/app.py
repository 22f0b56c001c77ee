"""The HTTP API resolver shared by the management and ingest functions.

Each function builds its resolver from the routers it serves (`build_resolver`), so it
imports only what its routes need; the OpenAPI document is generated from a resolver
holding every router. Errors always leave as `{"error": {"type", "message"}}`.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from functions.core.errors import DovecoteError, UnauthorizedError

logger = Logger(service="dovecote")

API_TITLE = "Dovecote"
API_VERSION = "1.0.0"
MAX_REQUEST_BYTES = 512 * 1024
PUBLIC_PATHS = frozenset({"/v1/openapi.json", "/v1/health"})


def error_response(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": {"type": error_type, "message": message}}),
        headers=headers,
    )


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_message(error: RequestValidationError) -> tuple[int, str, str]:
    problems = error.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return 400, "invalid_json", "the request body is not valid JSON"
    messages = []
    for problem in problems[:5]:
        field = _field_path(tuple(problem.get("loc", ())))
        text = problem.get("msg", "invalid value")
        if problem.get("type") == "extra_forbidden":
            text = "unknown field"
        messages.append(f"{field}: {text}")
    return 422, "invalid_request", "; ".join(messages)


def tenant_id(app: APIGatewayHttpResolver) -> str:
    """The tenant the authorizer resolved from the API key; 401 when there is none."""
    context = app.current_event.request_context.authorizer.get_lambda or {}
    tenant = context.get("tenant_id")
    if not tenant:
        reason = context.get("auth_error") or "a valid API key is required (Authorization: Bearer <key>)"
        raise UnauthorizedError(str(reason))
    return str(tenant)


def build_resolver(*routers: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(DovecoteError)
    def _domain_error(error: DovecoteError) -> Response:
        return error_response(error.status_code, error.error_type, error.message)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        status, error_type, message = _validation_message(error)
        return error_response(status, error_type, message)

    @app.not_found
    def _no_route(_: Exception) -> Response:
        return error_response(404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error", extra={"path": app.current_event.path})
        return error_response(500, "internal_error", "an internal error occurred; it has been logged")

    def _guard(app: APIGatewayHttpResolver, next_middleware: Any) -> Response:
        body = app.current_event.body
        if body is not None and len(body) > MAX_REQUEST_BYTES:
            return error_response(413, "payload_too_large", f"the request body exceeds {MAX_REQUEST_BYTES} bytes")
        if app.current_event.path not in PUBLIC_PATHS:
            try:
                tenant_id(app)
            except UnauthorizedError as error:
                return error_response(401, error.error_type, error.message)
        return next_middleware(app)

    app.use(middlewares=[_guard])
    for router in routers:
        app.include_router(router)
    return app
