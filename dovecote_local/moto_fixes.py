"""Fixes to moto's speed that change none of its answers, for the local stack and the tests.

- SQS checks each message it hands out against the queue's retention period by computing
  *every* queue attribute, and three of those scan every message in the queue: a receive
  from a queue holding n messages cost O(n) per message returned, so a backlog of a few
  thousand messages slowed every poller to a crawl. The check now reads the one attribute.
- SQS asks for the time twice per message per receive through two datetime conversions
  (`unix_time_millis`); it now reads `time.time()`.
- The server lists moto's package directory (about 150 `isdir` calls) on every request to
  find the backend for a host; the listing is now read once.
- A DynamoDB Query on the base table read and sorted every item of the table; it now reads
  the queried partition only (index queries are unchanged).
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from datetime import datetime
from typing import Any

import moto.backends
import moto.sqs.models
from moto.core.utils import unix_time as _moto_unix_time
from moto.dynamodb.models.table import Table
from moto.sqs.models import Message, SQSBackend

_applied = False
_query_partition = threading.local()


def _unix_time(dt: datetime | None = None) -> float:
    return time.time() if dt is None else _moto_unix_time(dt)


def _unix_time_millis(dt: datetime | None = None) -> float:
    return _unix_time(dt) * 1000.0


def _retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_seconds = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return retention_seconds + message.sent_timestamp / 1000 > _unix_time()  # type: ignore[operator]


@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(_list_of_moto_modules())


_list_of_moto_modules = moto.backends.list_of_moto_modules
_table_query = Table.query
_table_all_items = Table.all_items
_query_signature = inspect.signature(_table_query)


def _partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
    arguments = _query_signature.bind(self, *args, **kwargs).arguments
    _query_partition.key = arguments.get("hash_key") if arguments.get("index_name") is None else None
    try:
        return _table_query(self, *args, **kwargs)
    finally:
        _query_partition.key = None


def _items_of_queried_partition(self: Table) -> list[Any]:
    partition = getattr(_query_partition, "key", None)
    if partition is None or not self.range_key_attr:
        return _table_all_items(self)
    items = list((self.items.get(partition) or {}).values())
    return sorted(items, key=lambda item: (item.hash_key, item.range_key))


def apply_moto_fixes() -> None:
    """Idempotent, never undone: the same answers as moto's own code, without the scans."""
    global _applied  # noqa: PLW0603 - one patch per process
    if _applied:
        return
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign]
    moto.sqs.models.unix_time = _unix_time
    moto.sqs.models.unix_time_millis = _unix_time_millis
    moto.backends.list_of_moto_modules = _moto_modules
    Table.query = _partition_query  # type: ignore[method-assign]
    Table.all_items = _items_of_queried_partition  # type: ignore[method-assign]
    _applied = True
