"""Requests the API refuses before a route runs, and how it says so.

- a body that is not JSON by its Content-Type: 415;
- a JSON integer longer than Python converts (`sys.get_int_max_str_digits()`, 4,300 digits):
  422 naming the field, never a 500;
- a request no route takes: API Gateway's `$default` route (infra/routes.py) sends every
  request that matches no route to one function, which answers 405 with `Allow` when the
  path exists with other methods, else 404.

functions/api/app.py registers these answers on every resolver.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any

from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

JSON_CONTENT_TYPE = "application/json"

RouteTable = Mapping[str, Collection[str]]
"""Path templates (`/v1/webhooks/{webhook_id}`) and the methods the API serves on each."""
RouteTableSource = Callable[[], RouteTable]


def is_json_content_type(content_type: str | None) -> bool:
    """What Powertools parses as JSON: no Content-Type, or application/json with any parameters."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type in ("", JSON_CONTENT_TYPE)


def unsupported_media_type_message(content_type: str | None) -> str:
    shown = (content_type or "").split(";", 1)[0].strip()[:100]
    return f"the request body must be JSON (Content-Type: {JSON_CONTENT_TYPE}), not {shown}"


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading JSON bodies only.

    Powertools also parses form and multipart bodies (and raises a bare ValueError on a
    multipart Content-Type without a boundary); the API takes JSON only, so any other
    Content-Type of a route with a body is RequestUnsupportedContentType (415) before parsing.
    Every body of the API is a JSON object: any other JSON value is a 422.
    """

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type")
        if not is_json_content_type(content_type):
            problem = {"type": "unsupported_content_type", "loc": ("body",), "msg": "not JSON", "input": {}}
            raise RequestUnsupportedContentType(unsupported_media_type_message(content_type), errors=[problem])
        body = super()._get_body(app)
        if body is not None and not isinstance(body, dict):
            # Powertools would read a list as repeated form values: `[null]` as no body at all.
            problem = {"type": "model_type", "loc": ("body",), "msg": "must be a JSON object", "input": {}}
            raise RequestValidationError([problem])
        return body


class _LongInteger(str):
    """An integer literal too long to convert, kept as its text to find where it is."""


def _integer_or_marker(digits: str) -> int | _LongInteger:
    if len(digits.lstrip("-")) > sys.get_int_max_str_digits():
        return _LongInteger(digits)
    return int(digits)


def _path_of_long_integer(node: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    if isinstance(node, _LongInteger):
        return path
    children: Any = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        found = _path_of_long_integer(child, (*path, key))
        if found is not None:
            return found
    return None


def long_integer_error(text: str) -> RequestValidationError | None:
    """The validation error naming the integer of `text` that is too long to convert, if there is one.

    Called only once `json.loads` has refused `text` with a ValueError that is not a decode error,
    so the happy path never pays for the second parse.
    """
    try:
        document = json.loads(text, parse_int=_integer_or_marker)
    except ValueError:
        return None
    path = _path_of_long_integer(document)
    if path is None:
        return None
    limit = sys.get_int_max_str_digits()
    problem = {
        "type": "int_too_long",
        "loc": ("body", *path),
        "msg": f"an integer of more than {limit:,} digits is not accepted",
        "input": {},
    }
    return RequestValidationError([problem])


def _template_matches(template: str, path: str) -> bool:
    expected, actual = template.strip("/").split("/"), path.strip("/").split("/")
    if len(expected) != len(actual):
        return False
    return all(
        (part.startswith("{") and part.endswith("}") and segment) or part == segment
        for part, segment in zip(expected, actual, strict=True)
    )


def allowed_methods(path: str, routes: RouteTable) -> list[str]:
    """The methods served on `path`, upper-case and sorted; empty when no route has that path.

    As OpenAPI matches paths, the most concrete templates win: `/v1/events/batch` is served by
    its own route only (POST), not by `/v1/events/{event_id}` (GET)."""
    matching = [template for template in routes if _template_matches(template, path)]
    if not matching:
        return []
    fewest = min(template.count("{") for template in matching)
    return sorted(
        {method.upper() for template in matching if template.count("{") == fewest for method in routes[template]}
    )
