"""Webhook endpoints in DynamoDB, scoped by application."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.core.errors import ConflictError, NotFoundError
from functions.core.models import Webhook
from functions.core.timestamps import stored_timestamp
from functions.store.pagination import Page, decode_cursor, encode_cursor
from functions.store.table import TTL_ATTRIBUTE, from_item, to_item, tombstone_key, webhook_key, webhooks_partition


@dataclass(frozen=True)
class Subscription:
    """A webhook as fan-out sees it."""

    id: str
    events: tuple[str, ...]
    enabled: bool
    filter: dict[str, Any] | None = None


def webhook_of(item: dict[str, Any]) -> Webhook:
    return Webhook.model_validate(from_item(item))


class WebhookStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _item(self, webhook: Webhook) -> dict[str, Any]:
        document = webhook.model_dump(mode="json")
        return to_item({**webhook_key(webhook.application_id, webhook.id), "kind": "webhook", **document})

    def create(self, webhook: Webhook) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._item(webhook),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise ConflictError(f"webhook {webhook.id} already exists") from None

    def save(self, webhook: Webhook, *, fields: set[str]) -> None:
        """Write the named fields (and updated_at) of a webhook that exists.

        Field-level, so the pipeline's concurrent health updates (counters, auto-disable)
        are not overwritten by an API update; a concurrently deleted webhook stays deleted.
        """
        document = webhook.model_dump(mode="json", include={*fields, "updated_at"})
        sets = [f"#{name} = :{name}" for name, value in document.items() if value is not None]
        removes = [f"#{name}" for name, value in document.items() if value is None]
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(webhook_key(webhook.application_id, webhook.id)),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={f"#{name}": name for name in document},
                ExpressionAttributeValues=to_item({f":{name}": value for name, value in document.items()}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise NotFoundError(f"no webhook {webhook.id}") from None

    def find(self, application_id: str, webhook_id: str) -> Webhook | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(webhook_key(application_id, webhook_id)), ConsistentRead=True
        )
        item = response.get("Item")
        return webhook_of(item) if item else None

    def get(self, application_id: str, webhook_id: str) -> Webhook:
        webhook = self.find(application_id, webhook_id)
        if webhook is None:
            raise NotFoundError(f"no webhook {webhook_id}")
        return webhook

    def delete(self, application_id: str, webhook_id: str, *, remember_seconds: int) -> bool:
        """Delete a webhook, leaving a tombstone so that a repeated DELETE still succeeds.

        True when the webhook existed or was deleted within `remember_seconds`; False when
        this application never had it (the API answers 404, as for another application's id).
        """
        tombstone = tombstone_key(application_id, webhook_id)
        if self.find(application_id, webhook_id) is not None:
            expires = int(time.time()) + remember_seconds
            self._client.put_item(
                TableName=self._table,
                Item=to_item({**tombstone, "kind": "webhook_tombstone", TTL_ATTRIBUTE: expires}),
            )
            self._client.delete_item(TableName=self._table, Key=to_item(webhook_key(application_id, webhook_id)))
            return True
        response = self._client.get_item(TableName=self._table, Key=to_item(tombstone), ConsistentRead=True)
        return "Item" in response

    def list(self, application_id: str, *, limit: int, cursor: str | None = None) -> Page[Webhook]:
        """Newest first."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :wh)",
            "ExpressionAttributeValues": to_item({":pk": webhooks_partition(application_id), ":wh": "WH#"}),
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = to_item(webhook_key(application_id, decode_cursor(cursor, "wh")))
        items = self._client.query(**kwargs)["Items"]
        webhooks = [Webhook.model_validate(from_item(i)) for i in items[:limit]]
        has_more = len(items) > limit
        return Page(items=webhooks, next_cursor=encode_cursor(webhooks[-1].id) if has_more else None)

    def iter_subscriptions(self, application_id: str) -> Iterator[Subscription]:
        """What fan-out matches on, for every webhook of an application, page by page: only the id,
        the event patterns, the payload filter and whether it is enabled are read (never the URL or the secrets)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :wh)",
            "ProjectionExpression": "#id, #events, #enabled, #filter",
            "ExpressionAttributeNames": {"#id": "id", "#events": "events", "#enabled": "enabled", "#filter": "filter"},
            "ExpressionAttributeValues": to_item({":pk": webhooks_partition(application_id), ":wh": "WH#"}),
        }
        while True:
            response = self._client.query(**kwargs)
            for item in response["Items"]:
                document = from_item(item)
                yield Subscription(
                    id=str(document["id"]),
                    events=tuple(str(pattern) for pattern in document.get("events", ())),
                    enabled=bool(document.get("enabled", True)),
                    filter=document.get("filter"),
                )
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # Pipeline writes: endpoint health. Conditional on the webhook existing, so a deleted
    # webhook is never recreated as a fragment.

    def record_failing_since(self, application_id: str, webhook_id: str, since: datetime) -> None:
        """Start the failing period at `since` unless one is running already."""
        self._update_existing(
            application_id,
            webhook_id,
            "SET failing_since = if_not_exists(failing_since, :since)",
            {":since": stored_timestamp(since)},
        )

    def record_exhausted_delivery(self, application_id: str, webhook_id: str, now: datetime) -> Webhook | None:
        """Count one more delivery that failed every attempt; returns the webhook as it is now."""
        return self._update_existing(
            application_id,
            webhook_id,
            "ADD consecutive_failures :one SET failing_since = if_not_exists(failing_since, :now)",
            {":one": 1, ":now": stored_timestamp(now)},
        )

    def reset_health(self, application_id: str, webhook_id: str) -> None:
        self._update_existing(
            application_id, webhook_id, "SET consecutive_failures = :zero REMOVE failing_since", {":zero": 0}
        )

    def set_application_rate_limit(self, application_id: str, webhook_id: str, limit: int | None) -> None:
        """Copy the application's default rate limit onto one of its webhooks (None removes it)."""
        if limit is None:
            expression, values = "REMOVE application_rate_limit_per_second", None
        else:
            expression, values = "SET application_rate_limit_per_second = :limit", {":limit": limit}
        self._update_existing(application_id, webhook_id, expression, values)

    def disable(self, application_id: str, webhook_id: str, reason: str, now: datetime) -> bool:
        """Disable an enabled webhook with the reason shown on it; False when it was not enabled."""
        key = webhook_key(application_id, webhook_id)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(key),
                UpdateExpression=(
                    "SET enabled = :false, disabled_reason = :reason, disabled_at = :now, updated_at = :now"
                ),
                ConditionExpression="attribute_exists(pk) AND enabled = :true",
                ExpressionAttributeValues=to_item(
                    {":false": False, ":true": True, ":reason": reason, ":now": stored_timestamp(now)}
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _update_existing(
        self, application_id: str, webhook_id: str, expression: str, values: dict[str, Any] | None
    ) -> Webhook | None:
        """Update a webhook that exists: the row after, or None when there is none."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_item(webhook_key(application_id, webhook_id)),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                **({"ExpressionAttributeValues": to_item(values)} if values else {}),
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return Webhook.model_validate(from_item(response["Attributes"]))
