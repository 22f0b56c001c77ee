"""The deliveries queue's messages: what the fan-out writes is what the deliver function reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from functions.pipeline.contract import DeliveryMessage, NewDelivery
from functions.pipeline.reads import SharedReads

NEW = NewDelivery(
    webhook_id="wh_01jdq3xk5m8n2p4r6t8v0w2y4z",
    event_id="evt_01jdq3xk9z8y7x6w5v4t3s2r1q",
    event_type="task.completed",
    created_at=datetime(2026, 11, 22, 10, 0, 0, 50_000, tzinfo=UTC),
    expires_at=1_797_933_600,
)


def test_a_fanned_out_delivery_message_carries_what_its_row_needs() -> None:
    message = DeliveryMessage(application_id="acme", delivery_id="del_01jdq3xk9ztyce60s09wftvk91", series=1, new=NEW)
    assert DeliveryMessage.model_validate_json(message.to_json()) == message


def test_a_retry_message_carries_ids_only() -> None:
    message = DeliveryMessage(application_id="acme", delivery_id="del_01jdq3xk9ztyce60s09wftvk91", series=3)
    assert json.loads(message.to_json()) == {
        "application_id": "acme",
        "delivery_id": "del_01jdq3xk9ztyce60s09wftvk91",
        "series": 3,
    }
    assert DeliveryMessage.model_validate_json(message.to_json()).new is None


@pytest.mark.parametrize(
    "new",
    [
        "wh_1",
        {"webhook_id": "wh_1", "event_id": "evt_1", "event_type": "a.b", "created_at": "2026-11-22T10:00:00Z"},
        {**NEW.model_dump(mode="json"), "expires_at": "soon"},
        {**NEW.model_dump(mode="json"), "expires_at": True},
        {**NEW.model_dump(mode="json"), "event_id": 7},
    ],
)
def test_a_malformed_new_delivery_is_refused(new: object) -> None:
    body = json.dumps({"application_id": "acme", "delivery_id": "del_x", "series": 1, "new": new})
    with pytest.raises(ValueError, match="new"):
        DeliveryMessage.model_validate_json(body)


class _CountingStore:
    def __init__(self) -> None:
        self.reads: list[tuple[str, str]] = []

    def find(self, application_id: str, object_id: str) -> str:
        self.reads.append((application_id, object_id))
        return f"{application_id}/{object_id}"


def test_shared_reads_load_each_endpoint_and_event_once() -> None:
    webhooks, events = _CountingStore(), _CountingStore()
    reads = SharedReads(webhooks, events)  # type: ignore[arg-type]
    for _ in range(3):
        assert reads.webhook("acme", "wh_1") == "acme/wh_1"
        assert reads.event("acme", "evt_1") == "acme/evt_1"
    assert reads.webhook("globex", "wh_1") == "globex/wh_1"  # keyed by application too
    assert webhooks.reads == [("acme", "wh_1"), ("globex", "wh_1")]
    assert events.reads == [("acme", "evt_1")]
