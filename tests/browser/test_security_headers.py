"""Every kind of page lives under a strict Content-Security-Policy without breaking: the console (home,
a patient, the journey map whose SVG carries its own style, the KPI dashboard), the patient portal
from sign-in to the personal page, and the API docs, whose Swagger UI loads nothing off our origin."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, approved_version, enroll
from sojourn.core.tests.factories import SYSTEM
from sojourn.journeys.services import create_journey
from sojourn.people.tests.factories import PASSWORD, make_patient
from tests.browser.helpers import last_code, sign_in_to_portal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Reported to Python from the page as it happens; an init script runs before any of the page's own.
LISTEN = """document.addEventListener("securitypolicyviolation", (e) => window.cspViolation(
    [e.effectiveDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber].join(" ")));"""


class Watched:
    """A browser tab that records CSP violations, policy warnings and every URL it requested."""

    def __init__(self, chromium, base_url: str) -> None:
        self.context = chromium.new_context(base_url=base_url, locale="en-GB")
        self.violations: list[str] = []
        self.console: list[str] = []
        self.requested: list[str] = []
        self.context.expose_binding("cspViolation", lambda _source, text: self.violations.append(text))
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("console", self._console)
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.page.on("response", self._response)

    def _response(self, response) -> None:
        headers = response.headers
        if response.request.resource_type == "document" and not (
                "content-security-policy" in headers and "permissions-policy" in headers):
            self.console.append(f"no policy on {response.url}")

    def _console(self, message) -> None:
        text = message.text
        if message.type in {"error", "warning"} and any(
                word in text for word in ("Content Security Policy", "Permissions-Policy", "Refused to")):
            self.console.append(text)

    def problems(self) -> list[str]:
        self.page.wait_for_load_state("load")
        return self.violations + self.console


@pytest.fixture
def tab(chromium, live_server):
    watched = Watched(chromium, live_server.url)
    yield watched
    watched.context.close()


def test_console_pages_break_no_rule_of_the_policy(tab, cast):
    patient = make_patient(cast.program, "DE", email="csp.console@example.org")
    create_journey(actor=SYSTEM, program=cast.program, code="patient-journey", title="Living with psoriasis",
                   kind="patient")
    page = tab.page
    page.goto("/console/sign-in/")
    page.get_by_label("Email").fill(cast.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")
    page.get_by_label("Market", exact=True).select_option("DE")  # htmx posts the switch and reloads
    page.wait_for_selector("#current-scope:has-text('Germany')")
    assert tab.problems() == []

    page.goto(f"/console/patients/{patient.pseudonym}/")
    page.locator("#id_purpose").fill("Call back about a prescription")
    page.locator("#identity button").click()  # htmx swaps the identity in
    page.wait_for_selector("#identity-data")
    assert tab.problems() == []

    page.goto("/console/journeys/patient-journey/")
    page.wait_for_selector("#journey-map .map-stage-name")
    # The map's own <style> (with the nonce) applied: the stage names are drawn in the map's font weight.
    assert page.locator("#journey-map .map-stage-name").first.evaluate("e => getComputedStyle(e).fontWeight") != "400"
    page.goto("/console/insights/")
    assert tab.problems() == []


def test_the_portal_breaks_no_rule_of_the_policy(tab, program):
    email = "csp.portal@example.org"
    version = approved_version(program, "DE")
    patient, _record = enroll(program, "DE", version=version, email=email)
    verify_patient(actor=SELF, patient=patient, code=last_code(email))
    page = tab.page
    page.goto("/p/psoriasis/DE/enroll/")
    sign_in_to_portal(page, email)
    page.goto("/p/me/")
    assert tab.problems() == []


def test_the_api_docs_load_only_from_our_origin_and_break_no_rule(tab, live_server):
    page = tab.page
    page.goto("/api/v1/docs")
    page.wait_for_selector("#swagger-ui .opblock")  # Swagger UI ran, fetched the schema and drew it
    assert tab.problems() == []
    ours = urlsplit(live_server.url).netloc
    elsewhere = [url for url in tab.requested if urlsplit(url).scheme != "data" and urlsplit(url).netloc != ours]
    assert elsewhere == []
    assert any("/static/ninja/swagger-ui-bundle" in url for url in tab.requested)
