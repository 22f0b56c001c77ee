"""Endpoint rate limiters in DynamoDB: one item per limited endpoint holding its next free send slot.

Slots are handed out in order, `interval_us` apart, by atomic updates (a "next free time" limiter, as
GCRA keeps it): concurrent deliver invocations never get the same slot, so an endpoint's sends,
each made at its slot, are never closer than the interval. An endpoint without a limit has no item
and costs no call. The item expires (TTL) a day after its last reservation.
"""

from __future__ import annotations

from typing import Any

from functions.store.table import TTL_ATTRIBUTE, rate_limit_key, to_item

NEXT_FREE = "next_free_us"
"""Epoch microseconds of the first slot nobody holds."""
KEEP_SECONDS = 86_400


class RateLimitStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def reserve(
        self,
        application_id: str,
        webhook_id: str,
        *,
        count: int,
        interval_us: int,
        earliest_us: int,
        latest_start_us: int | None = None,
    ) -> int | None:
        """Hold `count` consecutive slots, the first at `earliest_us` or later; returns its time (epoch µs).

        None, and nothing held, when the first free slot is later than `latest_start_us`. One write when
        the endpoint has no backlog (its next free slot has passed), two when it has.
        """
        span = count * interval_us
        key = to_item(rate_limit_key(application_id, webhook_id))
        expires = earliest_us // 1_000_000 + KEEP_SECONDS
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET #next = :idle_next, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(#next) OR #next < :earliest",
                ExpressionAttributeNames={"#next": NEXT_FREE, "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues=to_item(
                    {":idle_next": earliest_us + span, ":earliest": earliest_us, ":ttl": expires}
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            pass
        else:
            return earliest_us
        condition = None if latest_start_us is None else "#next <= :latest"
        values: dict[str, Any] = {":span": span, ":ttl": expires + span // 1_000_000}
        if latest_start_us is not None:
            values[":latest"] = latest_start_us
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET #next = #next + :span, #ttl = :ttl",
                ExpressionAttributeNames={"#next": NEXT_FREE, "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues=to_item(values),
                ReturnValues="UPDATED_NEW",
                **({"ConditionExpression": condition} if condition else {}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return int(response["Attributes"][NEXT_FREE]["N"]) - span
