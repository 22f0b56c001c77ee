"""The local stack's attempt printer finds the deliveries a deliver invocation worked on."""

from __future__ import annotations

import json

from dovecote_local.attempts import delivery_references


def test_a_retry_group_task_names_each_of_its_members() -> None:
    task = {
        "action": "attempt",
        "application_id": "acme",
        "webhook_id": "wh_1",
        "members": [{"delivery_id": "del_a", "series": 1}, {"delivery_id": "del_b", "series": 2}],
        "attempt": 3,
    }
    assert list(delivery_references(task)) == [("acme", "del_a"), ("acme", "del_b")]


def test_an_sqs_batch_names_the_delivery_of_each_record() -> None:
    body = json.dumps({"application_id": "acme", "delivery_id": "del_c", "series": 1})
    assert list(delivery_references({"Records": [{"body": body}, {"body": "not json"}]})) == [("acme", "del_c")]
