"""The single DynamoDB table: key layout and item (de)serialisation.

Every partition key of an application's data starts with the application (`T#<app>`), so
one application's request can never read or write another's items: a foreign id simply is
not found. (`T#` is from when applications were called tenants; the layout is unchanged.)

| item         | pk                     | sk            | gsi1pk                   | gsi1sk        |
|--------------|------------------------|---------------|--------------------------|---------------|
| application  | T#<app>                | APP           | APPS                     | APP#<app id>  |
| app deleted  | T#<app>                | APPDEL        |                          |               |
| webhook      | T#<app>                | WH#<wh id>    |                          |               |
| tombstone    | T#<app>                | WHDEL#<wh id> |                          |               |
| event        | T#<app>#EVT#<evt id>   | EVT           |                          |               |
| idempotency  | T#<app>#IDEM#<key>     | IDEM          |                          |               |
| delivery     | T#<app>#DEL#<del id>   | DEL           | T#<app>#WH#<wh id>       | DEL#<del id>  |
| api key      | KEY#<sha256 of key>    | KEY           | T#<app>#KEYS             | KEY#<key id>  |
| session      | KEY#<sha256 of token>  | KEY           | T#<app>#SESSIONS         | KEY#<key id>  |
| platform key | KEY#<sha256 of key>    | KEY           | PLATFORM#KEYS            | KEY#<key id>  |
| event type   | CATALOG                | TYPE#<name>   |                          |               |
| rate limit   | T#<app>#RL#<wh id>     | RL            |                          |               |

Items that expire carry `expires_at` (epoch seconds), the table's TTL attribute.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

TTL_ATTRIBUTE = "expires_at_epoch"
GSI1 = "gsi1"


def retention_expiry(created_at: datetime, retention_days: int) -> int:
    """Epoch seconds when an event (and its deliveries) expire from the table (its TTL attribute)."""
    return int((created_at + timedelta(days=retention_days)).timestamp())


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


CATALOG_PARTITION = "CATALOG"
"""The deployment's event types (functions/store/event_types.py); no application's key starts like it."""


def event_type_key(name: str) -> dict[str, str]:
    return {"pk": CATALOG_PARTITION, "sk": f"TYPE#{name}"}


def webhook_key(application_id: str, webhook_id: str) -> dict[str, str]:
    return {"pk": f"T#{application_id}", "sk": f"WH#{webhook_id}"}


def tombstone_key(application_id: str, webhook_id: str) -> dict[str, str]:
    """Marks a deleted webhook for a while, so that repeating its DELETE succeeds."""
    return {"pk": f"T#{application_id}", "sk": f"WHDEL#{webhook_id}"}


def webhooks_partition(application_id: str) -> str:
    return f"T#{application_id}"


def event_key(application_id: str, event_id: str) -> dict[str, str]:
    return {"pk": f"T#{application_id}#EVT#{event_id}", "sk": "EVT"}


def delivery_key(application_id: str, delivery_id: str) -> dict[str, str]:
    return {"pk": f"T#{application_id}#DEL#{delivery_id}", "sk": "DEL"}


def delivery_index_keys(application_id: str, webhook_id: str, delivery_id: str) -> dict[str, str]:
    return {"gsi1pk": webhook_deliveries_partition(application_id, webhook_id), "gsi1sk": f"DEL#{delivery_id}"}


def webhook_deliveries_partition(application_id: str, webhook_id: str) -> str:
    return f"T#{application_id}#WH#{webhook_id}"


def rate_limit_key(application_id: str, webhook_id: str) -> dict[str, str]:
    """An endpoint's rate limiter: the next free send slot (functions/store/rate_limits.py)."""
    return {"pk": f"T#{application_id}#RL#{webhook_id}", "sk": "RL"}


def api_key_key(key_hash: str) -> dict[str, str]:
    return {"pk": f"KEY#{key_hash}", "sk": "KEY"}


def credentials_partition(kind: str, application_id: str | None) -> str:
    """The index partition listing one application's keys or sessions, or the platform's keys."""
    if kind == "platform":
        return "PLATFORM#KEYS"
    suffix = "SESSIONS" if kind == "portal_session" else "KEYS"
    return f"T#{application_id}#{suffix}"


def api_key_index_keys(kind: str, application_id: str | None, key_id: str) -> dict[str, str]:
    return {"gsi1pk": credentials_partition(kind, application_id), "gsi1sk": f"KEY#{key_id}"}


def application_key(application_id: str) -> dict[str, str]:
    return {"pk": f"T#{application_id}", "sk": "APP"}


def application_tombstone_key(application_id: str) -> dict[str, str]:
    """Marks a deleted application while its events and deliveries expire: its id is not reused before."""
    return {"pk": f"T#{application_id}", "sk": "APPDEL"}


APPLICATIONS_PARTITION = "APPS"


def application_index_keys(application_id: str) -> dict[str, str]:
    return {"gsi1pk": APPLICATIONS_PARTITION, "gsi1sk": f"APP#{application_id}"}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def _numbers(value: Any) -> Any:
    """`value` with its floats as Decimals (DynamoDB's numbers; the API refuses NaN and infinities)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers(v) for v in value]
    return value


def to_item(document: dict[str, Any]) -> dict[str, Any]:
    """A JSON-compatible document as a DynamoDB item; None values are dropped."""
    return {k: _serializer.serialize(_numbers(v)) for k, v in document.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def to_value(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(value))


def dumps_compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
