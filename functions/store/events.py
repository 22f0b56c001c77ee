"""Published events: each row is also what makes publishing it idempotent.

An event is stored once, by the ingest function when it is published (before it is
queued), with `data` as a compact JSON string (DynamoDB numbers would turn floats into
Decimals and lose how they were written) and the fingerprint of the request that
published it; it expires after the profile's event retention. The conditional put of the
row is the idempotency claim, for a caller-chosen event id and for an `Idempotency-Key`
(whose event id is derived from the key: functions/pipeline/publishing.py).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from functions.core.envelope import compact_json
from functions.core.errors import NotFoundError
from functions.core.models import Event
from functions.core.timestamps import stored_timestamp
from functions.store.table import event_key, from_item, to_item


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored, with the fingerprint of the request that published it (None if unknown)."""

    event: Event
    request_hash: str | None


class EventStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _item(self, event: Event, expires_at_epoch: int, request_hash: str | None) -> dict[str, Any]:
        return to_item(
            {
                **event_key(event.application_id, event.id),
                "kind": "event",
                "id": event.id,
                "application_id": event.application_id,
                "type": event.type,
                "data_json": compact_json(event.data),
                "created_at": stored_timestamp(event.created_at),
                "idempotency_key": event.idempotency_key,
                "webhook_id": event.webhook_id,
                "request_hash": request_hash,
                "expires_at_epoch": expires_at_epoch,
            }
        )

    def put_new(self, event: Event, expires_at_epoch: int, request_hash: str | None = None) -> StoredEvent | None:
        """Store the event unless its id is stored already: None when this call stored it, else
        the event already there (one conditional write either way)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._item(event, expires_at_epoch, request_hash),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as existing:
            item = existing.response.get("Item")
            if item:
                return stored_event(item)
            found = self.find_stored(event.application_id, event.id)
            if found is None:  # deleted between the write and the read: try once more
                return self.put_new(event, expires_at_epoch, request_hash)
            return found
        return None

    def forget(self, application_id: str, event_id: str) -> None:
        """Delete an event that never reached the queue (best effort: a failure leaves it stored)."""
        with contextlib.suppress(Exception):
            self._client.delete_item(TableName=self._table, Key=to_item(event_key(application_id, event_id)))

    def find_stored(self, application_id: str, event_id: str, *, consistent: bool = True) -> StoredEvent | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(event_key(application_id, event_id)), ConsistentRead=consistent
        )
        item = response.get("Item")
        return stored_event(item) if item else None

    def find(self, application_id: str, event_id: str) -> Event | None:
        """An event, read eventually consistently (events are written once, before they are queued)."""
        stored = self.find_stored(application_id, event_id, consistent=False)
        return stored.event if stored else None

    def get(self, application_id: str, event_id: str) -> Event:
        event = self.find(application_id, event_id)
        if event is None:
            raise NotFoundError(f"no event {event_id}")
        return event


def stored_event(item: dict[str, Any]) -> StoredEvent:
    document = from_item(item)
    request_hash = document.pop("request_hash", None)
    document["data"] = json.loads(document.pop("data_json", "{}"))
    return StoredEvent(Event.model_validate(document), request_hash)
