"""Every console and portal page works for every role and every language, on the demo program.

The demo is built once for this module by the same command as `make demo` (a smaller cohort and a
shorter history), then each demo staff member, patient and doctor follows every link reachable from
their home page (tests/site_crawl.py says what is checked): the administrator, who reaches every kind
of page, and the program manager in English, German, French and Japanese; every other member in
English and one more language (`WALKS`).
Pages a role may not open answer 403, and the pages below must show the demo's data, not an empty
table. A last pass drives Chromium over the same pages for one role per language, with axe.
"""

from __future__ import annotations

import itertools
import threading
from io import StringIO

import pytest
from babel.messages.pofile import read_po
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import resolve

from sojourn.consent.portal import SESSION_PATIENT
from sojourn.core.models import Program
from sojourn.demo.builder import ADMIN, DEMO_PASSWORD, MANAGER, PROGRAM_SLUG, STAFF, DemoStaff
from sojourn.demo.folder import ECZEMA
from sojourn.people.console import SESSION_PROGRAM
from sojourn.people.console_pages import PAGES, may_open
from sojourn.people.models import Hcp, Patient, StaffProfile
from sojourn.people.queries import actor_for_user
from tests.helpers import LOCALE_DIR
from tests.site_crawl import Crawl, crawl

pytestmark = [pytest.mark.xdist_group("demo-site")]

PATIENTS, DAYS = 240, 40
LANGUAGES = ("en", "de", "fr", "ja")
HOST = "127.0.0.1"
# Console actions that only take a POST (the crawl cannot follow them; the refusal probe posts to
# them), each with a URL of its kind; "console:sign-in" is where a signed-in person is never sent.
P = "P-0000000000"
POST_ONLY = {
    "console:sign-in": "/console/sign-in/",
    "console:sign-out": "/console/sign-out/",
    "console:switch": "/console/switch/",
    "console:reveal-identity": f"/console/patients/{P}/identity/",
    "console-consent:withdraw": f"/console/consent/patients/{P}/withdraw/",
    "console-consent:read-back": f"/console/consent/patients/{P}/code/",
    "console-consent:open-request": f"/console/consent/patients/{P}/data-requests/",
    "console-consent:complete-access": "/console/consent/requests/1/access/",
    "console-consent:complete-erasure": "/console/consent/requests/1/erasure/",
    "console-consent:review": "/console/consent/versions/1/approve/",
    "tracking:stage": f"/console/profiles/patients/{P}/stage/",
    "dialogue-console:check": "/console/dialogue/rules/companion/check/",
    "dialogue-console:review": "/console/dialogue/rules/companion/v1/review/",
    "questionnaires-console:review": "/console/questionnaires/1/approve/",
    "content-console:step": "/console/content/x/step/",
    "nurse-console:take": "/console/nurse/calls/1/take/",
    "programs-console:check": "/console/program/definition/check/",
    "programs-console:review": "/console/program/definition/v1/review/",
    "programs-console:market-live": "/console/program/markets/DE/live/",
}
# Pages the demo has nothing for: every consent version it writes is approved at once.
NOT_IN_THE_DEMO = {"console-consent:revise-version"}
# A short demo's simulated nurse team leaves few calls open at its end, and some days none
# (channels/tests/test_nurse_queue.py covers the call page).
NOT_IN_THE_DEMO |= {"nurse-console:task"}


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("demo", no_serve=True, patients=PATIENTS, days=DAYS, seed=1, stdout=StringIO())
        yield Program.objects.get(slug=PROGRAM_SLUG)
        # The rest of the suite expects an empty database, as after any transactional test.
        call_command("flush", interactive=False, verbosity=0)


