"""The OpenAPI 3.1 document of the whole HTTP API: the management and the ingest routes.

`make openapi` writes it to docs/openapi.json (`python -m functions.management.openapi`);
GET /v1/openapi.json serves the same text, generated on first request from the same code.
The answers are described by the models the routes return (functions/api/responses.py).

Powertools documents its own validation-error body; Dovecote answers every error with
`{"error": {"type", "message"}}`, so the document is corrected to say so, and every status
a route can answer is declared: the ones any route of its kind can answer (`_error_codes`)
and the ones only some operations answer (OPERATION_ERRORS).
"""

# ruff: noqa: PLC0415 - the ingest routes are optional and imported when the document is built

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from pydantic.json_schema import models_json_schema

from functions.api.app import API_TITLE, PUBLIC_PATHS, SCOPED_OPERATION_SUFFIX, build_resolver
from functions.api.responses import ErrorEnvelope
from functions.core.constants import VERSION

BEARER = "apiKey"
DESCRIPTION = (
    "Outbound webhook delivery. Authenticate with `Authorization: Bearer <key>`: a platform key (`dvc_plat_`)"
    " for the platform routes and, under `/v1/applications/{application_id}/…`, any application's routes; an"
    " application key (`dvc_live_`) or portal session (`dvc_sess_`) for its own application's routes under `/v1/…`."
    " A missing, malformed, unknown, revoked or expired credential is answered 401; a credential on a route it"
    " may not use, 403."
)
_COMPONENT_REF = "#/components/schemas/{model}"
_POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
_ERRORS = {
    "400": "The request body is not valid JSON.",
    "401": "No valid API key.",
    "403": "The credential may not use this route: a platform route without a platform key, an application"
    " route with a platform key outside /v1/applications/{application_id}, or a change by a read-only session.",
    "404": "No such object for this API key's application.",
    "409": "The object exists already, or the request conflicts with its state; the message says how.",
    "413": "The request body is too large.",
    "415": "The request body is not JSON (send `Content-Type: application/json`).",
    "422": "The request is invalid; the message names the field.",
    "503": "The request could not be queued and nothing was kept; retry it.",
}
OPERATION_ERRORS: dict[str, tuple[str, ...]] = {
    "createApplication": ("409",),
    "revokePlatformKey": ("409",),
    "publishEvent": ("409", "503"),
    "testWebhook": ("409", "503"),
    "retryDelivery": ("409", "503"),
    "recoverWebhook": ("409", "503"),
    "getOperationalWebhook": ("404",),
    "deleteOperationalWebhook": ("404",),
}
"""Statuses only some operations answer (their copies under /v1/applications/{application_id} too):
409 (an id in use, revoking the key of the request, an id or Idempotency-Key reused for another
event, a disabled webhook, a delivery that is not failed), 503 (a queue refused the message) and 404
on a path without an id (no operational webhook is set)."""


def _routers() -> list[Router]:
    from functions.management.operational_webhook import router as operational
    from functions.management.platform import router as platform
    from functions.management.routes import router as management

    routers = [management, platform, operational]
    try:
        from functions.ingest.routes import router as ingest
    except ImportError:  # the ingest function is optional in a management-only checkout
        return routers
    return [*routers, ingest]


def _operation_errors(operation_id: str) -> tuple[str, ...]:
    return OPERATION_ERRORS.get(operation_id.removesuffix(SCOPED_OPERATION_SUFFIX), ())


_CONSTRAINTS = frozenset({"minLength", "maxLength", "pattern", "minimum", "maximum", "enum", "const"})


def _validated(parameter: dict[str, Any]) -> bool:
    """A query parameter, or a path parameter with a constraint: a value outside it is a 422."""
    schema = parameter.get("schema", {})
    options = [schema, *schema.get("anyOf", [])]
    return parameter["in"] == "query" or any(_CONSTRAINTS & option.keys() for option in options)


