"""The pipeline's queue messages and Step Functions payloads: ids only, plus the event itself.

- events queue: the event as JSON (`{"application_id", "id", "type", "data", "created_at",
  "idempotency_key", "webhook_id"}`), already stored by the ingest function.
- deliveries queue: `{"application_id", "delivery_id", "series"}`, attempt 1 of that series; from
  the fan-out also `"new": {"webhook_id", "event_id", "event_type", "created_at",
  "expires_at"}`, what the deliver function needs to store the delivery, which it does
  once, with the outcome of its first attempt.
- retry state machine input: the same three ids; tasks add `action` (and `attempt`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.core.envelope import compact_json
from functions.core.models import Event, iso


@dataclass(frozen=True)
class NewDelivery:
    """A delivery the fan-out created but did not store: what its row needs besides the ids."""

    webhook_id: str
    event_id: str
    event_type: str
    created_at: datetime
    expires_at: int
    """Epoch seconds when the delivery expires with its event (the table's TTL)."""

    def to_document(self) -> dict[str, Any]:
        return {
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "created_at": iso(self.created_at),
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_document(cls, document: Any) -> NewDelivery:
        if not isinstance(document, dict):
            raise ValueError("a delivery message's `new` is an object")
        strings = ("webhook_id", "event_id", "event_type", "created_at")
        if not all(isinstance(document.get(name), str) for name in strings):
            raise ValueError(f"a new delivery needs {', '.join(strings)} strings")
        expires_at = document.get("expires_at")
        if not isinstance(expires_at, int) or isinstance(expires_at, bool):
            raise ValueError("a new delivery's expires_at is epoch seconds")
        return cls(
            webhook_id=document["webhook_id"],
            event_id=document["event_id"],
            event_type=document["event_type"],
            created_at=datetime.fromisoformat(document["created_at"]),
            expires_at=expires_at,
        )


@dataclass(frozen=True)
class DeliveryMessage:
    application_id: str
    delivery_id: str
    series: int = 1
    new: NewDelivery | None = None

    def to_json(self) -> str:
        document: dict[str, Any] = {
            "application_id": self.application_id,
            "delivery_id": self.delivery_id,
            "series": self.series,
        }
        if self.new is not None:
            document["new"] = self.new.to_document()
        return json.dumps(document)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> DeliveryMessage:
        series = document.get("series", 1)
        if not isinstance(document.get("application_id"), str) or not isinstance(document.get("delivery_id"), str):
            raise ValueError("a delivery message needs application_id and delivery_id strings")
        if not isinstance(series, int) or isinstance(series, bool) or series < 1:
            raise ValueError("a delivery message's series is a positive integer")
        new = NewDelivery.from_document(document["new"]) if document.get("new") is not None else None
        return cls(document["application_id"], document["delivery_id"], series, new)

    @classmethod
    def from_json(cls, body: str) -> DeliveryMessage:
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("a delivery message is a JSON object")
        return cls.from_document(document)


def event_message(event: Event) -> str:
    return compact_json(
        {
            "application_id": event.application_id,
            "id": event.id,
            "type": event.type,
            "data": event.data,
            "created_at": iso(event.created_at),
            "idempotency_key": event.idempotency_key,
            "webhook_id": event.webhook_id,
        }
    )


def parse_event_message(body: str) -> Event:
    return Event.model_validate(json.loads(body))
