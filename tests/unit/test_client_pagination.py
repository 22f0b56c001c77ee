"""List pages walk the following pages by `next_cursor`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dovecote import Dovecote, ListPage, Webhook
from tests.unit.test_client_fake_api import FakeApi, delivery_json, list_json, webhook_json


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with FakeApi() as fake:
        fake.add("GET", "/v1/webhooks", body=list_json([webhook_json("wh_1"), webhook_json("wh_2")], "c2"))
        fake.add("GET", "/v1/webhooks", body=list_json([webhook_json("wh_3")], "c3"), query={"cursor": "c2"})
        fake.add("GET", "/v1/webhooks", body=list_json([webhook_json("wh_4")]), query={"cursor": "c3"})
        yield fake


def test_iterating_a_page_walks_every_page(api: FakeApi, client: Dovecote) -> None:
    ids = [webhook.id for webhook in client.webhooks.list(limit=2)]
    assert ids == ["wh_1", "wh_2", "wh_3", "wh_4"]
    assert [request.query for request in api.requests] == [
        {"limit": ["2"]},
        {"limit": ["2"], "cursor": ["c2"]},
        {"limit": ["2"], "cursor": ["c3"]},
    ]


def test_data_is_this_page_only_and_nothing_more_is_fetched(api: FakeApi, client: Dovecote) -> None:
    page = client.webhooks.list()
    assert isinstance(page, ListPage)
    assert [webhook.id for webhook in page.data] == ["wh_1", "wh_2"]
    assert (page.has_more, page.next_cursor) == (True, "c2")
    assert len(api.requests) == 1


def test_auto_paging_iter_is_lazy(api: FakeApi, client: Dovecote) -> None:
    items = client.webhooks.list().auto_paging_iter()
    first: Webhook = next(items)
    assert first.id == "wh_1"
    assert len(api.requests) == 1
    assert [webhook.id for webhook in items] == ["wh_2", "wh_3", "wh_4"]
    assert len(api.requests) == 3


def test_next_page_and_iter_pages(client: Dovecote) -> None:
    page = client.webhooks.list(cursor="c3")
    assert page.has_next_page() is False
    assert page.next_page() is None
    pages = list(client.webhooks.list().iter_pages())
    assert [[webhook.id for webhook in page.data] for page in pages] == [["wh_1", "wh_2"], ["wh_3"], ["wh_4"]]


def test_delivery_filters_are_kept_on_every_page(api: FakeApi, client: Dovecote) -> None:
    path = "/v1/webhooks/wh_1/deliveries"
    api.add("GET", path, body=list_json([delivery_json("del_1")], "d2"))
    api.add("GET", path, body=list_json([delivery_json("del_2")]), query={"cursor": "d2"})
    ids = [delivery.id for delivery in client.webhooks.deliveries("wh_1", status="failed", event="order.created")]
    assert ids == ["del_1", "del_2"]
    assert api.requests_to("GET", path)[1].query == {
        "status": ["failed"],
        "event": ["order.created"],
        "cursor": ["d2"],
    }


def test_page_to_dict_is_the_json_as_sent(client: Dovecote) -> None:
    document = client.webhooks.list().to_dict()
    assert document["object"] == "list"
    assert document["next_cursor"] == "c2"
    assert [item["id"] for item in document["data"]] == ["wh_1", "wh_2"]