def _error_codes(path: str, operation: dict[str, Any]) -> list[str]:
    codes = list(_operation_errors(operation["operationId"]))
    if "requestBody" in operation:
        codes += ["400", "413", "415", "422"]
    elif any(_validated(p) for p in operation.get("parameters", [])):
        codes.append("422")
    if path not in PUBLIC_PATHS:
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    return sorted(set(codes))


_APPLICATION_PARAMETER = {
    "name": "application_id",
    "in": "path",
    "required": True,
    "description": "The application this platform-key call acts for.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_.\\-]+$"},
}


def _with_application_parameter(document: dict[str, Any]) -> dict[str, Any]:
    """Routes mirrored under /v1/applications/{application_id} (functions/api/app.py) read it from the
    path in a dependency, so Powertools does not list it: declare it."""
    for path, operations in document["paths"].items():
        if "{application_id}" not in path:
            continue
        for operation in operations.values():
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == "application_id" and p.get("in") == "path" for p in parameters):
                parameters.insert(0, dict(_APPLICATION_PARAMETER))
    return document


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_references(value) for value in node))
    return set()


def _with_error_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Powertools' own validation-error schemas out, the error envelope in."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _POWERTOOLS_ERROR_SCHEMAS:
        schemas.pop(name, None)
    _, definitions = models_json_schema([(ErrorEnvelope, "serialization")], ref_template=_COMPONENT_REF)
    schemas.update(definitions["$defs"])
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


_GATEWAY_UNAUTHORIZED = {
    "type": "object",
    "description": "API Gateway's own answer to a request with no Authorization header at all.",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}


def _with_error_envelope(document: dict[str, Any]) -> dict[str, Any]:
    envelope_ref = {"$ref": _COMPONENT_REF.format(model=ErrorEnvelope.__name__)}
    envelope = {"application/json": {"schema": envelope_ref}}
    unauthorized = {"application/json": {"schema": {"oneOf": [envelope_ref, _GATEWAY_UNAUTHORIZED]}}}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            responses.pop("422", None)
            for code in _error_codes(path, operation):
                content = unauthorized if code == "401" else envelope
                responses[code] = {"description": _ERRORS[code], "content": content}
    return document


def build_document() -> dict[str, Any]:
    routers = _routers()
    # include_router points each router at the resolver that includes it; put them back so
    # that building this document inside a running function leaves its own resolver in charge.
    previous = [r.api_resolver for r in routers]
    try:
        app = build_resolver(*routers)
        text = app.get_openapi_json_schema(
            title=API_TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes={BEARER: HTTPBearer(description="An API key, e.g. dvc_live_…")},
            security=[{BEARER: []}],
        )
    finally:
        for router, resolver in zip(routers, previous, strict=True):
            router.api_resolver = resolver
    document = json.loads(text)
    document.pop("servers", None)
    document["paths"] = dict(sorted(document["paths"].items()))
    operation_ids = {o["operationId"] for ops in document["paths"].values() for o in ops.values()}
    unknown = set(OPERATION_ERRORS) - operation_ids
    if unknown:
        raise ValueError(f"OPERATION_ERRORS names operations the API does not have: {sorted(unknown)}")
    document = _with_error_schemas(_with_error_envelope(_with_application_parameter(document)))
    known = {_COMPONENT_REF.format(model=name) for name in document["components"]["schemas"]}
    unresolved = _references(document) - known
    if unresolved:
        raise ValueError(f"the OpenAPI document refers to schemas it does not define: {sorted(unresolved)}")
    return document


@cache
def openapi_json() -> str:
    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"


@cache
def route_table() -> dict[str, frozenset[str]]:
    """Every path of the API and its methods, as the document states them."""
    paths = json.loads(openapi_json())["paths"]
    return {path: frozenset(method.upper() for method in operations) for path, operations in paths.items()}


if __name__ == "__main__":
    print(openapi_json(), end="")
