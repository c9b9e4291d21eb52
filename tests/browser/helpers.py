"""Helpers the browser tests share: a phone-sized screen, axe's serious findings, and signing in to the
console and to the portal."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from django.core import mail

from sojourn.people.tests.factories import PASSWORD

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in results.response["violations"]
            if v["impact"] in {"serious", "critical"}]


def last_code(address: str) -> str:
    return re.search(r"\b(\d{6})\b", [m for m in mail.outbox if address in m.to][-1].body).group(1)


def sign_in_to_portal(page, email: str) -> None:
    """Ask for a code by email and enter it: the patient lands on their content."""
    page.goto("/p/sign-in/")
    page.locator("#id_email").fill(email)
    page.locator("button[type=submit]").click()
    page.locator("a.button").click()
    page.locator("#id_code").fill(last_code(email))
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/p/me/page/")


def sign_in(page, email: str) -> None:
    page.goto("/console/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
