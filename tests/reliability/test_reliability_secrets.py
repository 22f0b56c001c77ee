"""Signing secrets and API keys on the local stack: a secret is shown on create and on rotate
only, and is stored in its own webhook item only; API keys exist only as hashes.

One flow drives every route (create, list, get, update, test, publish, deliveries, retry,
recover, rotate, delete) while the handlers' log lines (at the deployed level, INFO), the
stack's attempt log, every HTTP response, every table item, every execution input and
every request the receivers got are collected; then each secret is searched for in all of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dovecote.verify import WebhookVerificationError, verify
from dovecote_local.stack import DEV_APPLICATION
from tests.reliability.reliability_support import LocalStackHarness, LogCapture, endpoints, eventually, report_figures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

LOCAL_STACK_OPTIONS = {"profile": "mutx", "time_scale": 0.0005}
PROFILE = "mutx"
CALLER_SECRET = "whsec_caller-chosen-" + "s3cr3t" * 6


class Transcript:
    """Every response of the flow, by label."""

    def __init__(self, stack: LocalStackHarness) -> None:
        self.stack = stack
        self.responses: list[tuple[str, str]] = []

    def call(self, label: str, method: str, path: str, *, expect: int, **options: Any) -> Any:
        response = self.stack.api(method, path, self.stack.api_key, **options)
        assert response.status_code == expect, f"{label}: {response.status_code} {response.text}"
        self.responses.append((label, response.text + json.dumps(dict(response.headers))))
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def flow(local_stack: LocalStackHarness) -> Iterator[dict[str, Any]]:
    stack = local_stack
    capture = LogCapture()
    with capture.active(), endpoints() as receivers:
        api = Transcript(stack)
        created = api.call(
            "create",
            "POST",
            "/v1/webhooks",
            expect=201,
            json_body={"url": receivers.add(200), "events": ["agent.*"], "description": "primary"},
        )
        chosen = api.call(
            "create with the caller's secret",
            "POST",
            "/v1/webhooks",
            expect=201,
            json_body={"url": receivers.add(500), "events": ["deployment.*"], "secret": CALLER_SECRET},
        )
        hook, other = created["id"], chosen["id"]
        api.call("list", "GET", "/v1/webhooks", expect=200)
        api.call("get", "GET", f"/v1/webhooks/{hook}", expect=200)
        api.call("update", "PATCH", f"/v1/webhooks/{hook}", expect=200, json_body={"description": "renamed"})
        api.call("test", "POST", f"/v1/webhooks/{hook}/test", expect=202)
        event = api.call(
            "publish", "POST", "/v1/events", expect=202, json_body={"type": "agent.status", "data": {"n": 1}}
        )
        api.call("publish to the failing endpoint", "POST", "/v1/events", expect=202,
                 json_body={"type": "deployment.failed", "data": {"n": 2}})  # fmt: skip
        api.call("event types", "GET", "/v1/event-types", expect=200)

        def finished(webhook_id: str, count: int) -> list[dict[str, Any]] | None:
            listed = stack.api("GET", f"/v1/webhooks/{webhook_id}/deliveries", stack.api_key).json()["data"]
            done = [d for d in listed if d["status"] != "pending"]
            return done if len(done) >= count else None

        eventually(lambda: finished(hook, 2), message="the test and the event delivered")
        [failed] = eventually(lambda: finished(other, 1), timeout=60, message="four attempts fail")
        api.call("event", "GET", f"/v1/events/{event['id']}", expect=200)  # stored by the fan-out
        deliveries = api.call("deliveries", "GET", f"/v1/webhooks/{hook}/deliveries", expect=200)
        for delivery in deliveries["data"]:
            api.call("delivery", "GET", f"/v1/deliveries/{delivery['id']}", expect=200)
        api.call("retry", "POST", f"/v1/deliveries/{failed['id']}/retry", expect=202)
        eventually(lambda: finished(other, 1), timeout=60, message="the retried series fails again")
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        api.call("recover", "POST", f"/v1/webhooks/{other}/recover", expect=202, json_body={"since": since})
        eventually(lambda: finished(other, 1), timeout=60, message="the recovered series fails again")
        rotated = api.call("rotate", "POST", f"/v1/webhooks/{hook}/rotate-secret", expect=200)
        api.call("get after rotation", "GET", f"/v1/webhooks/{hook}", expect=200)
        api.call(
            "publish after rotation", "POST", "/v1/events", expect=202, json_body={"type": "agent.status", "data": {}}
        )
        eventually(lambda: finished(hook, 3), message="the event after rotation delivered")
        api.call("deliveries after rotation", "GET", f"/v1/webhooks/{hook}/deliveries", expect=200)
        api.call("delete", "DELETE", f"/v1/webhooks/{other}", expect=200)
        api.call("delete again", "DELETE", f"/v1/webhooks/{other}", expect=200)  # the tombstone answers
        items = stack.scan()
        sfn = stack.client("stepfunctions")
        execution_inputs = [sfn.describe_execution(executionArn=e["executionArn"]) for e in stack.executions()]
        yield {
            "api": api,
            "created": created,
            "chosen": chosen,
            "rotated": rotated,
            "secrets": {"created": created["secret"], "caller": CALLER_SECRET, "rotated": rotated["secret"]},
            "logs": capture.getvalue() + "\n".join(stack.output),
            "items": items,
            "executions": execution_inputs,
            "received": list(receivers.requests),
        }


def test_the_secret_is_returned_on_create_and_on_rotate_only(flow: dict[str, Any]) -> None:
    secrets = flow["secrets"]
    shown_in = {
        name: [label for label, text in flow["api"].responses if secret in text] for name, secret in secrets.items()
    }
    assert shown_in == {
        "created": ["create"],
        "caller": ["create with the caller's secret"],
        "rotated": ["rotate"],
    }
    report_figures("secrets-responses", responses=len(flow["api"].responses), leaks=0)


def test_no_log_line_carries_a_secret_or_an_api_key(flow: dict[str, Any]) -> None:
    logs = flow["logs"]
    assert "attempt logged" in logs  # the capture saw the handlers' INFO lines
    for name, secret in flow["secrets"].items():
        assert secret not in logs, name
        assert secret.removeprefix("whsec_") not in logs, name
    assert flow["api"].stack.api_key not in logs
    report_figures("secrets-logs", log_characters=len(logs), leaks=0)


def test_a_secret_is_stored_in_its_own_webhook_item_only(flow: dict[str, Any]) -> None:
    created, chosen = flow["created"], flow["chosen"]
    holders = {
        name: sorted((item["pk"]["S"], item["sk"]["S"]) for item in flow["items"] if secret in json.dumps(item))
        for name, secret in flow["secrets"].items()
    }
    assert holders == {
        "created": [(f"T#{DEV_APPLICATION}", f"WH#{created['id']}")],
        "caller": [],  # its webhook was deleted: the tombstone must not keep the secret
        "rotated": [(f"T#{DEV_APPLICATION}", f"WH#{created['id']}")],
    }
    assert chosen["id"]
    report_figures("secrets-items", items=len(flow["items"]), leaks=0)


def test_no_execution_input_and_no_delivery_request_carries_a_secret(flow: dict[str, Any]) -> None:
    assert flow["executions"], "the failing endpoint's retries ran as executions"
    for execution in flow["executions"]:
        group = json.loads(execution["input"])
        assert set(group) == {"application_id", "webhook_id", "members", "next_attempt_at"}
        assert all(set(member) == {"delivery_id", "series"} for member in group["members"])
    received = flow["received"]
    for name, secret in flow["secrets"].items():
        for request in received:
            assert secret.encode() not in request.body, name
            assert secret not in json.dumps(request.headers), name


def test_deliveries_verify_with_the_live_secrets_and_not_with_a_forged_one(flow: dict[str, Any]) -> None:
    """mutx carries one signature: during the rotation grace period the oldest live secret signs
    (functions/core/signing.py), so a receiver holding both secrets, as `verify` allows, accepts."""
    secrets = flow["secrets"]
    primary = [r for r in flow["received"] if r.status == 200]
    assert len(primary) >= 3
    *before, after = primary
    for request in before:
        assert verify(PROFILE, request.body, request.headers, secrets["created"])
    assert verify(PROFILE, after.body, after.headers, [secrets["rotated"], secrets["created"]])
    with pytest.raises(WebhookVerificationError):
        verify(PROFILE, after.body, after.headers, "whsec_" + "0" * 64)


def test_api_keys_exist_only_as_hashes(flow: dict[str, Any]) -> None:
    key = flow["api"].stack.api_key
    items = flow["items"]
    assert key not in json.dumps(items)
    key_items = [item for item in items if item.get("kind", {}).get("S") == "api_key"]
    assert key_items
    assert {item["pk"]["S"] for item in key_items} >= {f"KEY#{hashlib.sha256(key.encode()).hexdigest()}"}
    for item in key_items:
        assert len(item["display_prefix"]["S"]) <= len("dvc_live_") + 4
