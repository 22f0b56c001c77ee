"""Delivery log in DynamoDB: one item per (event, endpoint), attempts embedded.

Read side (the API's delivery log) here; the pipeline's conditional writes live beside
them so that one class owns the item's shape.
"""

from __future__ import annotations

from typing import Any

from functions.core.errors import NotFoundError
from functions.core.models import Delivery, DeliveryStatus
from functions.store.pagination import Page, decode_cursor, encode_cursor
from functions.store.table import (
    GSI1,
    delivery_index_keys,
    delivery_key,
    from_item,
    to_item,
    webhook_deliveries_partition,
)

_MAX_PAGES_PER_LIST = 20


class DeliveryStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def item(self, delivery: Delivery, expires_at_epoch: int | None = None) -> dict[str, Any]:
        document = delivery.model_dump(mode="json")
        return to_item(
            {
                **delivery_key(delivery.tenant_id, delivery.id),
                **delivery_index_keys(delivery.tenant_id, delivery.webhook_id, delivery.id),
                "kind": "delivery",
                **document,
                "expires_at_epoch": expires_at_epoch,
            }
        )

    def find(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(delivery_key(tenant_id, delivery_id)), ConsistentRead=True
        )
        item = response.get("Item")
        return Delivery.model_validate(from_item(item)) if item else None

    def get(self, tenant_id: str, delivery_id: str) -> Delivery:
        delivery = self.find(tenant_id, delivery_id)
        if delivery is None:
            raise NotFoundError(f"no delivery {delivery_id}")
        return delivery

    def list_for_webhook(
        self,
        tenant_id: str,
        webhook_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        status: DeliveryStatus | None = None,
        event_type: str | None = None,
        since_id: str | None = None,
    ) -> Page[Delivery]:
        """Newest first; `since_id` bounds the list to deliveries created at or after that id's time."""
        partition = webhook_deliveries_partition(tenant_id, webhook_id)
        condition = "gsi1pk = :pk AND begins_with(gsi1sk, :del)"
        values: dict[str, Any] = {":pk": partition, ":del": "DEL#"}
        if since_id:
            condition = "gsi1pk = :pk AND gsi1sk >= :since"
            values = {":pk": partition, ":since": f"DEL#{since_id}"}
        filters, names = [], {}
        if status is not None:
            filters.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = status.value
        if event_type is not None:
            filters.append("event_type = :event_type")
            values[":event_type"] = event_type
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
            kwargs["ExpressionAttributeNames"] = names or None
            if not names:
                del kwargs["ExpressionAttributeNames"]
        if cursor:
            last_id = decode_cursor(cursor, "del")
            kwargs["ExclusiveStartKey"] = to_item(
                {**delivery_key(tenant_id, last_id), **delivery_index_keys(tenant_id, webhook_id, last_id)}
            )
        found: list[Delivery] = []
        for _ in range(_MAX_PAGES_PER_LIST):
            response = self._client.query(**kwargs)
            found.extend(Delivery.model_validate(from_item(i)) for i in response["Items"])
            if len(found) > limit or "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        page = found[:limit]
        more = len(found) > limit or ("LastEvaluatedKey" in response and bool(page))
        return Page(items=page, next_cursor=encode_cursor(page[-1].id) if more and page else None)
