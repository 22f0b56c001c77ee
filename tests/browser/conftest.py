"""Browser fixtures: one branded local stack, receivers, the embedding site and Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.browser.browser_support import CHROMIUM, CHROMIUM_FLAGS, Hooks, Portal, Site, branded_stack

SCREENSHOTS_ENV = "DOVECOTE_SCREENSHOTS"
"""Where the tests save their screenshots (`make screenshots` points it at docs/portal)."""
EXPECT_TIMEOUT_MS = 20_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    with closing(Site()) as server:
        yield server


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[Portal]:
    with branded_stack(tmp_path_factory.mktemp("portal-stack"), site) as stack:
        yield Portal(stack)


@pytest.fixture(scope="session")
def hooks() -> Iterator[Hooks]:
    with closing(Hooks()) as server:
        yield server


# Per module, not per session: Playwright's sync API keeps an asyncio loop running in this thread
# while it is open, and the tests that run after these in the same worker call asyncio.run().
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium package")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path_factory.mktemp("screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class PageProblems:
    """Uncaught errors and Content-Security-Policy violations a page reported."""

    def __init__(self, page: Page) -> None:
        self.items: list[str] = []
        page.on("pageerror", lambda error: self.items.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.items.append(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    opened = context.new_page()
    problems = PageProblems(opened)
    try:
        yield opened
    finally:
        context.close()
    assert problems.items == [], problems.items
