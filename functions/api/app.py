"""The HTTP API resolver shared by the management and ingest functions.

Each function builds its resolver from the routers it serves (`build_resolver`), so it
imports only what its routes need; the OpenAPI document is generated from a resolver
holding every router (functions/management/openapi.py). Errors always leave as
`{"error": {"type", "message"}}`; the answers to requests refused before a route runs
(415, oversized integers, 404/405) are in functions/api/edge.py.

Authentication: the Lambda authorizer (functions/authorizer/handler.py) resolves the
bearer credential and passes its kind, application and limits in the request context.
It never denies a request itself, because an HTTP API cannot shape a denial's body; for a
malformed, unknown, revoked or expired credential it passes `auth_error` instead. The guard
below answers 401 (no credential) and 403 (read-only session on a mutating method, platform
route without a platform key) with the error envelope for every route outside PUBLIC_PATHS;
which application a route acts on is decided by the `Application` dependency
(functions/api/auth.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import DependencyResolutionError, Depends
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import APIGatewayProxyEventV2

from functions.api.auth import (
    APPLICATION_PATHS,
    APPLICATIONS_PATH,
    MUTATING_METHODS,
    PLATFORM_ONLY,
    Caller,
    application_of,
    caller_from_event,
    check_access,
    is_platform_write_path,
    scoped_application,
)
from functions.api.auth import directory as auth_directory
from functions.api.edge import (
    JsonBodyValidation,
    RouteTableSource,
    allowed_methods,
    long_integer_error,
    unsupported_media_type_message,
)
from functions.api.responses import ErrorEnvelope
from functions.core.errors import DovecoteError, ForbiddenError, NotFoundError, UnauthorizedError
from functions.core.ids import RESERVED_EVENT_IDS, has_prefix
from functions.runtime.observability import logger as service_logger

if TYPE_CHECKING:
    from functions.core.profile import ApiDialect

logger = service_logger()

API_TITLE = "Dovecote"
MAX_REQUEST_BYTES = 512 * 1024
PUBLIC_PATHS = frozenset({"/v1/openapi.json", "/v1/health"})
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


def _not_json(constant: str) -> Any:
    """NaN and the infinities: Python's parser takes them, JSON (RFC 8259) does not."""
    raise json.JSONDecodeError(f"{constant} is not a JSON value", constant, 0)


