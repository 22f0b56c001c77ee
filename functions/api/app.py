"""The HTTP API resolver shared by the management and ingest functions.

Each function builds its resolver from the routers it serves (`build_resolver`), so it
imports only what its routes need; the OpenAPI document is generated from a resolver
holding every router (functions/management/openapi.py). Errors always leave as
`{"error": {"type", "message"}}`; the answers to requests refused before a route runs
(415, oversized integers, 404/405) are in functions/api/edge.py.

Authentication: the Lambda authorizer (functions/authorizer/handler.py) resolves the
bearer API key to an application and passes it as `requestContext.authorizer.lambda.application_id`.
It never denies a request itself, because an HTTP API cannot shape a denial's body; for a
malformed, unknown or revoked key it passes `auth_error` instead, and the guard below
answers 401 with the error envelope for every route outside PUBLIC_PATHS.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import APIGatewayProxyEventV2

from functions.api.edge import (
    JsonBodyValidation,
    RouteTableSource,
    allowed_methods,
    long_integer_error,
    unsupported_media_type_message,
)
from functions.api.responses import ErrorEnvelope
from functions.core.errors import DovecoteError, NotFoundError, UnauthorizedError
from functions.core.ids import has_prefix
from functions.runtime.observability import logger as service_logger

logger = service_logger()

API_TITLE = "Dovecote"
MAX_REQUEST_BYTES = 512 * 1024
PUBLIC_PATHS = frozenset({"/v1/openapi.json", "/v1/health"})
_MISSING_KEY = "a valid API key is required (Authorization: Bearer <key>)"
_PYDANTIC_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")


def error_response(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=ErrorEnvelope.of(error_type, message).model_dump_json(),
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
        text = str(problem.get("msg", "invalid value"))
        for prefix in _PYDANTIC_MESSAGE_PREFIXES:
            text = text.removeprefix(prefix)
        if problem.get("type") == "extra_forbidden":
            text = "unknown field"
        messages.append(f"{field}: {text}")
    return 422, "invalid_request", "; ".join(messages)


def parse_json_body(text: str) -> Any:
    """The body's JSON. One too large is not parsed (the refusal answers 413), one nested too
    deeply for the parser counts as invalid JSON (400): Powertools only expects JSONDecodeError.
    An integer too long to convert is a validation error naming its field (422)."""
    if len(text) > MAX_REQUEST_BYTES:
        raise json.JSONDecodeError("the request body is too large", "", 0)
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("the request body is nested too deeply", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        raise long_integer_error(text) or error from None


def application_of(event: APIGatewayProxyEventV2) -> str:
    """The application the authorizer resolved from the API key; UnauthorizedError when there is none."""
    context = event.request_context.authorizer.get_lambda or {}
    application = context.get("application_id")
    if not application:
        raise UnauthorizedError(str(context.get("auth_error") or _MISSING_KEY))
    return str(application)


def current_application(request: Request) -> str:
    """For routes: `application: Application` (a Powertools `Depends`), independent of which resolver runs the route."""
    event = request.resolved_event
    assert isinstance(event, APIGatewayProxyEventV2)
    return application_of(event)


Application = Annotated[str, Depends(current_application)]


def require_id(identifier: str, prefix: str, noun: str) -> str:
    """A path id of the expected kind; any other string names nothing, so it is not found (404)."""
    if not has_prefix(identifier, prefix):
        raise NotFoundError(f"no {noun} {identifier[:64]}")
    return identifier


def _unauthorized(error: UnauthorizedError) -> Response:
    return error_response(401, error.error_type, error.message, headers={"WWW-Authenticate": "Bearer"})


def _refusal(app: APIGatewayHttpResolver) -> Response | None:
    """413 for an oversized body, else 401 without an application outside PUBLIC_PATHS; None to go on."""
    body = app.current_event.body
    if body is not None and len(body) > MAX_REQUEST_BYTES:
        return error_response(413, "payload_too_large", f"the request body exceeds {MAX_REQUEST_BYTES} bytes")
    if app.current_event.path not in PUBLIC_PATHS:
        try:
            logger.append_keys(application_id=application_of(app.current_event))
        except UnauthorizedError as error:
            return _unauthorized(error)
    return None


def _unsupported_media_type(app: APIGatewayHttpResolver) -> Response:
    content_type = app.current_event.headers.get("content-type")
    return error_response(415, "unsupported_media_type", unsupported_media_type_message(content_type))


def _no_route(app: APIGatewayHttpResolver, route_table: RouteTableSource | None) -> Response:
    """404, or 405 with `Allow` when the API serves the path with other methods."""
    path, method = app.current_event.path, app.current_event.http_method.upper()
    allowed = allowed_methods(path, route_table()) if route_table is not None else []
    if allowed and method not in allowed:
        methods = ", ".join(allowed)
        message = f"{method[:16]} is not allowed on this path; use {methods}"
        return error_response(405, "method_not_allowed", message, headers={"Allow": methods})
    return error_response(404, "not_found", "no such route")


def build_resolver(*routers: Router, route_table: RouteTableSource | None = None) -> APIGatewayHttpResolver:
    """A resolver for `routers` whose refusals (413, 401) come before anything else, validation included.

    Powertools validates a request before the middlewares run, so the refusal check runs both
    as a middleware (valid requests) and in the validation-error handler (invalid ones).
    `route_table` lists every route of the API, for the function that answers requests no
    route takes (API Gateway's `$default` route): 405 with `Allow` for a path it knows.
    """
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json_body)
    app._request_validation_middleware = JsonBodyValidation()  # the one Powertools would run, JSON only

    @app.exception_handler(UnauthorizedError)
    def _unauthorized_error(error: UnauthorizedError) -> Response:
        return _unauthorized(error)

    @app.exception_handler(DovecoteError)
    def _domain_error(error: DovecoteError) -> Response:
        return error_response(error.status_code, error.error_type, error.message)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        refusal = _refusal(app)
        if refusal is not None:
            return refusal
        status, error_type, message = _validation_message(error)
        return error_response(status, error_type, message)

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(_: RequestUnsupportedContentType) -> Response:
        return _refusal(app) or _unsupported_media_type(app)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return _no_route(app, route_table)

    @app.exception_handler(UnicodeDecodeError)
    def _undecodable_body(_: UnicodeDecodeError) -> Response:
        return _refusal(app) or error_response(400, "invalid_json", "the request body is not valid UTF-8 JSON")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error", extra={"path": app.current_event.path})
        return error_response(500, "internal_error", "an internal error occurred; it has been logged")

    def _guard(app: APIGatewayHttpResolver, next_middleware: Any) -> Response:
        return _refusal(app) or next_middleware(app)

    app.use(middlewares=[_guard])
    for router in routers:
        app.include_router(router)
    return app
