"""Seed 004 (MUTX) end to end: every request its guide shows (curl and SDK calls, as HTTP), and its
Express and Flask verification snippets as written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.e2e.e2e_support import Receiver, RunningStack, eventually
from tests.e2e.seed_support import (
    PAYLOADS,
    Http,
    express_snippet,
    flask_snippet,
    needs_node,
    needs_python_312,
    publish_and_observe,
    publish_every_payload_kind,
    seed_stack,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e-seed-004")]

SECRET = "your-webhook-secret"
JAVASCRIPT_REFUSAL = (
    "data.order_id: JavaScript cannot carry this number exactly (receivers of this deployment verify"
    " JSON.stringify(JSON.parse(body))); send it as a string"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with seed_stack("mutx", tmp_path_factory.mktemp("seed-004"), time_scale=0.002) as running:
        yield running


def test_the_curl_registration_with_a_trailing_slash_and_the_test_event(
    stack: RunningStack, receiver: Receiver
) -> None:
    http = Http(stack)
    url, endpoint = receiver.add()

    created = http("POST", "/v1/webhooks/", {"url": url, "events": ["agent.*", "deployment.*"]})
    tested = http("POST", f"/v1/webhooks/{created.body['id']}/test")
    everything = http("POST", "/v1/webhooks/", {"url": url, "events": ["*"]})

    assert created.status == 201, created.body
    assert (created.body["events"], created.body["is_active"]) == (["agent.*", "deployment.*"], True)
    assert (tested.status, tested.body["object"]) == (202, "event")
    assert everything.status == 201
    eventually(lambda: endpoint.requests, message="the test event")


def test_the_sdk_calls_create_list_get_update_delete(stack: RunningStack, receiver: Receiver) -> None:
    http = Http(stack)
    url, _ = receiver.add()
    body = {"url": url, "events": ["agent.*", "deployment.*"], "secret": SECRET, "is_active": True}

    created = http("POST", "/v1/webhooks", body)
    listed = http("GET", "/v1/webhooks?limit=10")
    read = http("GET", f"/v1/webhooks/{created.body['id']}")
    updated = http(
        "PATCH", f"/v1/webhooks/{created.body['id']}", {"url": "https://new-url.com/webhook", "is_active": False}
    )
    deleted = http("DELETE", f"/v1/webhooks/{created.body['id']}")

    assert (created.status, created.body["secret"], created.body["is_active"]) == (201, SECRET, True)
    assert listed.status == 200
    assert 1 <= len(listed.body["data"]) <= 10
    assert all({"id", "url", "is_active"} <= set(w) for w in listed.body["data"])
    assert (read.body["id"], read.body["url"], read.body["is_active"]) == (created.body["id"], url, True)
    assert (updated.status, updated.body["url"], updated.body["is_active"]) == (
        200,
        "https://new-url.com/webhook",
        False,
    )
    assert (deleted.status, deleted.body) == (200, {"id": created.body["id"], "object": "webhook", "deleted": True})


def test_the_delivery_history_filters_by_event_and_success(stack: RunningStack, receiver: Receiver) -> None:
    http = Http(stack)
    url, _ = receiver.add(status=500)
    webhook = http("POST", "/v1/webhooks", {"url": url, "events": ["agent.*"]}).body
    for event_type in ("agent.status", "agent.started"):
        assert (
            http("POST", "/v1/events", {"type": event_type, "data": {"agent_id": "a1", "new_status": "up"}}).status
            == 202
        )
    path = f"/v1/webhooks/{webhook['id']}/deliveries"

    failed = eventually(
        lambda: http("GET", f"{path}?limit=20&event=agent.status&success=false").body["data"],
        timeout=30,
        message="the agent.status delivery to fail after its 4 attempts",
    )
    succeeded = http("GET", f"{path}?success=true").body["data"]
    refused = http("GET", f"{path}?success=maybe")

    [delivery] = failed
    assert (delivery["event"], delivery["success"], delivery["attempts"]) == ("agent.status", False, 4)
    assert (delivery["error_message"], delivery["response_status"]) == ("all 4 attempts failed", 500)
    assert succeeded == []
    assert (refused.status, refused.body["error"]["message"]) == (422, "success: must be one of true, false")


@needs_node
@needs_python_312
def test_the_express_and_flask_snippets_verify_every_body_they_are_sent(stack: RunningStack) -> None:
    http = Http(stack)
    with ExitStack() as running:
        express = running.enter_context(express_snippet("004_mutx_express.js", WEBHOOK_SECRET=SECRET))
        flask = running.enter_context(flask_snippet("004_mutx_flask.py"))
        outcomes = {}
        for name, snippet, event_type in (
            ("express", express, "deployment.created"),
            ("flask", flask, "deployment.failed"),
        ):
            body = {"url": snippet.url("/webhooks/mutx"), "events": [event_type], "secret": SECRET, "is_active": True}
            webhook = http("POST", "/v1/webhooks/", body).body
            for kind, outcome in publish_every_payload_kind(http, webhook["id"], event_type).items():
                outcomes[(name, kind)] = outcome
        forged = {}
        for name, snippet, event_type in (("express", express, "agent.crashed"), ("flask", flask, "agent.stopped")):
            body = {"url": snippet.url("/webhooks/mutx"), "events": [event_type], "secret": "another-secret"}
            webhook = http("POST", "/v1/webhooks/", body).body
            forged[name] = publish_and_observe(http, webhook["id"], event_type, PAYLOADS["ordinary"])

    assert {name: o.first_response_status for name, o in forged.items()} == {"express": 401, "flask": 401}
    for name in ("express", "flask"):
        refused = outcomes.pop((name, "big_integer"))
        assert (refused.published, refused.error) == (422, JAVASCRIPT_REFUSAL)
    assert {key: o.first_response_status for key, o in outcomes.items()} == dict.fromkeys(outcomes, 200)
