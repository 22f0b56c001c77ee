"""Published events, and the records that make publishing idempotent.

An event is stored once, by the fan-out function, with `data` as a compact JSON string
(DynamoDB numbers would turn floats into Decimals and lose how they were written); it
expires after the profile's event retention. Publishing itself stores only a small
idempotency record, and only when the caller gave an event id or an Idempotency-Key.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.core.envelope import compact_json
from functions.core.errors import NotFoundError
from functions.core.models import Event
from functions.store.table import event_key, from_item, idempotency_key, to_item


class EventStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, event: Event, expires_at_epoch: int) -> bool:
        """Store the event unless it is stored already; True when this call stored it."""
        item = to_item(
            {
                **event_key(event.tenant_id, event.id),
                "kind": "event",
                "id": event.id,
                "tenant_id": event.tenant_id,
                "type": event.type,
                "data_json": compact_json(event.data),
                "created_at": _timestamp(event.created_at),
                "idempotency_key": event.idempotency_key,
                "webhook_id": event.webhook_id,
                "expires_at_epoch": expires_at_epoch,
            }
        )
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def find(self, tenant_id: str, event_id: str) -> Event | None:
        response = self._client.get_item(TableName=self._table, Key=to_item(event_key(tenant_id, event_id)))
        item = response.get("Item")
        if not item:
            return None
        document = from_item(item)
        document["data"] = json.loads(document.pop("data_json", "{}"))
        return Event.model_validate(document)

    def get(self, tenant_id: str, event_id: str) -> Event:
        event = self.find(tenant_id, event_id)
        if event is None:
            raise NotFoundError(f"no event {event_id}")
        return event


@dataclass(frozen=True)
class PublishClaim:
    """Who published under an idempotency key, and whether the event reached the queue."""

    event_id: str
    event_type: str
    created_at: datetime
    request_hash: str
    claimed_at: datetime
    enqueued: bool = False


class IdempotencyStore:
    """One record per (tenant, key): `id:<event id>` for caller ids, `key:<header>` for Idempotency-Key."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def claim(self, tenant_id: str, key: str, claim: PublishClaim, expires_at_epoch: int) -> PublishClaim | None:
        """Record `claim` under `key`; None when it was recorded, else the claim already there."""
        item = to_item(
            {
                **idempotency_key(tenant_id, key),
                "kind": "idempotency",
                "event_id": claim.event_id,
                "event_type": claim.event_type,
                "created_at": _timestamp(claim.created_at),
                "request_hash": claim.request_hash,
                "claimed_at": _timestamp(claim.claimed_at),
                "enqueued": claim.enqueued,
                "expires_at_epoch": expires_at_epoch,
            }
        )
        for _ in range(3):
            try:
                self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
                return None
            except self._client.exceptions.ConditionalCheckFailedException:
                existing = self.find(tenant_id, key)
                if existing is not None:
                    return existing
                # released between our write and our read: claim again
        raise RuntimeError(f"idempotency key {key!r} keeps changing")

    def find(self, tenant_id: str, key: str) -> PublishClaim | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(idempotency_key(tenant_id, key)), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        document = from_item(item)
        return PublishClaim(
            event_id=document["event_id"],
            event_type=document["event_type"],
            created_at=datetime.fromisoformat(document["created_at"]),
            request_hash=document["request_hash"],
            claimed_at=datetime.fromisoformat(document["claimed_at"]),
            enqueued=bool(document.get("enqueued")),
        )

    def take_over(self, tenant_id: str, key: str, event_id: str, claimed_before: datetime, now: datetime) -> bool:
        """Re-claim an abandoned claim (not enqueued, claimed before `claimed_before`)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(idempotency_key(tenant_id, key)),
                UpdateExpression="SET claimed_at = :now",
                ConditionExpression="event_id = :event_id AND enqueued = :false AND claimed_at < :before",
                ExpressionAttributeValues=to_item(
                    {
                        ":now": _timestamp(now),
                        ":event_id": event_id,
                        ":false": False,
                        ":before": _timestamp(claimed_before),
                    }
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_enqueued(self, tenant_id: str, key: str, event_id: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_item(idempotency_key(tenant_id, key)),
            UpdateExpression="SET enqueued = :true",
            ConditionExpression="event_id = :event_id",
            ExpressionAttributeValues=to_item({":true": True, ":event_id": event_id}),
        )

    def release(self, tenant_id: str, key: str, event_id: str) -> None:
        """Forget a claim whose event never reached the queue, so the caller can try again."""
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.delete_item(
                TableName=self._table,
                Key=to_item(idempotency_key(tenant_id, key)),
                ConditionExpression="event_id = :event_id AND enqueued = :false",
                ExpressionAttributeValues=to_item({":event_id": event_id, ":false": False}),
            )


def _timestamp(moment: datetime) -> str:
    """Fixed-width UTC ISO-8601 with microseconds, so stored timestamps compare as strings."""
    return moment.isoformat(timespec="microseconds")
