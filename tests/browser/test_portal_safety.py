"""What the portal does with hostile data, whom it lets frame it, and how it serves people and small screens."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.browser_support import BRAND_ACCENT_RGB, BRAND_NAME, Hooks, Portal, Site
from tests.browser.conftest import EXPECT_TIMEOUT_MS, PageProblems

# About two minutes with the stack start-up, so with the slow tier (make test runs it; make test-fast does not).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

EXCERPT_ATTACK = "<img src=x onerror=\"window.__pwned='excerpt'\"></script><script>window.__pwned='script'</script>"
DESCRIPTION_ATTACK = "<img src=x onerror=\"window.__pwned='description'\">"
EVENT_ATTACK = "</script><script>window.__pwned='event'</script><img src=x onerror=alert(1)>"


def test_what_receivers_and_publishers_send_is_shown_as_text_and_never_runs(
    page: Page, portal: Portal, hooks: Hooks
) -> None:
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    url, _ = hooks.add(status=500, body=EXCERPT_ATTACK.encode(), content_type="text/html")
    hostile_url = f"{url}?next=<b>bold</b>"
    endpoint = portal.create_endpoint(hostile_url, ["agent.status"], description=DESCRIPTION_ATTACK)
    portal.publish("agent.status", {"note": EVENT_ATTACK})
    page.goto(portal.url(portal.session()))

    card = page.locator("li.endpoint").filter(has_text=DESCRIPTION_ATTACK)
    expect(card).to_contain_text(endpoint["url"])
    card.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(endpoint["url"])
    expect(page.locator("dl.facts")).to_contain_text(DESCRIPTION_ATTACK)
    page.locator("li.delivery").get_by_role("link").click()
    excerpt = page.locator("pre.response-excerpt").first
    expect(excerpt).to_have_text(EXCERPT_ATTACK)
    expect(page.locator("pre.event-data")).to_contain_text("window.__pwned='event'")

    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("main img, main script, main b").count() == 0


def test_the_platform_frames_the_portal_with_its_name_logo_and_accent_and_no_other_site_can(
    browser: Browser, portal: Portal, site: Site, screenshots: Path
) -> None:
    token = portal.session()
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        page = context.new_page()
        problems = PageProblems(page)
        page.goto(f"{site.origin}/embed")
        page.evaluate("url => { document.getElementById('portal').src = url; }", portal.url(token))
        framed = page.frame_locator("#portal")
        expect(framed.get_by_role("heading", name="Endpoints", level=1)).to_be_visible()
        expect(framed.locator("#brand-name")).to_have_text(BRAND_NAME)
        logo = framed.get_by_role("img", name=f"{BRAND_NAME} logo")
        expect(logo).to_be_visible()
        assert logo.evaluate("image => image.complete && image.naturalWidth > 0")
        assert framed.locator("header.top").evaluate("e => getComputedStyle(e).borderBottomColor") == BRAND_ACCENT_RGB
        expect(framed.get_by_text("Checking health…")).to_have_count(0)
        assert problems.items == []
        page.screenshot(path=screenshots / "embedded.png")

        stranger = Site()
        try:
            page.goto(f"{stranger.origin}/embed")
            with page.expect_console_message(lambda message: "frame-ancestors" in message.text) as refusal:
                page.evaluate("url => { document.getElementById('portal').src = url; }", portal.url(portal.session()))
            assert "violates the following Content Security Policy directive" in refusal.value.text
            assert page.frame_locator("#portal").get_by_role("heading", name="Endpoints").count() == 0
        finally:
            stranger.close()
    finally:
        context.close()


def test_dark_theme_on_a_360_pixel_screen_fits_and_is_keyboard_usable(
    browser: Browser, portal: Portal, hooks: Hooks, screenshots: Path
) -> None:
    url, _ = hooks.add()
    portal.create_endpoint(url, ["agent.heartbeat"], description="Phone-sized", rate_limit_per_second=10)
    portal.publish("agent.heartbeat", {"beat": 1})
    context = browser.new_context(viewport={"width": 360, "height": 780}, color_scheme="dark")
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        page = context.new_page()
        problems = PageProblems(page)
        page.goto(portal.url(portal.session()))
        expect(page.get_by_role("heading", name="Endpoints", level=1)).to_be_visible()
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(18, 19, 23)"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        expect(page.get_by_text("Checking health…")).to_have_count(0)
        page.screenshot(path=screenshots / "dark-360px.png", full_page=True)

        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.locator("li.endpoint").filter(has_text=url).get_by_role("link").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(url)
        expect(page.get_by_role("heading", level=1)).to_be_focused()
        expect(page.locator("li.delivery")).to_contain_text("succeeded")
        expect(page.locator("dl.facts")).to_contain_text("10 deliveries a second")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.get_by_role("button", name="Light theme").click()
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        page.get_by_role("link", name="Endpoints", exact=True).click()
        page.get_by_role("link", name="Add endpoint").click()
        expect(page.get_by_role("heading", name="Add endpoint")).to_be_visible()
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('main input, main select, main button')]
                 .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-labelledby')
                              && !e.textContent.trim())
                 .map(e => e.outerHTML)"""
        )
        assert unlabelled == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert problems.items == []
    finally:
        context.close()
