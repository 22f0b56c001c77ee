"""Applications in DynamoDB: one item per customer of the platform, listed through an index.

A deleted application leaves a tombstone for the event retention period, while its events
and deliveries expire, so that its id is not handed out again before its data is gone: a
new application with that id could otherwise read them by id.
"""

from __future__ import annotations

import time
from typing import Any

from functions.core.errors import ConflictError, NotFoundError
from functions.core.models import Application
from functions.store.pagination import Page, decode_cursor, encode_cursor
from functions.store.table import (
    APPLICATIONS_PARTITION,
    GSI1,
    TTL_ATTRIBUTE,
    application_index_keys,
    application_key,
    application_tombstone_key,
    from_item,
    to_item,
)


class ApplicationStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _item(self, application: Application) -> dict[str, Any]:
        return to_item(
            {
                **application_key(application.id),
                **application_index_keys(application.id),
                "kind": "application",
                **application.model_dump(mode="json"),
            }
        )

    def create(self, application: Application) -> None:
        """ConflictError when the id is taken, or was deleted and its data has not expired yet."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._item(application),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": to_item(application_tombstone_key(application.id)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise ConflictError(f"application {application.id} already exists") from None
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise ConflictError(
                    f"application {application.id} was deleted recently; its id is free again once its "
                    "events and deliveries have expired"
                ) from None
            raise

    def find(self, application_id: str) -> Application | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(application_key(application_id)), ConsistentRead=True
        )
        item = response.get("Item")
        return Application.model_validate(from_item(item)) if item else None

    def get(self, application_id: str) -> Application:
        application = self.find(application_id)
        if application is None:
            raise NotFoundError(f"no application {application_id[:64]}")
        return application

    def list(self, *, limit: int, cursor: str | None = None) -> Page[Application]:
        """In id order."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :app)",
            "ExpressionAttributeValues": to_item({":pk": APPLICATIONS_PARTITION, ":app": "APP#"}),
            "Limit": limit + 1,
        }
        if cursor:
            last_id = decode_cursor(cursor)
            kwargs["ExclusiveStartKey"] = to_item({**application_key(last_id), **application_index_keys(last_id)})
        response = self._client.query(**kwargs)
        found = [Application.model_validate(from_item(item)) for item in response["Items"]]
        page = found[:limit]
        more = len(found) > limit
        return Page(items=page, next_cursor=encode_cursor(page[-1].id) if more and page else None)

    def save(self, application: Application) -> None:
        """Replace an existing application's item (NotFoundError once it is deleted)."""
        try:
            self._client.put_item(
                TableName=self._table, Item=self._item(application), ConditionExpression="attribute_exists(pk)"
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise NotFoundError(f"no application {application.id}") from None

    def delete(self, application_id: str, *, remember_seconds: int) -> bool:
        """Remove the application, leaving its tombstone; False when there was none to delete."""
        tombstone = {
            **application_tombstone_key(application_id),
            "kind": "application_tombstone",
            TTL_ATTRIBUTE: int(time.time()) + remember_seconds,
        }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": to_item(application_key(application_id)),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": to_item(tombstone)}},
                ]
            )
        except self._client.exceptions.TransactionCanceledException:
            return False
        return True
