"""Many items of the table in a few requests (BatchGetItem), for a reader that would otherwise
GetItem each: one deliver batch reads its deliveries, endpoints and events this way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from functions.store.table import to_item

MAX_KEYS_PER_REQUEST = 100
"""DynamoDB's limit for one BatchGetItem."""
MAX_ROUNDS = 3
"""Rounds for the keys DynamoDB leaves unprocessed (under throttling); keys still unread after them
are left to their reader's own GetItem."""

ItemKey = tuple[str, str]
"""(pk, sk)."""


def item_key(key: dict[str, str]) -> ItemKey:
    return key["pk"], key["sk"]


@dataclass
class BatchRead:
    found: dict[ItemKey, dict[str, Any]] = field(default_factory=dict)
    """The items read, as DynamoDB returned them; a key that was read and is not here has no item."""
    unread: set[ItemKey] = field(default_factory=set)
    """Keys DynamoDB did not process: nothing is known about them."""

    def knows(self, key: ItemKey) -> bool:
        return key not in self.unread


class BatchReader:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get_many(self, keys: Iterable[dict[str, str]], *, consistent: bool) -> BatchRead:
        wanted = list(dict.fromkeys(item_key(key) for key in keys))
        read = BatchRead()
        for start in range(0, len(wanted), MAX_KEYS_PER_REQUEST):
            self._read_chunk(wanted[start : start + MAX_KEYS_PER_REQUEST], consistent, read)
        return read

    def _read_chunk(self, keys: list[ItemKey], consistent: bool, read: BatchRead) -> None:
        request: dict[str, Any] = {
            self._table: {
                "Keys": [to_item({"pk": pk, "sk": sk}) for pk, sk in keys],
                "ConsistentRead": consistent,
            }
        }
        for _ in range(MAX_ROUNDS):
            response = self._client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self._table, []):
                read.found[(item["pk"]["S"], item["sk"]["S"])] = item
            request = response.get("UnprocessedKeys") or {}
            if not request.get(self._table, {}).get("Keys"):
                return
        read.unread.update((key["pk"]["S"], key["sk"]["S"]) for key in request[self._table]["Keys"])
