"""A platform's API dialect (the profile's `api`), served beside /v1 by translation at the edge.

A seed platform documents its own spelling of the management API: another path
(`POST /api/webhooks/create`), a trailing slash, another success status (200 for a create),
other field names (`is_active` for `enabled`, `ms` for `latency_ms`), derived fields
(`success` from a delivery's `status`) and filters (`?success=false` for `?status=failed`).
The profile declares them as data (functions/core/profile.py `ApiDialect`); this module turns a
request in the dialect into the /v1 request before the resolver routes it, and gives the
answer the dialect's names after it. So the /v1 routes, bodies and response models stay the
only implementation, the /v1 API answers as it always does (answers only gain the dialect's
fields, beside the /v1 ones), and no route knows which platform it serves.

A translation that cannot be made (an unknown filter value, a field sent under both names)
is a refusal the resolver answers after its own credential checks, like a validation error.
A dialect's field never replaces a /v1 field of the same name (MUTX's `attempts`, a count on
its delivery list, is left out of Dovecote's delivery read, whose `attempts` is the attempt
list). Dovecote's own clients (the SDK, the CLI) send `Dovecote-Dialect: none` and get the
/v1 answer exactly.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from functions.core.profile import ApiDialect, ApiObject, FieldAlias

PLAIN_HEADER = "dovecote-dialect"
"""`Dovecote-Dialect: none`: the request is /v1 and wants the /v1 answer, whatever the profile's dialect."""
_SCOPED_PREFIX = re.compile(r"^/v1/applications/[^/]+(?=/)")
_BODY_OBJECTS: dict[tuple[str, str], ApiObject] = {
    ("POST", "/v1/webhooks"): "webhook",
    ("PATCH", "/v1/webhooks/{id}"): "webhook",
}
"""Which API object a /v1 route's request body describes (for the dialect's request field names)."""


@lru_cache(maxsize=256)
def _template(path: str) -> re.Pattern[str]:
    """`/v1/webhooks/{id}` as a regular expression naming its parameters."""
    parts = re.split(r"(\{[a-z_]+\})", path)
    pattern = "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{pattern}$")


def _fill(path: str, parameters: dict[str, str]) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda match: parameters[match.group(1)], path)


def _matches(template: str, path: str) -> bool:
    return _template(template).match(path) is not None


@dataclass
class Translated:
    """A request after translation: the /v1 event, and what the answer's translation needs."""

    event: dict[str, Any]
    method: str
    path: str
    """The /v1 path (without the platform's /v1/applications/{app} prefix)."""
    renamed: dict[str, str] = field(default_factory=dict)
    """/v1 field → the dialect's name the request used, to name it in error messages."""
    refusal: str | None = None
    """Why the request cannot be translated: answered 422 once the credential checks passed."""
    alias_methods: list[str] = field(default_factory=list)
    """The methods the dialect serves on this path when the request's is not one of them (for 405)."""


def wants_plain_v1(event: dict[str, Any]) -> bool:
    headers = event.get("headers") or {}
    return any(name.lower() == PLAIN_HEADER and str(value).lower() == "none" for name, value in headers.items())


def translate_request(event: dict[str, Any], dialect: ApiDialect) -> Translated:
    """The /v1 request `event` stands for (a copy; `event` is not changed)."""
    event = {**event, "requestContext": {**event.get("requestContext", {})}}
    http = dict(event["requestContext"].get("http", {}))
    method = str(http.get("method", "")).upper()
    path = str(event.get("rawPath") or http.get("path") or "/")
    for alias in dialect.routes:
        if alias.method == method:
            found = _template(alias.path).match(path)
            if found:
                path = _fill(alias.route, found.groupdict())
                event["rawPath"] = path
                http["path"] = path
                event["routeKey"] = f"{method} {alias.route}"
                break
    event["requestContext"]["http"] = http
    other_methods: list[str] = sorted(
        {a.method for a in dialect.routes if a.method != method and _template(a.path).match(path)}
    )
    unscoped = _SCOPED_PREFIX.sub("/v1", path, count=1) if path.startswith("/v1/applications/") else path
    translated = Translated(event=event, method=method, path=unscoped, alias_methods=other_methods)
    if dialect.filters:
        _translate_query(translated, dialect)
    body_object = next(
        (kind for (m, template), kind in _BODY_OBJECTS.items() if m == method and _matches(template, unscoped)), None
    )
    aliases = [a for a in dialect.fields.get(body_object, []) if a.values is None] if body_object else []
    if aliases and event.get("body"):
        _translate_body(translated, aliases)
    return translated


