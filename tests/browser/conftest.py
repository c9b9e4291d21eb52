"""Browser tests against pytest-django's live server (tests/conftest.py starts the browser)."""

from __future__ import annotations

import sys
import threading
import time

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


@pytest.fixture(autouse=True)
def _requests_finished_before_the_next_test():
    """On SQLite the live server shares the test's in-memory connection: a request still running when a
    test ends (a page closed mid-load) would use it at the same time as the next test's setup, and the
    two threads can wait on each other for ever (seen once in CI). Wait until no request thread is
    inside Django; threads idle on a kept-alive socket do not touch the database."""
    yield
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _handling_a_request():
        time.sleep(0.05)


def _handling_a_request() -> bool:
    frames = sys._current_frames()
    for thread in threading.enumerate():
        if "process_request_thread" not in thread.name or thread.ident not in frames:
            continue
        frame = frames[thread.ident]
        while frame is not None:
            if "django/core/handlers" in frame.f_code.co_filename:
                return True
            frame = frame.f_back
    return False
