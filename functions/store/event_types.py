"""The platform's event types in DynamoDB: one item per registered type, all in one partition.

The catalog is the deployment's, not an application's, so its items live outside every
application's partitions (`CATALOG` / `TYPE#<name>`). An item is either a type the platform
registered (`source: platform`) or its change to a type of the profile (`source: profile`), which
replaces the profile's entry (functions/core/catalog.py merges the two). Schemas and examples are
kept as JSON text: DynamoDB has no floats, a schema's `minimum` may well be one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from functions.core.errors import ConflictError
from functions.core.profile import EventType
from functions.store.table import CATALOG_PARTITION, event_type_key, from_item, to_item

Source = Literal["profile", "platform"]
MAX_CATALOG_PAGES = 50
"""A bound on the pages one listing reads (1 MB each: far more types than a catalog holds)."""


class StoredEventType(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_type: EventType
    source: Source
    updated_at: datetime


class EventTypeStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _item(self, stored: StoredEventType) -> dict[str, Any]:
        event_type = stored.event_type
        return to_item(
            {
                **event_type_key(event_type.name),
                "kind": "event_type",
                "name": event_type.name,
                "description": event_type.description,
                "schema_json": None if event_type.json_schema is None else json.dumps(event_type.json_schema),
                "example_json": None if event_type.example is None else json.dumps(event_type.example),
                "deprecated": event_type.deprecated,
                "source": stored.source,
                "updated_at": stored.updated_at.isoformat(),
            }
        )

    @staticmethod
    def _stored(item: dict[str, Any]) -> StoredEventType:
        document = from_item(item)
        schema_json, example_json = document.get("schema_json"), document.get("example_json")
        event_type = EventType.model_construct(
            name=document["name"],
            description=document.get("description", ""),
            json_schema=None if schema_json is None else json.loads(schema_json),
            example=None if example_json is None else json.loads(example_json),
            deprecated=bool(document.get("deprecated", False)),
        )
        return StoredEventType(
            event_type=event_type, source=document["source"], updated_at=datetime.fromisoformat(document["updated_at"])
        )

    def find(self, name: str) -> StoredEventType | None:
        """Eventually consistent: a change is seen by publishing within a second or so."""
        response = self._client.get_item(TableName=self._table, Key=to_item(event_type_key(name)))
        item = response.get("Item")
        return self._stored(item) if item else None

    def find_consistent(self, name: str) -> StoredEventType | None:
        response = self._client.get_item(TableName=self._table, Key=to_item(event_type_key(name)), ConsistentRead=True)
        item = response.get("Item")
        return self._stored(item) if item else None

    def list(self) -> list[StoredEventType]:
        """Every stored type, in name order."""
        found: list[StoredEventType] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": CATALOG_PARTITION}),
            "ConsistentRead": True,
        }
        for _ in range(MAX_CATALOG_PAGES):
            response = self._client.query(**kwargs)
            found.extend(self._stored(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    def _put(self, stored: StoredEventType, condition: dict[str, Any], conflict: str) -> None:
        """Write the item where `condition` holds; ConflictError(`conflict`) where it does not."""
        try:
            self._client.put_item(TableName=self._table, Item=self._item(stored), **condition)
        except self._client.exceptions.ConditionalCheckFailedException:
            raise ConflictError(conflict) from None

    def create(self, stored: StoredEventType) -> None:
        """ConflictError when the name is taken."""
        absent = {"ConditionExpression": "attribute_not_exists(pk)"}
        self._put(stored, absent, f"event type {stored.event_type.name} already exists")

    def save(self, stored: StoredEventType, *, expected_updated_at: datetime | None) -> None:
        """Replace the item last written at `expected_updated_at` (None: there is none yet).

        ConflictError when another change came first (two PATCHes at once: the later one is refused, not lost).
        """
        if expected_updated_at is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "updated_at = :seen",
                "ExpressionAttributeValues": to_item({":seen": expected_updated_at.isoformat()}),
            }
        changed = f"event type {stored.event_type.name} was changed meanwhile; read it and try again"
        self._put(stored, condition, changed)

    def delete(self, name: str) -> bool:
        """False when there was no such item."""
        try:
            self._client.delete_item(
                TableName=self._table, Key=to_item(event_type_key(name)), ConditionExpression="attribute_exists(pk)"
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True
