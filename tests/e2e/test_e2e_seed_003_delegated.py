"""Seed 003 (Delegated) end to end: its registration request, and its Node verification snippet as written."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from dovecote_local.templates import ensure_templates
from tests.e2e.e2e_support import RunningStack
from tests.e2e.seed_support import Http, express_snippet, needs_node, publish_every_payload_kind, seed_stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e-seed-003")]

DOCUMENTED_EVENTS = ["task.created", "task.completed", "agent.alert"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with seed_stack("delegated", tmp_path_factory.mktemp("seed-003"), time_scale=0.002) as running:
        yield running


def test_the_documented_registration_at_api_webhooks_create(stack: RunningStack) -> None:
    http = Http(stack)
    body = {"url": "http://127.0.0.1:9/webhook/delegated", "events": DOCUMENTED_EVENTS, "secret": "your-webhook-secret"}

    created = http("POST", "/api/webhooks/create", body)

    assert created.status == 201, created.body
    assert (created.body["url"], created.body["events"], created.body["secret"]) == (
        body["url"],
        DOCUMENTED_EVENTS,
        "your-webhook-secret",
    )
    assert http("GET", f"/v1/webhooks/{created.body['id']}").status == 200


def test_the_alias_is_an_api_gateway_route_to_the_management_function_through_the_authorizer() -> None:
    template = json.loads(ensure_templates(["delegated"])["delegated"].read_text())
    resources = template["Resources"]
    [route] = [r for r in resources.values() if r["Properties"].get("RouteKey") == "POST /api/webhooks/create"]
    [canonical] = [r for r in resources.values() if r["Properties"].get("RouteKey") == "POST /v1/webhooks"]

    assert route["Properties"]["AuthorizationType"] == "CUSTOM"
    assert route["Properties"]["AuthorizerId"] == canonical["Properties"]["AuthorizerId"]
    assert route["Properties"]["Target"] == canonical["Properties"]["Target"]


def test_the_alias_needs_a_credential_like_any_route(stack: RunningStack) -> None:
    answer = requests.post(
        f"{stack.api_url}/api/webhooks/create", json={"url": "x", "events": ["task.created"]}, timeout=10
    )

    assert answer.status_code == 401


@pytest.mark.parametrize("path", ["/api/webhooks/delete", "/api/nothing"])
def test_an_unknown_route_is_the_error_envelope(stack: RunningStack, path: str) -> None:
    answer = Http(stack)("POST", path, {"url": "x"})

    assert (answer.status, answer.body) == (404, {"error": {"type": "not_found", "message": "no such route"}})


@needs_node
def test_the_documents_node_snippet_verifies_every_body_it_is_sent(stack: RunningStack) -> None:
    http = Http(stack)
    with express_snippet("003_delegated_express.js") as snippet:
        # The snippet's handler checks the secret 'your-secret' (the registration example shows another).
        body = {"url": snippet.url("/webhook/delegated"), "events": ["task.completed"], "secret": "your-secret"}
        webhook = http("POST", "/api/webhooks/create", body).body
        outcomes = publish_every_payload_kind(http, webhook["id"], "task.completed")

    refused = outcomes.pop("big_integer")
    assert (refused.published, refused.error) == (
        422,
        "data.order_id: JavaScript cannot carry this number exactly (receivers of this deployment verify"
        " JSON.stringify(JSON.parse(body))); send it as a string",
    )
    assert {kind: outcome.first_response_status for kind, outcome in outcomes.items()} == dict.fromkeys(outcomes, 200)
