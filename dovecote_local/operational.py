"""The deployer's EventBridge default bus, made visible on the local stack.

Dovecote puts operational events (functions/pipeline/operational.py) on the account's default
bus with source `dovecote`. In AWS a platform routes them with its own rules; locally, the stack
adds one such rule, whose target is an SQS queue of the deployer's account (moto's 123456789012),
so they can be read back:

    python -m dovecote_local.operational --endpoint http://127.0.0.1:PORT   # prints (and removes) them
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import boto3

from dovecote_local.moto_server import FAKE_CREDENTIALS, REGION
from functions.store.event_bus import DEFAULT_BUS, SOURCE

OPERATIONAL_EVENTS_QUEUE = "dovecote-local-operational-events"
OPERATIONAL_EVENTS_RULE = "dovecote-local-operational-events"


def route_default_bus(events: Any, sqs: Any) -> str:
    """A rule on the default bus sending every `dovecote` event to a queue; the queue's URL."""
    queue_url = str(sqs.create_queue(QueueName=OPERATIONAL_EVENTS_QUEUE)["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name=OPERATIONAL_EVENTS_RULE, EventBusName=DEFAULT_BUS, EventPattern=json.dumps({"source": [SOURCE]})
    )
    events.put_targets(
        Rule=OPERATIONAL_EVENTS_RULE, EventBusName=DEFAULT_BUS, Targets=[{"Id": "inbox", "Arn": queue_arn}]
    )
    return queue_url


def read_operational_events(sqs: Any, queue_url: str, max_messages: int = 10) -> list[dict[str, Any]]:
    """The EventBridge events waiting in the queue (`detail-type`, `source`, `detail`), removed from it."""
    response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=0)
    read = []
    for message in response.get("Messages", []):
        read.append(json.loads(message["Body"]))
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return read


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dovecote_local.operational",
        description="print (and remove) the operational events the local stack put on its default event bus",
    )
    parser.add_argument("--endpoint", required=True, help="the local stack's AWS (moto) endpoint")
    args = parser.parse_args(argv)
    sqs = boto3.client(
        "sqs",
        endpoint_url=args.endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    queue_url = str(sqs.get_queue_url(QueueName=OPERATIONAL_EVENTS_QUEUE)["QueueUrl"])
    while events := read_operational_events(sqs, queue_url):
        for event in events:
            print(json.dumps(event, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
