"""Playwright driving Debian's Chromium, headless, never a downloaded browser: one browser for the
whole session, shared by the browser tests (tests/browser/) and the page guard (test_every_page.py).

Without /usr/bin/chromium browser tests skip with a message, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("SOJOURN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_engine():
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
