"""`dovecote local --state-dir`: a restart keeps applications, keys, webhooks and the delivery log."""

from __future__ import annotations

from pathlib import Path

import pytest

from dovecote_local.templates import ensure_templates
from tests.e2e.e2e_support import DEFAULT_PROFILE, Receiver, RunningStack, eventually, launch_local_stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def _start(state_dir: Path, run_dir: Path) -> RunningStack:
    run_dir.mkdir()
    template = ensure_templates([DEFAULT_PROFILE])[DEFAULT_PROFILE]
    stack = launch_local_stack(
        DEFAULT_PROFILE, template, run_dir, name_the_profile=False, extra_arguments=("--state-dir", str(state_dir))
    )
    stack.wait_ready()
    return stack


def test_a_restart_with_the_same_state_dir_keeps_applications_keys_webhooks_and_the_delivery_log(
    tmp_path: Path, receiver: Receiver
) -> None:
    state_dir = tmp_path / "state"
    first = _start(state_dir, tmp_path / "first")
    try:
        with first.client(first.platform_key) as platform:
            platform.applications.create("Acme", id="acme")
            acme_key = platform.application("acme").api_keys.create(description="kept").key
        url, endpoint = receiver.add()
        with first.client() as customer:
            webhook = customer.webhooks.create(url, ["order.created"])
            event = customer.events.send("order.created", {"order_id": "o_1"})
            eventually(lambda: endpoint.requests, message="the delivery")
            delivered = eventually(
                lambda: [d for d in customer.webhooks.deliveries(webhook.id) if d.status == "succeeded"],
                message="the delivery logged as succeeded",
            )
    finally:
        assert first.stop() == 0

    second = _start(state_dir, tmp_path / "second")
    try:
        assert (second.api_key, second.platform_key) == (first.api_key, first.platform_key)
        assert "items restored from" in second.output()
        with second.client(second.platform_key) as platform:
            assert platform.applications.get("acme").name == "Acme"
        with second.client(acme_key) as acme:
            assert list(acme.webhooks.list()) == []
        with second.client() as customer:
            assert [w.id for w in customer.webhooks.list()] == [webhook.id]
            assert customer.events.get(event.id).type == "order.created"
            [kept] = list(customer.webhooks.deliveries(webhook.id))
            assert (kept.id, kept.status) == (delivered[0].id, "succeeded")
            assert len(customer.deliveries.get(kept.id).attempts) == 1
    finally:
        assert second.stop() == 0
    assert (state_dir / "table.json").stat().st_mode & 0o077 == 0, "the state holds secrets: this user only"