def english_left_in(language: str) -> dict[str, str]:
    """English messages whose translation differs, long enough not to be a shared word ("Status")."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {m.id: m.string for m in catalog
            if isinstance(m.id, str) and isinstance(m.string, str) and m.string and m.string != m.id
            and len(m.id) >= 12 and "%" not in m.id}


def staff_client(email: str, language: str) -> Client:
    user = get_user_model().objects.get(username=email)
    StaffProfile.objects.filter(user=user).update(language=language)
    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    client.force_login(user)
    return client


def report(result: Crawl) -> None:
    print(f"{result.who} [{result.language}]: {len(result.visits)} pages, {len(result.names())} kinds")


# Pages that must show the demo's data, by role: URL name -> what the page's HTML must hold (any of).
MUST_SHOW = {
    "manager@demo.sojourn.example": {
        "console:patients": ['href="/console/patients/P-'],
        "insights-console:dashboard": ['data-status="green"', 'data-status="amber"', 'data-status="red"'],
        "dialogue-console:outbox": ['data-status="sent"', 'data-status="done"'],
        "console:audit": ["consent.given", "questionnaire.completed"],
        "journeys-console:journey": ['data-stage="'],
    },
    "analyst@demo.sojourn.example": {
        "insights-console:hypotheses": ["data-hypothesis="],
    },
}


def _walks() -> list[tuple[DemoStaff, str]]:
    """Who walks the console in which language. Every page kind is read in all four languages by the
    administrator, and the program manager's pages (the most data) too; every other member walks in
    English and a second language, their own or, for English speakers, the next of the others in
    turn, so each language is read by several roles and the walk stays much shorter than all by all."""
    others = itertools.cycle(LANGUAGES[1:])
    walks = []
    for member in STAFF:
        if member.email in (ADMIN, MANAGER):
            walks += [(member, language) for language in LANGUAGES]
        else:
            walks += [(member, "en"), (member, member.language if member.language != "en" else next(others))]
    return walks


WALKS = _walks()


@pytest.mark.django_db
@pytest.mark.parametrize(("member", "language"), WALKS,
                         ids=[f"{m.email.split('@')[0]}-{language}" for m, language in WALKS])
def test_every_page_a_staff_member_can_reach_works(demo_site, member, language):
    user = get_user_model().objects.get(username=member.email)
    actor = actor_for_user(user)
    client = staff_client(member.email, language)
    result = crawl(client, member.email, language, "/console/",
                   english=english_left_in(language) if language != "en" else None,
                   allowed=lambda name: may_open(actor, demo_site.pk, name))
    report(result)
    problems = list(result.problems)
    for name, needles in MUST_SHOW.get(member.email, {}).items():
        visit = result.first(name)
        if visit is None:
            problems.append(f"{name}: never reached")
            continue
        shown = client.get(visit.url).content.decode()
        if not any(needle in shown for needle in needles):
            problems.append(f"{name} ({visit.url}) shows none of the demo's data ({needles})")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize(("email", "language"), [("manager@demo.sojourn.example", "en"),
                                                 ("nurse.gb@demo.sojourn.example", "de")])
def test_every_page_of_the_second_program_works(demo_site, email, language):
    """The eczema companion, made of its files alone and lived by its own cohort: every page its staff
    reach works, in their language, with its own stages, needs and KPIs."""
    second = Program.objects.get(slug=ECZEMA.slug)
    actor = actor_for_user(get_user_model().objects.get(username=email))
    client = staff_client(email, language)
    session = client.session
    session[SESSION_PROGRAM] = second.slug
    session.save()
    result = crawl(client, email, language, "/console/",
                   english=english_left_in(language) if language != "en" else None,
                   allowed=lambda name: may_open(actor, second.pk, name))
    report(result)
    assert not result.problems, "\n".join(result.problems)
    assert "Eczema companion" in client.get("/console/").content.decode()


@pytest.fixture(scope="module")
def every_page_kind(demo_site, django_db_blocker) -> dict[str, str]:
    """A URL of every kind of console page, found by the administrator, who may open them all."""
    with django_db_blocker.unblock():
        result = crawl(staff_client("admin@demo.sojourn.example", "en"), "admin", "en", "/console/")
    urls: dict[str, str] = {}
    for visit in result.visits:
        urls.setdefault(visit.url_name, visit.url)
    return urls


@pytest.mark.django_db
def test_the_administrator_reaches_every_kind_of_console_page(every_page_kind):
    unreached = set(PAGES) - set(every_page_kind) - set(POST_ONLY) - NOT_IN_THE_DEMO
    assert not unreached, f"no link leads to {sorted(unreached)}"


@pytest.mark.django_db
@pytest.mark.parametrize("member", [m for m in STAFF if m.role is not None], ids=lambda m: m.email.split("@")[0])
def test_a_page_outside_the_role_answers_403_and_says_why(demo_site, every_page_kind, member):
    user = get_user_model().objects.get(username=member.email)
    actor = actor_for_user(user)
    client = staff_client(member.email, "en")
    refused = 0
    for name, url in sorted(every_page_kind.items()):
        if may_open(actor, demo_site.pk, name):
            continue
        response = client.get(url)
        assert response.status_code == 403, (name, url, response.status_code)
        assert "Not part of your role" in response.content.decode()
        refused += 1
    for name, url in sorted(POST_ONLY.items()):
        assert resolve(url).view_name == name
        if may_open(actor, demo_site.pk, name):
            continue
        assert client.post(url).status_code == 403, name
        refused += 1
    print(f"{member.email}: {refused} kinds of page refused with 403")


@pytest.mark.django_db
@pytest.mark.parametrize("locale", ["de-DE", "en-US", "en-GB", "ja-JP", "en-CA", "fr-CA"])
def test_every_page_a_patient_can_reach_works(demo_site, locale):
    patient = Patient.objects.filter(program=demo_site, locale=locale, status="active").order_by("pk").first()
    assert patient is not None
    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    session = client.session
    session[SESSION_PATIENT] = patient.pseudonym
    session.save()
    language = locale.split("-")[0]
    result = crawl(client, f"patient {patient.pseudonym}", locale, "/p/me/",
                   english=english_left_in(language) if language != "en" else None)
    report(result)
    assert {"portal:me", "personal-page:page", "questionnaires-portal:list", "safety-portal:report"} <= result.names()
    assert not result.problems, "\n".join(result.problems)


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["DE", "US", "GB", "JP", "CA"])
def test_every_page_a_doctor_can_reach_works(demo_site, country):
    from sojourn.consent.hcp_views import SESSION_HCP

    hcp = Hcp.objects.filter(program=demo_site, market__country=country, status="active").order_by("pk").first()
    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    session = client.session
    session[SESSION_HCP] = hcp.pseudonym
    session.save()
    language = hcp.locale.split("-")[0]
    result = crawl(client, f"doctor {hcp.pseudonym}", hcp.locale, "/p/hcp/me/",
                   english=english_left_in(language) if language != "en" else None)
    report(result)
    assert {"portal:hcp-me", "safety-hcp:report"} <= result.names()
    assert not result.problems, "\n".join(result.problems)


# One role per language for the browser: what each sees is drawn by Chromium and checked by axe.
BROWSER_PASS = (("manager@demo.sojourn.example", "en"), ("nurse.de@demo.sojourn.example", "de"),
                ("agency@demo.sojourn.example", "fr"), ("nurse.jp@demo.sojourn.example", "ja"))


@pytest.fixture(scope="module")
def demo_server(demo_site, browser_engine):
    """The demo served on a port of its own for Chromium (not pytest-django's live_server, whose tests
    are transactional and would empty the demo after the first)."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost")
    with server._live_server_modified_settings:
        yield server
        # Let the server's request threads close their connection while it may still be shared.
        for thread in threading.enumerate():
            if "process_request_thread" in thread.name:
                thread.join(timeout=5)
        server.stop()


