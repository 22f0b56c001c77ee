"""AsyncDovecote: the same calls, awaitable."""

from __future__ import annotations

import asyncio

import pytest

from dovecote import AsyncDovecote, AsyncListPage, NotFoundError, Webhook, WebhookWithSecret
from dovecote import _transport as transport
from tests.unit.test_client_fake_api import FakeApi, error_json, list_json, webhook_json


def test_async_calls_send_the_same_requests(api: FakeApi) -> None:
    api.add("POST", "/v1/webhooks", 201, webhook_json("wh_1", secret="whsec_a"))
    api.add("GET", "/v1/webhooks/wh_1", body=webhook_json("wh_1"))

    async def scenario() -> tuple[WebhookWithSecret, Webhook]:
        async with AsyncDovecote(api_key="dvk_async", base_url=api.url) as client:
            created = await client.webhooks.create("https://example.com/h", ["order.created"])
            fetched = await client.webhooks.get(created.id)
            return created, fetched

    created, fetched = asyncio.run(scenario())
    assert created.secret == "whsec_a"
    assert fetched.id == "wh_1"
    assert [request.headers["authorization"] for request in api.requests] == ["Bearer dvk_async"] * 2
    assert api.requests[0].body == {"url": "https://example.com/h", "events": ["order.created"]}


def test_async_pages_walk_every_page(api: FakeApi) -> None:
    api.add("GET", "/v1/webhooks", body=list_json([webhook_json("wh_1")], "c2"))
    api.add("GET", "/v1/webhooks", body=list_json([webhook_json("wh_2")]), query={"cursor": "c2"})

    async def scenario() -> tuple[list[str], list[str]]:
        async with AsyncDovecote(api_key="dvk", base_url=api.url) as client:
            page = await client.webhooks.list()
            assert isinstance(page, AsyncListPage)
            first_page = [webhook.id for webhook in page.data]
            every = [webhook.id async for webhook in page]
            return first_page, every

    first_page, every = asyncio.run(scenario())
    assert first_page == ["wh_1"]
    assert every == ["wh_1", "wh_2"]
    assert api.requests[1].query == {"cursor": ["c2"]}


def test_async_errors_are_the_same_exceptions(api: FakeApi) -> None:
    api.add("GET", "/v1/deliveries/del_x", 404, error_json("not_found", "no delivery del_x"))

    async def scenario() -> None:
        async with AsyncDovecote(api_key="dvk", base_url=api.url) as client:
            await client.deliveries.get("del_x")

    with pytest.raises(NotFoundError) as raised:
        asyncio.run(scenario())
    assert (raised.value.status, raised.value.error_type) == (404, "not_found")


def test_async_events_send_retries_with_one_idempotency_key(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "_sleep", lambda _: None)
    api.add("POST", "/v1/events", 503, error_json("unavailable", "x"))
    api.add("POST", "/v1/events", 202, {"object": "event", "id": "evt_1"})

    async def scenario() -> str:
        async with AsyncDovecote(api_key="dvk", base_url=api.url) as client:
            return (await client.events.send("order.created", {"n": 1})).id

    assert asyncio.run(scenario()) == "evt_1"
    keys = {request.headers["idempotency-key"] for request in api.requests}
    assert len(api.requests) == 2
    assert len(keys) == 1


def test_concurrent_async_calls(api: FakeApi) -> None:
    for number in range(8):
        api.add("GET", f"/v1/webhooks/wh_{number}", body=webhook_json(f"wh_{number}"), delay=0.1)

    async def scenario() -> list[str]:
        async with AsyncDovecote(api_key="dvk", base_url=api.url) as client:
            webhooks = await asyncio.gather(*(client.webhooks.get(f"wh_{number}") for number in range(8)))
            return [webhook.id for webhook in webhooks]

    assert asyncio.run(scenario()) == [f"wh_{number}" for number in range(8)]


def test_async_event_types_and_health(api: FakeApi) -> None:
    api.add("GET", "/v1/event-types", body=list_json([{"name": "order.created", "description": ""}]))
    api.add("GET", "/v1/health", body={"status": "ok"})

    async def scenario() -> tuple[list[str], dict[str, object]]:
        client = AsyncDovecote(api_key="dvk", base_url=api.url)
        try:
            names = [event_type.name async for event_type in await client.event_types.list()]
            return names, await client.health()
        finally:
            await client.close()

    assert asyncio.run(scenario()) == (["order.created"], {"status": "ok"})


def test_async_event_types_are_read_and_changed(api: FakeApi) -> None:
    document = {"object": "event_type", "name": "invoice.paid", "description": "", "schema": True, "example": None}
    api.add("GET", "/v1/event-types/invoice.paid", body=document)
    api.add("POST", "/v1/event-types", 201, body=document)
    api.add(
        "DELETE", "/v1/event-types/invoice.paid", body={"object": "event_type", "name": "invoice.paid", "deleted": True}
    )

    async def scenario() -> tuple[object, str, bool]:
        async with AsyncDovecote(api_key="dvk", base_url=api.url) as client:
            created = await client.event_types.create("invoice.paid", schema=True)
            fetched = await client.event_types.get("invoice.paid")
            deleted = await client.event_types.delete("invoice.paid")
            return created.json_schema, fetched.name, deleted.deleted

    assert asyncio.run(scenario()) == (True, "invoice.paid", True)
    assert api.requests_to("POST", "/v1/event-types")[0].body == {"name": "invoice.paid", "schema": True}