def parse_json_body(text: str) -> Any:
    """The body's JSON. One too large is not parsed (the refusal answers 413), one nested too
    deeply for the parser counts as invalid JSON (400): Powertools only expects JSONDecodeError.
    An integer too long to convert is a validation error naming its field (422)."""
    if len(text) > MAX_REQUEST_BYTES:
        raise json.JSONDecodeError("the request body is too large", "", 0)
    try:
        return json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise json.JSONDecodeError("the request body is nested too deeply", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        raise long_integer_error(text) or error from None


def caller_of_request(request: Request) -> Caller:
    event = request.resolved_event
    assert isinstance(event, APIGatewayProxyEventV2)
    return caller_from_event(event)


def current_application(request: Request) -> str:
    """For routes: `application: Application` (a Powertools `Depends`), independent of which resolver runs the route.

    The caller's own application on the bare routes, the path's on `/v1/applications/{application_id}/…`
    (functions/api/auth.py).
    """
    caller = caller_of_request(request)
    application = application_of(caller, request.resolved_event.path, lambda scoped: auth_directory().exists(scoped))
    logger.append_keys(application_id=application)
    return application


def current_platform_caller(request: Request) -> Caller:
    """For platform routes: the caller, who holds a platform key (the guard refused everyone else)."""
    caller = caller_of_request(request)
    if not caller.is_platform:
        raise ForbiddenError(PLATFORM_ONLY)
    return caller


def current_catalog_reader(request: Request) -> str | None:
    """For the deployment-wide catalog's reads: None for a platform key on a bare route, else as `Application`
    (so a scoped route of an unknown application is still 404)."""
    caller = caller_of_request(request)
    if caller.is_platform and scoped_application(request.resolved_event.path) is None:
        return None
    return current_application(request)


Application = Annotated[str, Depends(current_application)]
PlatformCaller = Annotated[Caller, Depends(current_platform_caller)]
CatalogReader = Annotated[str | None, Depends(current_catalog_reader)]


def require_id(identifier: str, prefix: str, noun: str) -> str:
    """A path id of the expected kind; any other string names nothing, so it is not found (404)."""
    if not has_prefix(identifier, prefix):
        raise NotFoundError(f"no {noun} {identifier[:64]}")
    return identifier


def _unauthorized(error: UnauthorizedError) -> Response:
    return error_response(401, error.error_type, error.message, headers={"WWW-Authenticate": "Bearer"})


def _refusal(app: APIGatewayHttpResolver) -> Response | None:
    """413 for an oversized body, else outside PUBLIC_PATHS 401 without a credential and 403 where it
    may not go (functions/api/auth.py); None to go on."""
    body = app.current_event.body
    if body is not None and len(body) > MAX_REQUEST_BYTES:
        return error_response(413, "payload_too_large", f"the request body exceeds {MAX_REQUEST_BYTES} bytes")
    event = app.current_event
    if event.path not in PUBLIC_PATHS:
        try:
            caller = caller_from_event(event)
            check_access(caller, event.request_context.http.method, event.path)
        except UnauthorizedError as error:
            return _unauthorized(error)
        except ForbiddenError as error:
            return error_response(error.status_code, error.error_type, error.message)
        logger.append_keys(credential=caller.credential, api_key_id=caller.key_id)
        if caller.application_id:
            logger.append_keys(application_id=caller.application_id)
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


DialectSource = Callable[[], "ApiDialect"]


class DialectResolver(APIGatewayHttpResolver):
    """A resolver that also serves the profile's API dialect (functions/api/dialect.py): the request is
    translated to /v1 before routing, the answer to the dialect after."""

    def __init__(self, dialect: DialectSource | None, **options: Any) -> None:
        super().__init__(**options)
        self._dialect_source = dialect
        self.dialect_refusal: str | None = None

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self.dialect_refusal = None
        if self._dialect_source is None or event.get("rawPath") in PUBLIC_PATHS:
            return super().resolve(event, context)
        dialect = self._dialect_source()
        if dialect.empty:
            return super().resolve(event, context)
        from functions.api.dialect import translate_request, translate_response, wants_plain_v1  # noqa: PLC0415

        if wants_plain_v1(dict(event)):
            return super().resolve(event, context)
        translated = translate_request(dict(event), dialect)
        self.dialect_refusal = translated.refusal
        return translate_response(super().resolve(translated.event, context), translated, dialect)


def _dialect_refusal(app: APIGatewayHttpResolver) -> Response | None:
    refusal = getattr(app, "dialect_refusal", None)
    return error_response(422, "invalid_request", refusal) if refusal else None


def build_resolver(
    *routers: Router, route_table: RouteTableSource | None = None, dialect: DialectSource | None = None
) -> APIGatewayHttpResolver:
    """A resolver for `routers` whose refusals (413, 401) come before anything else, validation included.

    Powertools validates a request before the middlewares run, so the refusal check runs both
    as a middleware (valid requests) and in the validation-error handler (invalid ones).
    `route_table` lists every route of the API, for the function that answers requests no
    route takes (API Gateway's `$default` route): 405 with `Allow` for a path it knows.
    `dialect` gives the profile's API dialect, served beside /v1 (functions/api/dialect.py).
    """
    app = DialectResolver(dialect, enable_validation=True, json_body_deserializer=parse_json_body)
    app._request_validation_middleware = JsonBodyValidation()  # the one Powertools would run, JSON only

    @app.exception_handler(UnauthorizedError)
    def _unauthorized_error(error: UnauthorizedError) -> Response:
        return _unauthorized(error)

    @app.exception_handler(DovecoteError)
    def _domain_error(error: DovecoteError) -> Response:
        return error_response(error.status_code, error.error_type, error.message)

    @app.exception_handler(DependencyResolutionError)
    def _dependency_refused(error: DependencyResolutionError) -> Response:
        """Powertools wraps what a dependency raises; a refusal from `Application` is still a refusal."""
        cause = error.__cause__
        if isinstance(cause, UnauthorizedError):
            return _unauthorized(cause)
        if isinstance(cause, DovecoteError):
            return error_response(cause.status_code, cause.error_type, cause.message)
        return _unexpected(error)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        refusal = _refusal(app) or _dialect_refusal(app)
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

    def _shadowed(app: APIGatewayHttpResolver) -> Response | None:
        """A route template took a path a more concrete one serves with other methods (GET /v1/events/batch).

        Only a path ending in one of the literal segments that share a position with a path parameter can
        be one, so the route table (built from the OpenAPI document, hundreds of ms) is read for those only."""
        path, method = app.current_event.path, app.current_event.http_method.upper()
        if route_table is None or path.rstrip("/").rpartition("/")[2] not in RESERVED_EVENT_IDS:
            return None
        allowed = allowed_methods(path, route_table())
        return _no_route(app, route_table) if allowed and method not in allowed else None

    def _guard(app: APIGatewayHttpResolver, next_middleware: Any) -> Response:
        return _refusal(app) or _dialect_refusal(app) or _shadowed(app) or next_middleware(app)

    app.use(middlewares=[_guard])
    for router in routers:
        app.include_router(router)
        app.include_router(_scoped_for_platform(router))
    return app


_RULE, _METHODS, _OPERATION_ID = 0, 1, 10
"""Positions in a Powertools route key (Router.route builds it; checked by tests/unit/test_api_auth.py)."""
SCOPED_PREFIX = f"{APPLICATIONS_PATH}/<application_id>"
SCOPED_OPERATION_SUFFIX = "ForApplication"


def _scoped_for_platform(router: Router) -> Router:
    """The router's application routes again under `/v1/applications/<application_id>`, for platform keys.

    Same functions, same shapes; the `Application` dependency reads the application from the path.
    Operation ids get the suffix `ForApplication` so the OpenAPI document keeps them unique. Changes to
    deployment-wide objects (the event-type catalog) are not copied: they belong to no application.
    """
    scoped = Router()
    for route_key, function in router._routes.items():
        rule = route_key[_RULE]
        if not rule.startswith(APPLICATION_PATHS):
            continue
        methods = {route_key[_METHODS]} if isinstance(route_key[_METHODS], str) else set(route_key[_METHODS])
        if is_platform_write_path(rule) and {m.upper() for m in methods} & MUTATING_METHODS:
            continue
        new_key = list(route_key)
        new_key[_RULE] = SCOPED_PREFIX + rule.removeprefix("/v1")
        if route_key[_OPERATION_ID]:
            new_key[_OPERATION_ID] = f"{route_key[_OPERATION_ID]}{SCOPED_OPERATION_SUFFIX}"
        scoped._routes[tuple(new_key)] = function
        scoped._routes_with_middleware[tuple(new_key)] = router._routes_with_middleware.get(route_key, [])
    return scoped
