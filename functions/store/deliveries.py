"""Delivery log in DynamoDB: one item per (event, endpoint), attempts embedded.

Read side (the API's delivery log) here; the pipeline's conditional writes live beside
them so that one class owns the item's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from functions.core.errors import NotFoundError
from functions.core.models import Attempt, Delivery, DeliveryStatus
from functions.core.timestamps import stored_timestamp
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
MAX_KEPT_ATTEMPTS = 60
"""A new attempt series drops the oldest attempts beyond this, keeping the item far below 400 KB."""


def attempt_key(series: int, number: int) -> str:
    """Marks an attempt as logged, so a repeated attempt (SQS or Step Functions retry) is logged once."""
    return f"s{series}a{number}"


def with_attempt_keys(item: dict[str, Any]) -> tuple[Delivery, frozenset[str]]:
    """A stored delivery item as the pipeline reads it: the delivery and its logged `attempt_key`s."""
    document = from_item(item)
    return Delivery.model_validate(document), frozenset(document.get("attempt_keys", ()))


class DeliveryStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def item(self, delivery: Delivery, expires_at_epoch: int | None = None) -> dict[str, Any]:
        document = delivery.model_dump(mode="json")
        return to_item(
            {
                **delivery_key(delivery.application_id, delivery.id),
                **delivery_index_keys(delivery.application_id, delivery.webhook_id, delivery.id),
                "kind": "delivery",
                **document,
                "expires_at_epoch": expires_at_epoch,
            }
        )

    def find(self, application_id: str, delivery_id: str) -> Delivery | None:
        found = self.find_with_attempt_keys(application_id, delivery_id)
        return found[0] if found else None

    def get(self, application_id: str, delivery_id: str) -> Delivery:
        delivery = self.find(application_id, delivery_id)
        if delivery is None:
            raise NotFoundError(f"no delivery {delivery_id}")
        return delivery

    def list_for_webhook(
        self,
        application_id: str,
        webhook_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        status: DeliveryStatus | None = None,
        event_type: str | None = None,
        since_id: str | None = None,
    ) -> Page[Delivery]:
        """Newest first; `since_id` bounds the list to deliveries created at or after that id's time."""
        partition = webhook_deliveries_partition(application_id, webhook_id)
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
                {**delivery_key(application_id, last_id), **delivery_index_keys(application_id, webhook_id, last_id)}
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

    # Pipeline writes. Each is conditional on the delivery still being in the state the
    # writer read, so a repeated or late writer changes nothing.

    def find_with_attempt_keys(self, application_id: str, delivery_id: str) -> tuple[Delivery, frozenset[str]] | None:
        """The delivery and the `attempt_key`s of the attempts already logged."""
        response = self._client.get_item(
            TableName=self._table, Key=to_item(delivery_key(application_id, delivery_id)), ConsistentRead=True
        )
        item = response.get("Item")
        return with_attempt_keys(item) if item else None

    def create_with_outcome(
        self, delivery: Delivery, *, attempt_keys: frozenset[str], expires_at_epoch: int | None = None
    ) -> bool:
        """Store a delivery for the first time, with its first attempt (or why it ended unattempted).

        False when it is stored already: another worker got there first, and its row stands.
        """
        item = self.item(delivery, expires_at_epoch)
        if attempt_keys:
            item["attempt_keys"] = {"SS": sorted(attempt_keys)}
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record_attempt(
        self,
        application_id: str,
        delivery_id: str,
        *,
        series: int,
        attempt: Attempt,
        status: DeliveryStatus,
        status_reason: str | None = None,
    ) -> bool:
        """Append `attempt` and move to `status`, only while pending in `series` and not logged yet.

        A pending delivery keeps `next_retry_at` (the attempt's); a final one drops it.
        """
        values: dict[str, Any] = {
            ":attempt": [{**attempt.model_dump(mode="json"), "series": series}],
            ":empty": [],
            ":status": status.value,
            ":now": stored_timestamp(attempt.attempted_at),
            ":pending": DeliveryStatus.PENDING.value,
            ":series": series,
            ":key": attempt_key(series, attempt.number),
            ":keys": {attempt_key(series, attempt.number)},
        }
        assignments = [
            "attempts = list_append(if_not_exists(attempts, :empty), :attempt)",
            "#status = :status",
            "updated_at = :now",
        ]
        removals = []
        if status is DeliveryStatus.PENDING and attempt.next_retry_at is not None:
            assignments.append("next_retry_at = :next")
            values[":next"] = stored_timestamp(attempt.next_retry_at)
        else:
            removals.append("next_retry_at")
        if status_reason is None:
            removals.append("status_reason")
        else:
            assignments.append("status_reason = :reason")
            values[":reason"] = status_reason
        expression = "SET " + ", ".join(assignments) + " ADD attempt_keys :keys"
        if removals:
            expression += " REMOVE " + ", ".join(removals)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(delivery_key(application_id, delivery_id)),
                UpdateExpression=expression,
                ConditionExpression="#status = :pending AND series = :series AND NOT contains(attempt_keys, :key)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(values),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def finish(
        self, application_id: str, delivery_id: str, *, series: int, status: DeliveryStatus, reason: str, now: datetime
    ) -> bool:
        """End a pending delivery of `series` as failed or cancelled; False when it was not pending in it."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(delivery_key(application_id, delivery_id)),
                UpdateExpression="SET #status = :status, status_reason = :reason, updated_at = :now "
                "REMOVE next_retry_at",
                ConditionExpression="#status = :pending AND series = :series",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {
                        ":status": status.value,
                        ":reason": reason,
                        ":now": stored_timestamp(now),
                        ":pending": DeliveryStatus.PENDING.value,
                        ":series": series,
                    }
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def start_series(self, delivery: Delivery, now: datetime) -> Delivery | None:
        """Make a finished delivery pending again in series + 1; None when it changed since it was read."""
        expression = (
            "SET series = :next_series, #status = :pending, next_retry_at = :now, updated_at = :now "
            "REMOVE status_reason"
        )
        surplus = len(delivery.attempts) - MAX_KEPT_ATTEMPTS
        if surplus > 0:
            expression += ", " + ", ".join(f"attempts[{position}]" for position in range(surplus))
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_item(delivery_key(delivery.application_id, delivery.id)),
                UpdateExpression=expression,
                ConditionExpression="#status = :status AND series = :series",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {
                        ":next_series": delivery.series + 1,
                        ":pending": DeliveryStatus.PENDING.value,
                        ":now": stored_timestamp(now),
                        ":status": delivery.status.value,
                        ":series": delivery.series,
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return Delivery.model_validate(from_item(response["Attributes"]))

    def undo_series(self, previous: Delivery, now: datetime) -> bool:
        """Put back the finished state of `previous` when its new series could not be queued."""
        values: dict[str, Any] = {
            ":series": previous.series,
            ":status": previous.status.value,
            ":now": stored_timestamp(now),
            ":new_series": previous.series + 1,
            ":pending": DeliveryStatus.PENDING.value,
            ":first": attempt_key(previous.series + 1, 1),
        }
        expression = "SET series = :series, #status = :status, updated_at = :now"
        if previous.status_reason is not None:
            expression += ", status_reason = :reason"
            values[":reason"] = previous.status_reason
        expression += " REMOVE next_retry_at"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(delivery_key(previous.application_id, previous.id)),
                UpdateExpression=expression,
                ConditionExpression=(
                    "series = :new_series AND #status = :pending AND NOT contains(attempt_keys, :first)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(values),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def iter_pending_for_webhook(self, application_id: str, webhook_id: str) -> Iterator[Delivery]:
        """Every pending delivery of an endpoint (reads the endpoint's whole delivery log)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :del)",
            "FilterExpression": "#status = :pending",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item(
                {
                    ":pk": webhook_deliveries_partition(application_id, webhook_id),
                    ":del": "DEL#",
                    ":pending": DeliveryStatus.PENDING.value,
                }
            ),
        }
        while True:
            response = self._client.query(**kwargs)
            for item in response["Items"]:
                yield Delivery.model_validate(from_item(item))
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
