"""A deliver batch reads its deliveries, endpoints and events together (functions/store/batch_reads.py,
functions/pipeline/reads.py): what it read is what a GetItem of each would have read, and what
DynamoDB leaves unprocessed is read one by one instead of being taken for missing."""

from __future__ import annotations

from typing import Any

from functions.core.ids import new_id
from functions.core.models import Delivery, DeliveryStatus, Event, SigningSecret, Webhook
from functions.core.timestamps import utc_now
from functions.pipeline.contract import DeliveryRef
from functions.pipeline.reads import Prefetched, SharedReads
from functions.store.batch_reads import MAX_KEYS_PER_REQUEST, BatchReader, item_key
from functions.store.deliveries import DeliveryStore
from functions.store.events import EventStore
from functions.store.table import delivery_key
from functions.store.webhooks import WebhookStore
from tests.integration.conftest import AwsResources


def _stored_delivery(aws: AwsResources, application: str) -> tuple[Delivery, Event, Webhook]:
    now = utc_now()
    webhook = Webhook(
        id=new_id("wh"),
        application_id=application,
        url="https://receiver.example.com/hook",
        events=["*"],
        secrets=[SigningSecret(value="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
        created_at=now,
        updated_at=now,
    )
    WebhookStore(aws.dynamodb, aws.table_name).create(webhook)
    event = Event(id=new_id("evt"), application_id=application, type="user.created", data={"n": 1}, created_at=now)
    EventStore(aws.dynamodb, aws.table_name).put_new(event, expires_at_epoch=int(now.timestamp()) + 3600)
    delivery = Delivery(
        id=new_id("del"),
        application_id=application,
        webhook_id=webhook.id,
        event_id=event.id,
        event_type=event.type,
        status=DeliveryStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    DeliveryStore(aws.dynamodb, aws.table_name).create_with_outcome(delivery, attempt_keys=frozenset({"s1a1"}))
    return delivery, event, webhook


class _Unprocessing:
    """A DynamoDB client whose BatchGetItem processes only the first `processed` keys of each request."""

    def __init__(self, client: Any, processed: int) -> None:
        self._client = client
        self._processed = processed
        self.batch_requests: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        (table, request), *_ = RequestItems.items()
        keys = request["Keys"]
        self.batch_requests.append(len(keys))
        if self._processed:
            response = self._client.batch_get_item(RequestItems={table: {**request, "Keys": keys[: self._processed]}})
        else:
            response = {"Responses": {}}
        left = keys[self._processed :]
        response["UnprocessedKeys"] = {table: {**request, "Keys": left}} if left else {}
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_more_keys_than_one_request_takes_are_read_in_several(aws: AwsResources) -> None:
    delivery, _, _ = _stored_delivery(aws, "acme")
    absent = [delivery_key("acme", new_id("del")) for _ in range(MAX_KEYS_PER_REQUEST + 20)]
    client = _Unprocessing(aws.dynamodb, processed=MAX_KEYS_PER_REQUEST)
    read = BatchReader(client, aws.table_name).get_many([*absent, delivery_key("acme", delivery.id)], consistent=True)
    assert client.batch_requests == [MAX_KEYS_PER_REQUEST, 21]
    assert list(read.found) == [item_key(delivery_key("acme", delivery.id))]
    assert not read.unread
    assert all(read.knows(item_key(key)) for key in absent)  # read, and not there


def test_keys_left_unprocessed_are_asked_again_then_left_unread(aws: AwsResources) -> None:
    delivery, _, _ = _stored_delivery(aws, "acme")
    other, _, _ = _stored_delivery(aws, "acme")
    keys = [delivery_key("acme", delivery.id), delivery_key("acme", other.id)]

    client = _Unprocessing(aws.dynamodb, processed=1)
    read = BatchReader(client, aws.table_name).get_many(keys, consistent=True)
    assert client.batch_requests == [2, 1]  # the unprocessed key was asked for again
    assert set(read.found) == {item_key(key) for key in keys}

    never = _Unprocessing(aws.dynamodb, processed=0)
    read = BatchReader(never, aws.table_name).get_many(keys, consistent=True)
    assert read.found == {}
    assert read.unread == {item_key(key) for key in keys}
    assert not read.knows(item_key(keys[0]))  # unknown, not missing


def test_a_batch_reads_what_a_get_of_each_would(aws: AwsResources) -> None:
    delivery, event, webhook = _stored_delivery(aws, "acme")
    webhooks, events = WebhookStore(aws.dynamodb, aws.table_name), EventStore(aws.dynamodb, aws.table_name)
    reads = SharedReads(webhooks, events, BatchReader(aws.dynamodb, aws.table_name))
    ref = DeliveryRef(application_id="acme", delivery_id=delivery.id)
    missing = DeliveryRef(application_id="acme", delivery_id=new_id("del"))
    reads.prefetch([ref, missing], {("acme", webhook.id), ("acme", "wh_gone")}, ())

    prefetched = reads.prefetched(ref)
    assert prefetched == Prefetched(
        DeliveryStore(aws.dynamodb, aws.table_name).find_with_attempt_keys("acme", delivery.id)
    )
    assert prefetched is not None
    assert prefetched.found is not None
    assert prefetched.found[1] == frozenset({"s1a1"})
    assert reads.prefetched(ref) is None  # once: a second attempt in the invocation reads the row anew
    assert reads.prefetched(missing) == Prefetched(None)  # read, and not stored yet

    # The endpoints and the event of the row found are known without reading them again.
    webhooks._client = events._client = None  # type: ignore[attr-defined]  # any further read would fail
    assert reads.webhook("acme", webhook.id) == webhook
    assert reads.webhook("acme", "wh_gone") is None
    assert reads.event("acme", event.id) == event


def test_an_unread_delivery_is_not_taken_for_missing(aws: AwsResources) -> None:
    delivery, event, webhook = _stored_delivery(aws, "acme")
    webhooks, events = WebhookStore(aws.dynamodb, aws.table_name), EventStore(aws.dynamodb, aws.table_name)
    reads = SharedReads(webhooks, events, BatchReader(_Unprocessing(aws.dynamodb, processed=0), aws.table_name))
    ref = DeliveryRef(application_id="acme", delivery_id=delivery.id)
    reads.prefetch([ref], {("acme", webhook.id)}, {("acme", event.id)})
    assert reads.prefetched(ref) is None  # nothing known: the attempt reads the row itself
    assert reads.webhook("acme", webhook.id) == webhook  # read one by one
    assert reads.event("acme", event.id) == event


class _Failing(_Unprocessing):
    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        raise self._client.exceptions.ProvisionedThroughputExceededException(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "BatchGetItem"
        )


def test_a_failed_batch_read_leaves_every_read_to_its_attempt(aws: AwsResources) -> None:
    delivery, event, webhook = _stored_delivery(aws, "acme")
    webhooks, events = WebhookStore(aws.dynamodb, aws.table_name), EventStore(aws.dynamodb, aws.table_name)
    reads = SharedReads(webhooks, events, BatchReader(_Failing(aws.dynamodb, processed=0), aws.table_name))
    ref = DeliveryRef(application_id="acme", delivery_id=delivery.id)
    reads.prefetch([ref], {("acme", webhook.id)}, {("acme", event.id)})  # does not raise: only a saving
    assert reads.prefetched(ref) is None
    assert reads.webhook("acme", webhook.id) == webhook
    assert reads.event("acme", event.id) == event
