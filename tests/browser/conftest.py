"""Browser tests: Playwright driving Debian's Chromium, headless, never a downloaded browser.

Without /usr/bin/chromium they skip with a message, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("SOJOURN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium(live_server):
    # Depending on live_server makes the browser close first, so the server's request threads finish
    # before the shared in-memory SQLite connection stops being shareable.
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing, and browser tests may not skip in CI", pytrace=False)
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (apt-get install chromium; CI runs them)")
    # Playwright's sync API runs an event loop in this thread; our ORM calls beside it stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=5)


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
