"""`dovecote` commands: the requests they send, their tables and their --json output."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.unit.cli_support import run
from tests.unit.test_client_fake_api import TIMESTAMP, attempt_json, delivery_json, list_json, webhook_json

if TYPE_CHECKING:
    from tests.unit.test_client_fake_api import FakeApi


def test_webhooks_list_prints_an_aligned_table(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add(
        "GET",
        "/v1/webhooks",
        body=list_json(
            [
                webhook_json("wh_1", url="https://a.example/h"),
                webhook_json("wh_22", url="https://bb.example/hook", events=["*"], status="disabled"),
            ]
        ),
    )
    status, out, err = run(capsys, "webhooks", "list")
    assert status == 0
    assert err == ""
    assert out.splitlines() == [
        "ID     URL                      EVENTS                    STATUS    CREATED",
        f"wh_1   https://a.example/h      order.created,order.paid  enabled   {TIMESTAMP}",
        f"wh_22  https://bb.example/hook  *                         disabled  {TIMESTAMP}",
    ]
    assert api.requests[0].headers["authorization"] == "Bearer dvk_cli"


def test_json_prints_the_api_document(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    listing = list_json([webhook_json("wh_1", future_field=1)], "c2")
    api.add("GET", "/v1/webhooks", body=listing)
    status, out, err = run(capsys, "--json", "webhooks", "list", "--limit", "1")
    assert status == 0
    assert json.loads(out) == listing
    assert err == ""
    assert api.requests[0].query == {"limit": ["1"]}


def test_global_options_are_accepted_after_the_command(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("GET", "/v1/webhooks/wh_1", body=webhook_json())
    status, out, _ = run(capsys, "webhooks", "get", "wh_1", "--json", "--api-key", "dvk_flag", "--api-url", api.url)
    assert status == 0
    assert json.loads(out)["id"] == "wh_1"
    assert api.requests[0].headers["authorization"] == "Bearer dvk_flag"


def test_more_pages_are_announced_on_stderr(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("GET", "/v1/webhooks", body=list_json([webhook_json("wh_1")], "c2"))
    _, out, err = run(capsys, "webhooks", "list")
    assert "wh_1" in out
    assert err.strip() == "more results: add --cursor c2 (or --all)"


def test_all_walks_every_page(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("GET", "/v1/webhooks", body=list_json([webhook_json("wh_1")], "c2"))
    api.add("GET", "/v1/webhooks", body=list_json([webhook_json("wh_2")]), query={"cursor": "c2"})
    status, out, _ = run(capsys, "webhooks", "list", "--all", "--json")
    assert status == 0
    document = json.loads(out)
    assert [item["id"] for item in document["data"]] == ["wh_1", "wh_2"]
    assert document["has_more"] is False


def test_create_sends_the_events_and_shows_the_secret(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("POST", "/v1/webhooks", 201, webhook_json("wh_9", secret="whsec_shown_once"))
    status, out, err = run(
        capsys, "webhooks", "create", "https://example.com/h", "--events", "order.created,order.paid", "--events", "x"
    )
    assert status == 0
    assert api.requests[0].body == {"url": "https://example.com/h", "events": ["order.created", "order.paid", "x"]}
    assert "secret           whsec_shown_once" in out.splitlines()
    assert "not shown again" in err


def test_create_an_sqs_destination_sends_the_target_and_role(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("POST", "/v1/webhooks", 201, webhook_json("wh_9", secret="whsec_shown_once"))
    queue = "https://sqs.us-east-1.amazonaws.com/111122223333/orders.fifo"
    role = "arn:aws:iam::111122223333:role/dovecote-delivery-orders"
    status, _, _ = run(
        capsys, "webhooks", "create", queue, "--type", "sqs", "--role-arn", role, "--message-group-id", "g1",
        "--events", "order.*",
    )  # fmt: skip
    assert status == 0
    assert api.requests[0].body == {
        "type": "sqs",
        "target": queue,
        "role_arn": role,
        "message_group_id": "g1",
        "events": ["order.*"],
    }


def test_create_sends_custom_headers_a_filter_and_the_signature_version(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add("POST", "/v1/webhooks", 201, webhook_json("wh_9", secret="whpk_public"))
    status, _, _ = run(
        capsys, "webhooks", "create", "https://example.com/h", "--events", "order.*",
        "--header", "X-Customer=acme", "--header", "X-Trace=a=b", "--filter", '{"data": {"amount": {"$gte": 100}}}',
        "--signature-version", "v1a",
    )  # fmt: skip
    assert status == 0
    assert api.requests[0].body == {
        "url": "https://example.com/h",
        "events": ["order.*"],
        "headers": {"X-Customer": "acme", "X-Trace": "a=b"},
        "filter": {"data": {"amount": {"$gte": 100}}},
        "signature_version": "v1a",
    }


def test_update_clears_headers_and_filter(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("PATCH", "/v1/webhooks/wh_1", body=webhook_json())
    status, _, _ = run(capsys, "webhooks", "update", "wh_1", "--clear-headers", "--clear-filter")
    assert status == 0
    assert api.requests[0].body == {"headers": {}, "filter": {}}


def test_rate_limit_options_set_and_clear_an_endpoints_limit(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("POST", "/v1/webhooks", 201, webhook_json("wh_9", secret="whsec_x"))
    api.add("PATCH", "/v1/webhooks/wh_9", body=webhook_json("wh_9"))
    api.add("PATCH", "/v1/webhooks/wh_9", body=webhook_json("wh_9"))

    created, _, _ = run(
        capsys, "webhooks", "create", "https://example.com/h", "--events", "order.*", "--rate-limit", "10"
    )
    changed, _, _ = run(capsys, "webhooks", "update", "wh_9", "--rate-limit", "3")
    cleared, _, _ = run(capsys, "webhooks", "update", "wh_9", "--clear-rate-limit")

    assert (created, changed, cleared) == (0, 0, 0)
    assert api.requests[0].body["rate_limit_per_second"] == 10
    assert [request.body for request in api.requests[1:]] == [
        {"rate_limit_per_second": 3},
        {"rate_limit_per_second": None},
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--header", "X-Customer"], "give NAME=VALUE"),
        (["--filter", "{nope"], "--filter: not JSON"),
        (["--filter", "[1]"], "JSON object"),
    ],
)
def test_bad_header_or_filter_options_are_usage_errors(
    api: FakeApi, capsys: pytest.CaptureFixture[str], option: list[str], message: str
) -> None:
    status, _, err = run(capsys, "webhooks", "create", "https://example.com/h", "--events", "x", *option)
    assert status == 2
    assert message in err
    assert api.requests == []


def test_update_sends_only_the_changed_fields(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("PATCH", "/v1/webhooks/wh_1", body=webhook_json(enabled=False, status="disabled"))
    status, out, _ = run(capsys, "webhooks", "update", "wh_1", "--disable", "--description", "paused")
    assert status == 0
    assert api.requests[0].body == {"description": "paused", "enabled": False}
    assert "status           disabled" in out.splitlines()


def test_update_with_nothing_to_change_is_a_usage_error(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "webhooks", "update", "wh_1")
    assert status == 2
    assert out == ""
    assert err.startswith("error: nothing to update")
    assert api.requests == []


def test_deliveries_table_and_filters(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("GET", "/v1/webhooks/wh_1/deliveries", body=list_json([delivery_json("del_1")]))
    status, out, _ = run(capsys, "webhooks", "deliveries", "wh_1", "--status", "failed", "--event", "order.created")
    assert status == 0
    assert api.requests[0].query == {"status": ["failed"], "event": ["order.created"]}
    header, row = out.splitlines()
    assert header.split() == ["ID", "EVENT", "STATUS", "ATTEMPTS", "RESPONSE", "NEXT", "RETRY", "CREATED"]
    assert row.split() == ["del_1", "order.created", "failed", "2", "503", "-", TIMESTAMP]


def test_delivery_get_lists_its_attempts(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    attempts = [attempt_json(1, error="connection refused"), attempt_json(2, response_status=200, error=None)]
    api.add("GET", "/v1/deliveries/del_1", body=delivery_json(status="succeeded", attempts=attempts))
    status, out, _ = run(capsys, "deliveries", "get", "del_1")
    assert status == 0
    lines = out.splitlines()
    assert "status           succeeded" in lines
    attempts_at = lines.index("attempts:")
    assert lines[attempts_at + 1].split() == ["#", "ATTEMPTED", "RESPONSE", "LATENCY", "ERROR"]
    assert lines[attempts_at + 2].split() == ["1", TIMESTAMP, "503", "101ms", "connection", "refused"]
    assert lines[attempts_at + 3].split() == ["2", TIMESTAMP, "200", "102ms", "-"]


def test_events_send_with_inline_data(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.add("POST", "/v1/events", 202, {"object": "event", "id": "evt_1"})
    status, out, _ = run(capsys, "events", "send", "order.created", "--data", '{"order": 42}', "--id", "evt_1")
    assert status == 0
    request = api.requests[0]
    assert request.body == {"type": "order.created", "data": {"order": 42}, "id": "evt_1"}
    assert request.headers["idempotency-key"]
    assert out.splitlines() == ["id  evt_1"]


def test_events_send_with_a_data_file(api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    api.add("POST", "/v1/events", 202, {"object": "event", "id": "evt_2"})
    data_file = tmp_path / "event.json"
    data_file.write_text('{"items": [1, 2]}', encoding="utf-8")
    status, _, _ = run(capsys, "events", "send", "order.paid", "--data-file", str(data_file), "--idempotency-key", "k1")
    assert status == 0
    assert api.requests[0].body == {"type": "order.paid", "data": {"items": [1, 2]}}
    assert api.requests[0].headers["idempotency-key"] == "k1"


def test_recover_accepts_a_relative_since(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    recovery = {"object": "recovery", "webhook_id": "wh_1", "since": TIMESTAMP, "deliveries_requeued": 4}
    api.add("POST", "/v1/webhooks/wh_1/recover", 202, recovery)
    before = datetime.now(UTC).replace(microsecond=0)
    status, out, _ = run(capsys, "webhooks", "recover", "wh_1", "--since", "2h")
    assert status == 0
    since = datetime.fromisoformat(api.requests[0].body["since"])
    assert before - timedelta(hours=2, seconds=1) <= since <= datetime.now(UTC) - timedelta(hours=2)
    assert "deliveries_requeued  4" in out.splitlines()


def test_recover_rejects_a_time_without_zone(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "webhooks", "recover", "wh_1", "--since", "2026-01-01T00:00:00")
    assert status == 2
    assert err == "error: --since: give a time zone (e.g. 2026-01-01T00:00:00Z)\n"


def test_event_types_table(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    types = [
        {"name": "order.created", "description": "An order was placed", "schema": {"type": "object"}},
        {"name": "order.legacy", "description": "Old", "deprecated": True},
    ]
    api.add("GET", "/v1/event-types", body=list_json(types))
    status, out, _ = run(capsys, "event-types")
    assert status == 0
    assert out.splitlines() == [
        "NAME           DEPRECATED  SCHEMA  DESCRIPTION",
        "order.created  -           yes     An order was placed",
        "order.legacy   yes         -       Old",
    ]
    assert run(capsys, "event-types", "list")[1] == out


def test_event_types_create_reads_the_schema_from_a_file_and_update_can_remove_it(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    document = {"object": "event_type", "name": "invoice.paid", "description": "", "schema": None, "example": None}
    api.add("POST", "/v1/event-types", 201, body=document)
    api.add("PATCH", "/v1/event-types/invoice.paid", body=document)
    schema_file = tmp_path / "schema.json"
    schema_file.write_text('{"type": "object", "required": ["amount"]}', encoding="utf-8")

    created = run(capsys, "event-types", "create", "invoice.paid", "--schema-file", str(schema_file), "--deprecated")
    updated = run(capsys, "event-types", "update", "invoice.paid", "--no-schema", "--example", '{"amount": 1}')

    assert (created[0], updated[0]) == (0, 0)
    assert api.requests_to("POST", "/v1/event-types")[0].body == {
        "name": "invoice.paid",
        "schema": {"type": "object", "required": ["amount"]},
        "deprecated": True,
    }
    assert api.requests_to("PATCH", "/v1/event-types/invoice.paid")[0].body == {
        "schema": None,
        "example": {"amount": 1},
    }


@pytest.mark.parametrize(
    ("argv", "method", "path"),
    [
        (["webhooks", "delete", "wh_1"], "DELETE", "/v1/webhooks/wh_1"),
        (["webhooks", "test", "wh_1"], "POST", "/v1/webhooks/wh_1/test"),
        (["webhooks", "rotate-secret", "wh_1"], "POST", "/v1/webhooks/wh_1/rotate-secret"),
        (["events", "get", "evt_1"], "GET", "/v1/events/evt_1"),
        (["deliveries", "retry", "del_1"], "POST", "/v1/deliveries/del_1/retry"),
        (["event-types", "get", "invoice.paid"], "GET", "/v1/event-types/invoice.paid"),
        (["event-types", "delete", "invoice.paid"], "DELETE", "/v1/event-types/invoice.paid"),
    ],
)
def test_commands_reach_their_routes(
    api: FakeApi, capsys: pytest.CaptureFixture[str], argv: list[str], method: str, path: str
) -> None:
    answer = webhook_json(secret="whsec_x", deleted=True) | delivery_json(id="wh_1") | {"type": "t", "name": "a.b"}
    api.add(method, path, 200, answer)
    status, out, _ = run(capsys, "--json", *argv)
    assert status == 0
    assert [(request.method, request.path) for request in api.requests] == [(method, path)]
    assert json.loads(out) == answer


def test_events_send_file_sends_batches_of_a_hundred_with_a_key_from_each_line(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = [json.dumps({"type": "order.created", "data": {"n": n}}) for n in range(150)]
    lines[7] = json.dumps({"type": "order.created", "data": {"n": 7}, "id": "order-7"})
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    ok = {"index": 0, "status": 202, "id": "evt_1", "type": "order.created", "repeat": False, "error": None}
    failed = {**ok, "index": 49, "status": 422, "id": None, "error": {"type": "invalid_request", "message": "type: x"}}
    api.add("POST", "/v1/events/batch", 202, {"object": "event_batch", "accepted": 100, "failed": 0, "data": [ok]})
    api.add("POST", "/v1/events/batch", 202, {"object": "event_batch", "accepted": 49, "failed": 1, "data": [failed]})

    status, out, err = run(capsys, "events", "send", "--file", str(events_file))

    assert status == 1
    first, second = (request.body["events"] for request in api.requests)
    assert (len(first), len(second)) == (100, 50)
    assert first[7] == {"type": "order.created", "data": {"n": 7}, "id": "order-7"}
    assert first[0]["idempotency_key"].startswith("file-")
    assert len({event["idempotency_key"] for event in first if "idempotency_key" in event}) == 99
    assert "sent 150/150 events, 1 failed" in err
    assert out.splitlines() == ["149 of 150 events queued", "line 150: 422 type: x"]


def test_events_send_file_refuses_a_line_that_is_not_an_event(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    events_file = tmp_path / "events.jsonl"
    events_file.write_text('{"type": "order.created"}\n{"data": {}}\n', encoding="utf-8")
    status, _, err = run(capsys, "events", "send", "--file", str(events_file))
    assert status == 2
    assert "--file line 2" in err
    assert api.requests == []
