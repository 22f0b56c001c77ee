"""The consumer portal in Chromium: one test per journey a platform's customer takes."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.browser_support import Hooks, Portal

# About two minutes with the stack start-up, so with the slow tier (make test runs it; make test-fast does not).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


def open_portal(page: Page, portal: Portal, token: str, extra: str = "") -> None:
    page.goto(portal.url(token, extra))
    expect(page.get_by_role("heading", name="Endpoints", level=1)).to_be_visible()


def test_a_session_url_opens_the_endpoints_and_the_token_leaves_the_address(
    page: Page, portal: Portal, hooks: Hooks, screenshots: Path
) -> None:
    url, _ = hooks.add()
    endpoint = portal.create_endpoint(url, ["agent.*"], description="Production agents")
    session = portal.open_session()
    token = session["token"]
    assert session["url"] == f"{portal.api_url}/portal#token={token}"
    requests_seen: list[str] = []
    page.on("request", lambda request: requests_seen.append(f"{request.url} {request.headers.get('referer', '')}"))

    page.goto(session["url"])
    expect(page.get_by_role("heading", name="Endpoints", level=1)).to_be_visible()

    card = page.locator("li.endpoint").filter(has_text=endpoint["url"])
    expect(card).to_be_visible()
    expect(card).to_contain_text("Production agents")
    expect(card).to_contain_text("Enabled")
    expect(card).to_contain_text("No deliveries yet")
    assert token not in page.url
    assert all(token not in seen for seen in requests_seen), "the token reached a URL or a Referer"
    expect(page.get_by_text("Checking health…")).to_have_count(0)
    page.screenshot(path=screenshots / "endpoints.png", full_page=True)


def test_creating_an_endpoint_shows_its_secret_once_and_it_signs_the_deliveries(
    page: Page, portal: Portal, hooks: Hooks, screenshots: Path
) -> None:
    url, hook = hooks.add()
    open_portal(page, portal, portal.session())

    page.get_by_role("link", name="Add endpoint").click()
    expect(page.get_by_role("heading", name="Add endpoint")).to_be_visible()
    page.get_by_label("URL").fill(url)
    page.get_by_label("Description").fill("Billing receiver")
    page.get_by_label("agent.*").check()
    page.get_by_label("deployment.failed").check()
    page.get_by_label("Rate limit (deliveries a second, optional)").fill("5")
    page.screenshot(path=screenshots / "create-endpoint.png", full_page=True)
    page.get_by_role("button", name="Create endpoint").click()

    secret_box = page.locator("#secret-value")
    expect(secret_box).to_have_value(re.compile(r"^\S{16,}$"))
    secret = secret_box.input_value()
    expect(page.get_by_role("heading", level=1)).to_have_text(url)
    expect(page.locator("dl.facts")).to_contain_text("agent.*, deployment.failed")
    expect(page.locator("dl.facts")).to_contain_text("5 deliveries a second")
    page.screenshot(path=screenshots / "secret-once.png", full_page=True)

    page.get_by_role("button", name="I have stored it").click()
    expect(secret_box).to_have_count(0)
    (created,) = [e for e in portal.api("GET", "/v1/webhooks?limit=100").json()["data"] if e["url"] == url]
    assert created["rate_limit_per_second"] == 5
    page.get_by_role("link", name="← Endpoints").click()
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(url)
    expect(page.locator("#secret-value")).to_have_count(0)
    assert secret not in page.content()

    portal.publish("deployment.failed", {"deployment": "d_1"})
    expect(page.locator("li.delivery").first).to_contain_text("succeeded")
    headers, body = hook.requests[0]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-webhook-signature"], expected)


def test_a_published_event_appears_in_the_log_by_itself_and_succeeds(
    page: Page, portal: Portal, hooks: Hooks, screenshots: Path
) -> None:
    url, _ = hooks.add()
    endpoint = portal.create_endpoint(url, ["agent.*", "metrics.report"])
    open_portal(page, portal, portal.session())
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()
    expect(page.get_by_text("No deliveries match.")).to_be_visible()

    event = portal.publish("agent.started", {"agent": "a_1"})
    portal.publish("metrics.report", {"cpu": 0.5})

    deliveries = page.locator("li.delivery")
    expect(deliveries).to_have_count(2)
    expect(deliveries.filter(has_text="agent.started")).to_contain_text("succeeded")
    expect(deliveries.filter(has_text="metrics.report")).to_contain_text("succeeded")
    expect(deliveries.filter(has_text="agent.started")).to_contain_text("HTTP 200")

    page.get_by_role("link", name="Delivery log").click()
    expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
    expect(page.locator("li.delivery").filter(has_text=url).first).to_be_visible()
    page.get_by_label("Event type").select_option("agent.started")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("li.delivery").first).to_contain_text("agent.started")
    expect(page.locator("li.delivery").filter(has_text="metrics.report")).to_have_count(0)
    page.screenshot(path=screenshots / "delivery-log.png", full_page=True)

    page.locator("li.delivery").filter(has_text=url).get_by_role("link").click()
    expect(page.locator("pre.event-data")).to_contain_text('"agent": "a_1"')
    expect(page.locator("dl.facts")).to_contain_text(event["id"])
    assert endpoint["id"] in page.locator("dl.facts a").first.get_attribute("href")


def test_a_failing_delivery_shows_its_attempts_and_next_retry_then_the_retry_button_delivers_it(
    page: Page, portal: Portal, hooks: Hooks, screenshots: Path
) -> None:
    url, hook = hooks.add(status=503, body=b"upstream unavailable")
    portal.create_endpoint(url, ["agent.crashed"])
    portal.publish("agent.crashed", {"agent": "a_2"})
    open_portal(page, portal, portal.session())

    page.get_by_role("link", name="Delivery log").click()
    page.get_by_label("Status").select_option("pending")
    page.get_by_role("button", name="Filter").click()
    page.locator("li.delivery").filter(has_text=url).get_by_role("link").click()

    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Next retry")
    expect(page.locator("tr.attempt")).to_have_count(2)
    expect(page.locator("tr.attempt").first).to_contain_text("HTTP 503")
    expect(page.locator("pre.response-excerpt").first).to_have_text("upstream unavailable")

    expect(facts).to_contain_text("failed", timeout=60_000)
    expect(page.locator("tr.attempt")).to_have_count(4)
    expect(facts).not_to_contain_text("Next retry")
    page.screenshot(path=screenshots / "delivery-failed.png", full_page=True)

    hook.status, hook.body = 200, b"thanks"
    page.get_by_role("button", name="Retry delivery").click()
    expect(facts).to_contain_text("succeeded")
    expect(page.locator("tr.attempt").last).to_contain_text("HTTP 200")
    expect(page.locator("tr.attempt").last).to_contain_text("series 2")
    assert len(hook.requests) == 5


def test_rotating_the_secret_shows_the_new_secret_once(page: Page, portal: Portal, hooks: Hooks) -> None:
    url, _ = hooks.add()
    portal.create_endpoint(url, ["*"], secret="first-secret-of-this-endpoint")
    open_portal(page, portal, portal.session())
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()

    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Rotate the signing secret?")
    page.get_by_role("alertdialog").get_by_role("button", name="Rotate secret").click()

    secret_box = page.locator("#secret-value")
    expect(secret_box).to_be_visible()
    rotated = secret_box.input_value()
    assert len(rotated) >= 16
    assert rotated != "first-secret-of-this-endpoint"
    expect(page.locator("#secret-note")).to_contain_text("previous secret keeps working until")
    page.get_by_role("button", name="I have stored it").click()
    expect(secret_box).to_have_count(0)
    page.get_by_role("link", name="Endpoints", exact=True).click()
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(url)
    assert rotated not in page.content()


def test_a_read_only_session_offers_no_change_and_a_forged_change_is_refused(
    page: Page, portal: Portal, hooks: Hooks, screenshots: Path
) -> None:
    url, _ = hooks.add(status=500)
    endpoint = portal.create_endpoint(url, ["agent.stopped"], description="read me")
    portal.publish("agent.stopped", {"agent": "a_3"})
    token = portal.open_session(read_only=True)["token"]
    open_portal(page, portal, token)

    expect(page.get_by_role("note")).to_contain_text("Read-only session")
    expect(page.get_by_role("link", name="Add endpoint")).to_have_count(0)
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(url)
    expect(page.locator("li.delivery")).to_have_count(1)
    expect(page.locator("li.delivery")).to_contain_text("failed", timeout=60_000)
    expect(page.locator("dl.facts")).to_contain_text("Failing since")
    page.screenshot(path=screenshots / "read-only.png", full_page=True)
    for name in ("Edit", "Disable", "Send test event", "Rotate secret", "Delete", "Recover"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    expect(page.locator("dl.facts")).to_contain_text("Not set on this endpoint")
    page.evaluate("id => { location.hash = `#/endpoints/${id}/edit`; }", endpoint["id"])
    expect(page.get_by_role("main")).to_contain_text("This session is read-only")
    expect(page.locator("#endpoint-rate-limit")).to_have_count(0)
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(url)
    page.locator("li.delivery").get_by_role("link").click()
    expect(page.locator("dl.facts")).to_contain_text("failed")
    expect(page.get_by_role("button", name="Retry delivery")).to_have_count(0)

    forged = page.evaluate(
        """async ([token, id]) => {
            const call = (method, path, body) => fetch(path, {method, headers: {
                Authorization: `Bearer ${token}`, "Content-Type": "application/json"},
                body: body && JSON.stringify(body)}).then(r => r.status);
            return [
                await call("PATCH", `/v1/webhooks/${id}`, {enabled: false}),
                await call("POST", "/v1/webhooks", {url: "http://127.0.0.1:9/x", events: ["*"]}),
                await call("DELETE", `/v1/webhooks/${id}`),
            ];
        }""",
        [token, endpoint["id"]],
    )
    assert forged == [403, 403, 403]
    after = portal.api("GET", f"/v1/webhooks/{endpoint['id']}").json()
    assert after["enabled"] is True


def test_an_expired_or_missing_session_gets_a_clear_page(page: Page, portal: Portal, screenshots: Path) -> None:
    page.goto(portal.url(portal.expired_session()))
    expect(page.get_by_role("heading", name="Your session has ended")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("expired")
    expect(page.get_by_role("main")).to_contain_text("Open the portal again from Acme Cloud")
    expect(page.get_by_role("navigation")).to_be_hidden()
    page.screenshot(path=screenshots / "expired.png", full_page=True)

    page.goto(f"{portal.api_url}/portal")
    page.reload()
    expect(page.get_by_role("heading", name="No portal session")).to_be_visible()


def test_the_event_catalog_lists_every_type_with_its_description(page: Page, portal: Portal) -> None:
    open_portal(page, portal, portal.session())
    page.get_by_role("link", name="Event types").click()

    types = page.locator("li.event-type")
    expect(types).to_have_count(10)
    expect(types.filter(has_text="agent.heartbeat")).to_contain_text("Periodic heartbeat")
    expect(types.filter(has_text="deployment.rolled_back")).to_contain_text("Rolled back")


def test_the_event_catalog_shows_a_types_schema_example_and_deprecation(page: Page, portal: Portal) -> None:
    schema = {"type": "object", "properties": {"reason": {"type": "string"}}}
    changed = portal.api(
        "PATCH",
        "/v1/event-types/deployment.rolled_back",
        {"schema": schema, "example": {"reason": "bad build"}, "deprecated": True},
        token=portal.stack.info["platform_key"],
    )
    assert changed.status_code == 200, changed.text
    open_portal(page, portal, portal.session())
    page.get_by_role("link", name="Event types").click()

    rolled_back = page.locator("li.event-type").filter(has_text="deployment.rolled_back")
    expect(rolled_back.locator(".badge.deprecated")).to_have_text("deprecated")
    expect(rolled_back.locator("pre").first).to_contain_text('"reason"')
    expect(rolled_back.locator("pre").last).to_contain_text("bad build")


def test_an_endpoint_is_edited_disabled_enabled_tested_and_deleted_after_a_confirmation(
    page: Page, portal: Portal, hooks: Hooks
) -> None:
    url, hook = hooks.add()
    moved_url, moved_hook = hooks.add()
    endpoint = portal.create_endpoint(url, ["agent.started"], description="before")
    open_portal(page, portal, portal.session())
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_label("URL")).to_have_value(url)
    expect(page.get_by_label("agent.started")).to_be_checked()
    page.get_by_label("URL").fill(moved_url)
    page.get_by_label("Description").fill("after")
    page.get_by_label("agent.started").uncheck()
    page.get_by_label("Other event types").fill("deployment.*")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(moved_url)
    expect(page.locator("dl.facts")).to_contain_text("deployment.*")
    expect(page.locator("dl.facts")).to_contain_text("after")

    page.get_by_role("button", name="Disable", exact=True).click()
    expect(page.locator("dl.facts")).to_contain_text("Disabled")
    assert portal.api("GET", f"/v1/webhooks/{endpoint['id']}").json()["enabled"] is False
    page.get_by_role("button", name="Enable", exact=True).click()
    expect(page.get_by_role("button", name="Disable", exact=True)).to_be_visible()

    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_role("status")).to_contain_text("Test event sent")
    expect(page.locator("li.delivery").first).to_contain_text("succeeded")
    assert len(moved_hook.requests) == 1
    assert hook.requests == []

    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete this endpoint?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert portal.api("GET", f"/v1/webhooks/{endpoint['id']}").status_code == 200
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete endpoint").click()
    expect(page.get_by_role("heading", name="Endpoints", level=1)).to_be_visible()
    expect(page.locator("li.endpoint").filter(has_text=moved_url)).to_have_count(0)
    assert portal.api("GET", f"/v1/webhooks/{endpoint['id']}").status_code == 404


def test_an_sqs_endpoint_is_created_from_the_form_and_shows_its_external_id(page: Page, portal: Portal) -> None:
    queue = "https://sqs.us-east-1.amazonaws.com/111122223333/portal-orders"
    role = "arn:aws:iam::111122223333:role/dovecote-delivery-portal"
    open_portal(page, portal, portal.session())

    page.get_by_role("link", name="Add endpoint").click()
    expect(page.get_by_label("Role ARN")).to_be_hidden()
    page.get_by_label("Destination").select_option("sqs")
    page.get_by_label("Queue URL or ARN").fill(queue)
    page.get_by_label("Role ARN").fill(role)
    page.get_by_label("agent.*").check()
    page.get_by_role("button", name="Create endpoint").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(queue)
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Amazon SQS queue")
    expect(facts).to_contain_text(role)
    expect(facts).to_contain_text(re.compile(r"External ID\s*dvc_ext_[0-9a-f]{32}"))


def test_a_rate_limit_set_in_the_edit_form_is_what_the_api_reports_and_clearing_it_removes_it(
    page: Page, portal: Portal, hooks: Hooks, screenshots: Path
) -> None:
    url, _ = hooks.add()
    endpoint = portal.create_endpoint(url, ["agent.started"])

    def read() -> dict[str, Any]:
        document: dict[str, Any] = portal.api("GET", f"/v1/webhooks/{endpoint['id']}").json()
        return document

    open_portal(page, portal, portal.session())
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Not set on this endpoint")

    page.get_by_role("link", name="Edit", exact=True).click()
    limit = page.get_by_label("Rate limit (deliveries a second, optional)")
    expect(limit).to_have_value("")
    for refused in ("0", "10001", "2.5", "ten"):
        limit.fill(refused)
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator("#form-error")).to_have_text(
            "Enter the rate limit as a whole number of deliveries a second from 1 to 10,000, or leave it empty."
        )
        expect(limit).to_be_focused()
    assert read()["rate_limit_per_second"] is None

    limit.fill("25")
    page.get_by_label("Other event types").fill("no.such.type")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#form-error")).to_contain_text("'no.such.type' matches no event type of the catalog")
    assert read()["rate_limit_per_second"] is None

    page.get_by_label("Other event types").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(url)
    expect(facts).to_contain_text("25 deliveries a second")
    assert read()["rate_limit_per_second"] == 25
    expect(page.get_by_text("Checking…")).to_have_count(0)
    page.screenshot(path=screenshots / "endpoint-rate-limit.png", full_page=True)

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(limit).to_have_value("25")
    limit.fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(url)
    expect(facts).to_contain_text("Not set on this endpoint")
    assert read()["rate_limit_per_second"] is None


def test_an_endpoint_without_a_limit_of_its_own_shows_its_accounts_default(
    page: Page, portal: Portal, hooks: Hooks
) -> None:
    url, _ = hooks.add()
    endpoint = portal.create_endpoint(url, ["agent.started"])
    application = f"/v1/applications/{portal.application}"
    platform_key = str(portal.stack.info["platform_key"])
    assert portal.api("PATCH", application, {"rate_limit_per_second": 7}, token=platform_key).status_code == 200
    try:
        assert portal.api("GET", f"/v1/webhooks/{endpoint['id']}").json()["effective_rate_limit_per_second"] == 7
        open_portal(page, portal, portal.session())
        page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()
        expect(page.locator("dl.facts")).to_contain_text(
            "7 deliveries a second, your account's default (not set on this endpoint)"
        )
    finally:  # the stack is shared: other journeys' endpoints must not inherit the default
        portal.api("PATCH", application, {"rate_limit_per_second": None}, token=platform_key)


def test_an_attempt_answered_429_with_retry_after_shows_the_wait_it_asked_for(
    page: Page, portal: Portal, hooks: Hooks, screenshots: Path
) -> None:
    url, hook = hooks.add(status=429, body=b"slow down", headers={"Retry-After": "2"})
    endpoint = portal.create_endpoint(url, ["agent.heartbeat"])
    portal.publish("agent.heartbeat", {"agent": "a_4"})
    open_portal(page, portal, portal.session())
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()
    page.locator("li.delivery").get_by_role("link").click()

    first = page.locator("tr.attempt").first
    expect(first).to_contain_text("HTTP 429")
    expect(first.locator(".retry-after")).to_have_text("Retry-After: 2 s")
    (delivery,) = portal.api("GET", f"/v1/webhooks/{endpoint['id']}/deliveries").json()["data"]
    attempts = portal.api("GET", f"/v1/deliveries/{delivery['id']}").json()["attempts"]
    assert attempts[0]["response_status"] == 429
    assert attempts[0]["retry_after_seconds"] == 2
    assert hook.requests, "the receiver saw the attempt"
    page.screenshot(path=screenshots / "delivery-retry-after.png", full_page=True)

    page.set_viewport_size({"width": 360, "height": 780})
    page.emulate_media(color_scheme="dark")
    page.get_by_role("button", name="Dark theme").click()
    expect(first.locator(".retry-after")).to_have_text("Retry-After: 2 s")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_an_endpoints_page_shows_its_payload_filter_and_the_names_but_not_the_values_of_its_custom_headers(
    page: Page, portal: Portal, hooks: Hooks
) -> None:
    url, _ = hooks.add()
    portal.create_endpoint(
        url,
        ["metrics.report"],
        headers={"X-Customer": "acme", "Authorization": "Bearer header-credential"},
        filter={"data": {"cpu_percent": {"$gte": 90}}},
    )
    open_portal(page, portal, portal.session())
    page.locator("li.endpoint").filter(has_text=url).get_by_role("link").click()

    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("X-Customer, Authorization")
    expect(facts.locator("pre.endpoint-filter")).to_contain_text('"$gte": 90')
    assert "header-credential" not in page.content()
