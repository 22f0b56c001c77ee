"""The pipeline's queue messages and Step Functions payloads: ids only, plus the event itself.

- events queue: the event as JSON (`{"tenant_id", "id", "type", "data", "created_at",
  "idempotency_key", "webhook_id"}`), stored by the fan-out function.
- deliveries queue: `{"tenant_id", "delivery_id", "series"}`, attempt 1 of that series.
- retry state machine input: the same three ids; tasks add `action` (and `attempt`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from functions.core.envelope import compact_json
from functions.core.models import Event, iso


@dataclass(frozen=True)
class DeliveryMessage:
    tenant_id: str
    delivery_id: str
    series: int = 1

    def to_json(self) -> str:
        return json.dumps({"tenant_id": self.tenant_id, "delivery_id": self.delivery_id, "series": self.series})

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> DeliveryMessage:
        series = document.get("series", 1)
        if not isinstance(document.get("tenant_id"), str) or not isinstance(document.get("delivery_id"), str):
            raise ValueError("a delivery message needs tenant_id and delivery_id strings")
        if not isinstance(series, int) or isinstance(series, bool) or series < 1:
            raise ValueError("a delivery message's series is a positive integer")
        return cls(document["tenant_id"], document["delivery_id"], series)

    @classmethod
    def from_json(cls, body: str) -> DeliveryMessage:
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("a delivery message is a JSON object")
        return cls.from_document(document)


def event_message(event: Event) -> str:
    return compact_json(
        {
            "tenant_id": event.tenant_id,
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
