"""Delivery controls of an endpoint, through the management API and the pipeline: custom headers,
payload filters and v1a (Ed25519) signatures."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dovecote.profiles import profile_path
from dovecote.schemes import StandardWebhooksAsymmetric
from dovecote.verify import WebhookVerificationError, verify
from functions.management import handler as management
from tests.integration.conftest import APPLICATION, reset_all_dependencies
from tests.integration.pipeline_support import Pipeline, pipeline_under_moto, receiver

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def pipeline(aws: Any, call_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with pipeline_under_moto(aws, call_api, monkeypatch) as running:
        yield running


def manage(pipeline: Pipeline, method: str, path: str, **options: Any) -> Any:
    reset_all_dependencies()
    return pipeline._call_api(management.handler, method, path, application=APPLICATION, **options)


def register(pipeline: Pipeline, url: str, **fields: Any) -> dict[str, Any]:
    response = manage(pipeline, "POST", "/v1/webhooks", body={"url": url, "events": ["order.*"], **fields})
    assert response.status == 201, response.body
    return dict(response.body)


def deliver_all(pipeline: Pipeline) -> None:
    reset_all_dependencies()
    for _ in range(10):  # the events queue, ten events a batch
        batch = pipeline.receive(pipeline.aws.events_queue_url)
        if not batch:
            break
        pipeline.run_fanout(batch)
    pipeline.run_all_deliveries()


def test_custom_headers_arrive_with_every_delivery_beside_the_signature(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook = register(pipeline, server.url, headers={"X-Customer": "acme", "Authorization": "Bearer t0k"})
        assert webhook["headers"] == {"X-Customer": "acme", "Authorization": "Bearer t0k"}
        pipeline.publish("order.created")
        deliver_all(pipeline)
    [request] = server.requests
    assert request.headers["X-Customer"] == "acme"
    assert request.headers["Authorization"] == "Bearer t0k"
    assert request.headers["webhook-signature"].startswith("v1,")


def test_a_filter_lets_through_only_the_matching_half_of_twenty_events_and_writes_no_other_delivery(
    pipeline: Pipeline,
) -> None:
    with receiver(200) as server:
        filtered = register(pipeline, server.url + "/big", filter={"data": {"amount": {"$gte": 100}}})
        everything = register(pipeline, server.url + "/all")
        for amount in range(0, 200, 10):
            assert pipeline.publish("order.created", {"amount": amount}).status == 202
        deliver_all(pipeline)
    big = sorted(json.loads(r.body)["data"]["amount"] for r in server.requests if r.path.endswith("/big"))
    assert big == list(range(100, 200, 10))
    assert sum(r.path.endswith("/all") for r in server.requests) == 20
    logged = pipeline.deliveries.list_for_webhook(APPLICATION, filtered["id"], limit=100).items
    assert len(logged) == 10
    assert len(pipeline.deliveries.list_for_webhook(APPLICATION, everything["id"], limit=100).items) == 20


def test_a_filter_on_a_decimal_number_is_stored_and_matches_as_written(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook = register(pipeline, server.url, filter={"data": {"cpu": {"$gte": 0.9}}})
        assert webhook["filter"] == {"data": {"cpu": {"$gte": 0.9}}}
        patched = manage(
            pipeline, "PATCH", f"/v1/webhooks/{webhook['id']}", body={"filter": {"data": {"cpu": {"$gte": 0.85}}}}
        )
        assert patched.status == 200, patched.body
        for cpu in (0.5, 0.84, 0.85, 0.975):
            assert pipeline.publish("order.created", {"cpu": cpu}).status == 202
        deliver_all(pipeline)
    assert sorted(json.loads(r.body)["data"]["cpu"] for r in server.requests) == [0.85, 0.975]


def test_removing_a_filter_delivers_every_event_of_the_types_again(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook = register(pipeline, server.url, filter={"type": "order.refunded"})
        pipeline.publish("order.created")
        deliver_all(pipeline)
        assert server.requests == []
        cleared = manage(pipeline, "PATCH", f"/v1/webhooks/{webhook['id']}", body={"filter": None})
        assert cleared.status == 200
        assert cleared.body["filter"] is None
        pipeline.publish("order.created")
        deliver_all(pipeline)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("headers", {"Connection": "close"}, "headers.Connection"),
        ("headers", {"webhook-signature": "v1,forged"}, "headers.webhook-signature"),
        ("headers", {"X-Bad": "a\r\nInjected: 1"}, "headers.X-Bad"),
        ("headers", {f"X-H{n}": "v" for n in range(21)}, "headers"),
        ("filter", {"data": {"amount": {"$gtt": 1}}}, "filter.data.amount.$gtt"),
        ("filter", {"$or": "x"}, "filter.$or"),
        ("filter", {"data": {"currency": {"$in": "EUR"}}}, "filter.data.currency.$in"),
    ],
)
def test_headers_or_a_filter_that_cannot_be_used_are_refused_naming_the_path(
    pipeline: Pipeline, field: str, value: Any, path: str
) -> None:
    body = {"url": "https://h.example.com/", "events": ["*"], field: value}
    refused = manage(pipeline, "POST", "/v1/webhooks", body=body)
    assert refused.status == 422, refused.body
    assert refused.body["error"]["message"].startswith(f"{path}: ")


def test_a_v1a_endpoint_signs_with_ed25519_that_an_independent_implementation_verifies(pipeline: Pipeline) -> None:
    with receiver(200) as server:
        webhook = register(pipeline, server.url, signature_version="v1a")
        public_key = webhook["secret"]
        assert public_key.startswith("whpk_")
        assert webhook["public_key"] == public_key
        pipeline.publish("order.created", {"amount": 1})
        deliver_all(pipeline)
    [request] = server.requests
    signature = request.headers["webhook-signature"]
    assert signature.startswith("v1a,")
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    independent = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))
    independent.verify(base64.b64decode(signature.removeprefix("v1a,")), signed)  # raises if it does not verify
    assert verify("standard", request.body, request.headers, public_key)


def test_rotating_a_v1a_endpoint_gives_a_new_public_key_and_signs_with_both_during_the_grace(
    pipeline: Pipeline,
) -> None:
    with receiver(200) as server:
        webhook = register(pipeline, server.url, signature_version="v1a")
        rotated = manage(pipeline, "POST", f"/v1/webhooks/{webhook['id']}/rotate-secret")
        assert rotated.status == 200, rotated.body
        assert rotated.body["secret"].startswith("whpk_")
        assert rotated.body["secret"] != webhook["secret"]
        pipeline.publish("order.created")
        deliver_all(pipeline)
    [request] = server.requests
    assert [s.split(",")[0] for s in request.headers["webhook-signature"].split()] == ["v1a", "v1a"]
    for key in (webhook["secret"], rotated.body["secret"]):
        assert verify("standard", request.body, request.headers, key)


def test_v1a_needs_a_standard_webhooks_profile_and_a_matching_secret(pipeline: Pipeline) -> None:
    body = {"url": "https://h.example.com/", "events": ["*"]}
    mismatched = manage(
        pipeline, "POST", "/v1/webhooks", body={**body, "signature_version": "v1a", "secret": "whsec_" + "A" * 32}
    )
    assert mismatched.status == 422
    assert mismatched.body["error"]["message"].startswith("secret: ")
    pipeline.use_profile("mutx")
    refused = manage(pipeline, "POST", "/v1/webhooks", body={**body, "signature_version": "v1a"})
    assert refused.status == 422
    assert refused.body["error"]["message"].startswith("signature_version: ")


def v1a_profile(tmp_path: Path) -> str:
    """The standard profile, signing every endpoint with Ed25519 (whsk_ keys)."""
    document = json.loads(Path(profile_path("standard")).read_text())
    document["name"] = "standard-v1a"
    document["signing"]["scheme"] = StandardWebhooksAsymmetric.name
    document["secret"] = {**document.get("secret", {}), "prefix": StandardWebhooksAsymmetric.secret_prefix}
    path = tmp_path / "standard-v1a.json"
    path.write_text(json.dumps(document))
    return str(path)


def verifies_with(key: str, body: bytes, headers: dict[str, str]) -> bool:
    """True when the request verifies with `key`; the server's two requests arrive in either order."""
    try:
        return verify("standard", body, headers, key)
    except WebhookVerificationError:
        return False


def test_a_profile_signing_v1a_gives_every_endpoint_an_ed25519_key_and_refuses_v1(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    pipeline.use_profile(v1a_profile(tmp_path))
    with receiver(200) as server:
        by_default = register(pipeline, server.url)
        assert by_default["secret"].startswith("whpk_")
        assert register(pipeline, server.url, signature_version="v1a")["secret"].startswith("whpk_")
        pipeline.publish("order.created")
        deliver_all(pipeline)
    assert len(server.requests) == 2
    signed_by_default = next(r for r in server.requests if verifies_with(by_default["secret"], r.body, r.headers))
    assert signed_by_default.headers["webhook-signature"].startswith("v1a,")
    refused = manage(
        pipeline, "POST", "/v1/webhooks", body={"url": server.url, "events": ["*"], "signature_version": "v1"}
    )
    assert refused.status == 422
    assert refused.body["error"]["message"].startswith("signature_version: ")