def _translate_query(translated: Translated, dialect: ApiDialect) -> None:
    event = translated.event
    raw = str(event.get("rawQueryString") or "")
    parameters = dict(event.get("queryStringParameters") or {})
    pairs = parse_qsl(raw, keep_blank_values=True)
    changed = False
    for alias in dialect.filters:
        if alias.name not in parameters:
            continue
        value = parameters.pop(alias.name)
        if alias.values is not None:
            if value not in alias.values:
                allowed = ", ".join(alias.values)
                translated.refusal = f"{alias.name}: must be one of {allowed}"
                return
            value = alias.values[value]
        if alias.param in parameters and parameters[alias.param] != value:
            translated.refusal = f"{alias.name}: contradicts {alias.param}; send one of them"
            return
        parameters[alias.param] = value
        pairs = [(k, v) for k, v in pairs if k not in (alias.name, alias.param)] + [(alias.param, value)]
        changed = True
    if changed:
        event["queryStringParameters"] = parameters
        event["rawQueryString"] = urlencode(pairs)


def _translate_body(translated: Translated, aliases: list[FieldAlias]) -> None:
    event = translated.event
    body = event["body"]
    try:
        text = base64.b64decode(body).decode("utf-8") if event.get("isBase64Encoded") else body
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return  # the resolver answers it (400 invalid_json)
    if not isinstance(document, dict) or not any(a.name in document for a in aliases):
        return
    for alias in aliases:
        if alias.name not in document:
            continue
        if alias.field in document:
            translated.refusal = f"{alias.name}: is {alias.field} under another name; send one of them"
            return
        document = {alias.field if key == alias.name else key: value for key, value in document.items()}
        translated.renamed[alias.field] = alias.name
    event["body"] = json.dumps(document, ensure_ascii=False)
    event["isBase64Encoded"] = False


def translate_response(result: dict[str, Any], translated: Translated, dialect: ApiDialect) -> dict[str, Any]:
    """The resolver's answer in the dialect: its success status, its field names beside /v1's."""
    status = int(result.get("statusCode", 200))
    if status == 404 and translated.alias_methods:
        allowed = ", ".join(translated.alias_methods)
        message = f"{translated.method[:16]} is not allowed on this path; use {allowed}"
        refusal = {"error": {"type": "method_not_allowed", "message": message}}
        headers = {**(result.get("headers") or {}), "Allow": allowed}
        return {**result, "statusCode": 405, "headers": headers, "body": json.dumps(refusal, separators=(",", ":"))}
    if 200 <= status <= 299:
        for key, replacement in dialect.statuses.items():
            method, _, template = key.partition(" ")
            if method == translated.method and _matches(template, translated.path):
                result = {**result, "statusCode": replacement}
                break
    body = result.get("body")
    if not body or result.get("isBase64Encoded"):
        return result
    if 200 <= status <= 299 and dialect.fields:
        document = json.loads(body)
        return {**result, "body": json.dumps(_with_aliases(document, dialect), separators=(",", ":"))}
    if status == 422 and translated.renamed:
        document = json.loads(body)
        error = document.get("error") if isinstance(document, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            message = error["message"]
            for canonical, name in translated.renamed.items():
                message = re.sub(rf"(^|; ){re.escape(canonical)}(?=[:.])", rf"\g<1>{name}", message)
            document = {**document, "error": {**error, "message": message}}
            return {**result, "body": json.dumps(document, separators=(",", ":"))}
    return result


def _value_key(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _with_aliases(value: Any, dialect: ApiDialect) -> Any:
    if isinstance(value, list):
        return [_with_aliases(item, dialect) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("object")
    aliases = dialect.fields.get(kind, []) if kind in ("webhook", "delivery", "event") else []
    by_field: dict[str, list[FieldAlias]] = {}
    for alias in aliases:
        by_field.setdefault(alias.field, []).append(alias)
    out: dict[str, Any] = {}
    for key, item in value.items():
        out[key] = _with_aliases(item, dialect)
        for alias in by_field.get(key, []):
            if alias.name not in value:  # never in place of a /v1 field
                out[alias.name] = item if alias.values is None else alias.values.get(_value_key(item))
    return out