@pytest.mark.browser
def test_every_page_reads_in_a_real_browser_without_serious_accessibility_problems(demo_site, demo_server,
                                                                                   browser_engine, django_db_blocker):
    # Outside a test transaction: on PostgreSQL the server's sign-in would wait for the rows this
    # test's own signing in (last_login) would hold locked until the test ended.
    with django_db_blocker.unblock():
        browse_every_page(demo_site, demo_server, browser_engine)


def browse_every_page(demo_site, demo_server, browser_engine) -> None:
    from tests.browser.helpers import serious_violations

    problems: list[str] = []
    for email, language in BROWSER_PASS:
        user = get_user_model().objects.get(username=email)
        assert user.staff_profile.language == language  # the demo's own preference: no write needed
        actor = actor_for_user(user)
        found = crawl(staff_client(email, language), email, language, "/console/",
                      allowed=lambda name, actor=actor: may_open(actor, demo_site.pk, name))
        pages = {}
        for visit in found.visits:
            if visit.status == 200 and visit.url in found.texts:
                pages.setdefault(visit.url_name, visit.url)
        context = browser_engine.new_context(base_url=demo_server.url, locale=language)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/console/sign-in/")
        page.locator("input[name=username]").fill(email)
        page.locator("input[name=password]").fill(DEMO_PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/console/")
        for name, url in sorted(pages.items()):
            response = page.goto(url)
            if response is None or response.status != 200:
                problems.append(f"{email} [{language}] {url}: {response.status if response else 'no answer'}")
                continue
            if page.locator("html").get_attribute("lang") != language:
                problems.append(f"{email} [{language}] {url}: the page is not in {language}")
            problems += [f"{email} [{language}] {url}: {v}" for v in serious_violations(page)]
        print(f"{email} [{language}]: {len(pages)} pages in Chromium with axe")
        context.close()
    assert not problems, "\n".join(problems)
