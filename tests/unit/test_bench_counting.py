"""The benchmarks' call counting: botocore hooks, callers, request units (moto in-process)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench.instrument import (
    Meter,
    MotoItems,
    current_function,
    instrument_botocore,
    propagate_context_to_thread_pools,
)

REGION = "us-east-1"
TABLE = "bench-counting"


@pytest.fixture
def meter(monkeypatch: pytest.MonkeyPatch) -> Iterator[Meter]:
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        counting = Meter()
        undo = instrument_botocore(counting)
        try:
            boto3.client("dynamodb", region_name=REGION).create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[
                    {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")
                ],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": "gsi1",
                        "KeySchema": [
                            {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                            {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            counting.items = MotoItems()
            yield counting
        finally:
            undo()


def _as(function: str) -> Any:
    return current_function.set(function)


def _delivery(size: int) -> dict[str, Any]:
    return {
        "pk": {"S": "T#t#DEL#del_1"},
        "sk": {"S": "DEL"},
        "gsi1pk": {"S": "T#t#WH#wh_1"},
        "gsi1sk": {"S": "DEL#del_1"},
        "payload": {"S": "x" * size},
    }


def test_calls_are_counted_for_the_running_function_only(meter: Meter) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    meter.start()
    dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "T#t"}, "sk": {"S": "WH#wh_1"}})  # no function: not counted
    token = _as("deliver")
    try:
        dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "T#t"}, "sk": {"S": "WH#wh_1"}}, ConsistentRead=True)
        dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "T#t#EVT#e"}, "sk": {"S": "EVT"}})
    finally:
        current_function.reset(token)
    usage = meter.stop()
    assert usage.total_calls() == 2
    assert usage.calls[("deliver", "dynamodb", "GetItem:webhook")].read_units == 1  # a miss still reads
    assert usage.calls[("deliver", "dynamodb", "GetItem:event")].read_units == 0.5


def test_writes_are_priced_by_item_size_including_the_index(meter: Meter) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    meter.start()
    token = _as("fanout")
    try:
        dynamodb.put_item(TableName=TABLE, Item=_delivery(1500), ConditionExpression="attribute_not_exists(pk)")
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(TableName=TABLE, Item=_delivery(10), ConditionExpression="attribute_not_exists(pk)")
        dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "T#t#DEL#del_1"}, "sk": {"S": "DEL"}},
            UpdateExpression="SET payload = :small",
            ExpressionAttributeValues={":small": {"S": "y"}},
        )
    finally:
        current_function.reset(token)
    usage = meter.stop()
    put = usage.calls[("fanout", "dynamodb", "PutItem:delivery")]
    assert (put.calls, put.errors) == (2, 1)
    # the new ~1.6 KB item: 2 units, and 2 more in gsi1; the failed put still consumes the existing item's 2
    assert put.write_units == 2 + 2 + 2
    assert put.index_write_units == 2
    update = usage.calls[("fanout", "dynamodb", "UpdateItem:delivery")]
    # the larger of before (~1.6 KB) and after (~0.1 KB), plus the index entry as it is after
    assert (update.write_units, update.index_write_units) == (2 + 1, 1)


def test_queries_read_the_items_they_return(meter: Meter) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for number in range(3):
        dynamodb.put_item(
            TableName=TABLE, Item={"pk": {"S": "T#t"}, "sk": {"S": f"WH#wh_{number}"}, "url": {"S": "u" * 2000}}
        )
    meter.start()
    token = _as("fanout")
    try:
        dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :wh)",
            ExpressionAttributeValues={":pk": {"S": "T#t"}, ":wh": {"S": "WH#"}},
        )
    finally:
        current_function.reset(token)
    query = meter.stop().calls[("fanout", "dynamodb", "Query:webhook")]
    assert query.read_units == 1.0  # ~6 KB eventually consistent: 2 x 4 KB halved


def test_a_batch_read_costs_each_key_as_its_get_would(meter: Meter) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.put_item(TableName=TABLE, Item=_delivery(5000))  # 2 units read consistently
    meter.start()
    token = _as("deliver")
    try:
        dynamodb.batch_get_item(
            RequestItems={
                TABLE: {
                    "Keys": [
                        {"pk": {"S": "T#t#DEL#del_1"}, "sk": {"S": "DEL"}},
                        {"pk": {"S": "T#t#DEL#del_2"}, "sk": {"S": "DEL"}},  # no item: still the least read
                        {"pk": {"S": "T#t"}, "sk": {"S": "WH#wh_1"}},
                    ],
                    "ConsistentRead": True,
                }
            }
        )
    finally:
        current_function.reset(token)
    batch = meter.stop().calls[("deliver", "dynamodb", "BatchGetItem:delivery+webhook")]
    assert batch.calls == 1
    assert batch.read_units == 2 + 1 + 1


def test_sqs_chunks_and_the_pollers_requests(meter: Meter) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="bench-counting")["QueueUrl"]
    meter.function_names["Dovecote-Deliver"] = "deliver"
    meter.start()
    token = _as("fanout")
    try:
        entries: list[Any] = [
            {"Id": str(i), "MessageBody": json.dumps({"n": i, "pad": "p" * 20_000})} for i in range(4)
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # ~80 KB: 2 chunks
    finally:
        current_function.reset(token)

    def poll() -> None:
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received["Messages"])],
        )
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)  # empty: an idle poll

    poller = threading.Thread(target=poll, name="poller:Dovecote-Deliver")
    poller.start()
    poller.join(10)
    usage = meter.stop()
    assert usage.calls[("fanout", "sqs", "SendMessageBatch")].billed_requests == 2
    assert usage.calls[("esm:deliver", "sqs", "ReceiveMessage")].calls == 1
    assert usage.calls[("esm:deliver", "sqs", "DeleteMessageBatch")].calls == 1
    assert usage.idle_receives == 1


def test_work_submitted_to_thread_pools_keeps_the_function(meter: Meter) -> None:
    undo = propagate_context_to_thread_pools()
    try:
        token = _as("deliver")
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                seen = list(pool.map(lambda _: current_function.get(), range(4)))
        finally:
            current_function.reset(token)
    finally:
        undo()
    assert seen == ["deliver"] * 4


def test_nothing_is_counted_outside_a_window(meter: Meter) -> None:
    token = _as("deliver")
    try:
        boto3.client("dynamodb", region_name=REGION).get_item(
            TableName=TABLE, Key={"pk": {"S": "T#t"}, "sk": {"S": "WH#x"}}
        )
    finally:
        current_function.reset(token)
    assert meter.usage.total_calls() == 0
