"""JSON Schemas of event types: checking one at registration, validating `data` against it when publishing.

The validator is fastjsonschema: the AWS-managed Powertools layer ships it (its validation utility is
built on it), so the Lambda asset needs nothing more. It is imported here on first use only, so a
function that publishes types without schemas never loads it (tests/integration/test_event_types.py
checks the ingest handler's imports). A compiled validator is kept per schema for the life of the
container: fastjsonschema generates Python code, and compiling it again on every publish would cost
more than validating.

A schema may only refer to itself (`$ref` starting with `#`): fastjsonschema would otherwise fetch
a remote `$ref` over the network, from inside the deployer's account.
"""

# ruff: noqa: PLC0415 - fastjsonschema is imported on first use (ingest cold start)

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from functions.core.errors import InvalidRequestError

MAX_SCHEMA_BYTES = 64 * 1024
"""The largest schema (compact JSON) an event type may carry; the example has the same limit."""
SUPPORTED_DRAFTS = ("draft-04", "draft-06", "draft-07")
_SCHEMA_URIS = {
    "http://json-schema.org/draft-04/schema",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-07/schema",
}


class SchemaError(ValueError):
    """A schema that is not a JSON Schema Dovecote can validate with; the message says why."""


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _refuse_remote(uri: str) -> Any:
    raise SchemaError(f"$ref {uri[:100]!r}: a schema may only refer to its own parts ('#/…')")


@lru_cache(maxsize=256)
def _compiled(schema_json: str) -> Callable[[Any], Any]:
    import fastjsonschema

    schema = json.loads(schema_json)
    handlers = dict.fromkeys(("http", "https", "file", "ftp", "data"), _refuse_remote)
    try:
        return fastjsonschema.compile(schema, handlers=handlers)
    except SchemaError:
        raise
    except fastjsonschema.JsonSchemaDefinitionException as error:
        raise SchemaError(str(error)) from None
    except Exception as error:
        raise SchemaError(f"not a valid JSON Schema ({type(error).__name__}: {str(error)[:100]})") from None


def _key(schema: dict[str, Any] | bool) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def check_schema(schema: Any) -> dict[str, Any] | bool:
    """`schema` if Dovecote can validate events with it; SchemaError naming the fault otherwise."""
    if not isinstance(schema, dict | bool):
        raise SchemaError("must be a JSON Schema: an object (or true / false)")
    text = _key(schema)
    if len(text.encode()) > MAX_SCHEMA_BYTES:
        raise SchemaError(f"is larger than {MAX_SCHEMA_BYTES} bytes")
    if isinstance(schema, dict):
        declared = schema.get("$schema")
        if declared is not None and (not isinstance(declared, str) or declared.rstrip("#") not in _SCHEMA_URIS):
            raise SchemaError(f"$schema: use one of JSON Schema {', '.join(SUPPORTED_DRAFTS)}, or leave it out")
        for reference in _references(schema):
            if not reference.startswith("#"):
                _refuse_remote(reference)
    _compiled(text)
    return schema


def validate_data(schema: dict[str, Any] | bool, data: Any) -> None:
    """InvalidRequestError naming the JSON path under `data` (`data.amount: must be …`) when `data` does not fit."""
    import fastjsonschema

    validate = _compiled(_key(schema))
    try:
        validate(data)
    except fastjsonschema.JsonSchemaValueException as error:
        path = error.name or "data"
        message = error.message.removeprefix(path).strip() or "does not match the event type's schema"
        raise InvalidRequestError(f"{path}: {message} (the event type's schema)") from None
