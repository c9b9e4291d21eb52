"""Browser tests against pytest-django's live server (tests/conftest.py starts the browser)."""

from __future__ import annotations

import threading

import pytest


@pytest.fixture(scope="session")
def chromium(browser_engine, live_server):
    # Depending on live_server makes the browser's pages close first, so the server's request threads
    # finish before the shared in-memory SQLite connection stops being shareable.
    yield browser_engine
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
