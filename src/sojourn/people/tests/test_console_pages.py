"""Each role's menu holds only what it may open, and a page outside the role answers 403 saying why."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from sojourn.core.permissions import ROLE_PERMISSIONS, Role
from sojourn.people.console_pages import CONSOLE_NAMESPACES, MENU, PAGES
from sojourn.people.tests.factories import make_patient, make_staff


def console_url_names() -> set[str]:
    names: set[str] = set()

    def walk(resolver: URLResolver, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and str(resolver.pattern).startswith("console/"):
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver(), "")
    return names


def test_every_console_page_says_who_may_open_it():
    assert console_url_names() - set(PAGES) == set(), "add the page to people.console_pages.PAGES"
    assert set(PAGES) - console_url_names() == set(), "PAGES names a page that no longer exists"
    assert {name.split(":")[0] for name in console_url_names()} == CONSOLE_NAMESPACES


@pytest.mark.parametrize("role", list(Role))
def test_a_roles_menu_holds_exactly_the_pages_it_may_open(client, program, role):
    user = make_staff(f"{role}@sponsor.example", role, program)
    client.force_login(user)
    page = client.get("/console/").content.decode()
    nav = page[page.index('<nav aria-label="Main">'):page.index("</nav>")]
    from django.urls import reverse

    for entry in MENU:
        needed = PAGES[entry.url_name]
        expected = not needed or bool(needed & ROLE_PERMISSIONS[role])
        assert (f'href="{reverse(entry.url_name)}"' in nav) is expected, (role, entry.url_name)
        if expected:
            assert client.get(reverse(entry.url_name)).status_code == 200, (role, entry.url_name)


def test_a_page_outside_the_role_answers_403_and_says_what_it_needs(client, program):
    analyst = make_staff("analyst@sponsor.example", Role.INSIGHTS_ANALYST, program, language="de")
    client.force_login(analyst)
    response = client.get("/console/content/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "Nicht Teil Ihrer Rolle" in text and "Insights-Analyst" in text
    assert "Inhalte und Einwilligungstexte schreiben" in text
    assert client.get("/console/audit/").status_code == 403
    assert client.get("/console/dialogue/rules/").status_code == 403


def test_a_patient_outside_the_nurses_market_is_still_not_found(client, cast):
    # The page kind is hers; this patient is not: the same answer as for a patient who does not exist.
    uk_patient = make_patient(cast.program, "GB")
    client.force_login(cast.nurse_de)
    assert client.get(f"/console/patients/{uk_patient.pseudonym}/").status_code == 404
    assert client.get("/console/patients/P-NOSUCHONE/").status_code == 404


def test_the_analyst_home_counts_patients_it_may_count_but_names_none(client, cast):
    for market in ("DE", "DE", "GB"):
        make_patient(cast.program, market)
    client.force_login(cast.analyst)
    page = client.get("/console/").content.decode()
    de = page[page.index('data-market="DE"'):]
    assert "Patients: 2" in de[:de.index("</article>")]
    gb = page[page.index('data-market="GB"'):]
    assert "Patients: 1" in gb[:gb.index("</article>")]
    assert client.get("/console/patients/").status_code == 403


def test_a_reviewer_home_does_not_claim_zero_patients(client, cast):
    make_patient(cast.program, "DE")
    reviewer = make_staff("reviewer@sponsor.example", Role.CONTENT_REVIEWER, cast.program)
    client.force_login(reviewer)
    page = client.get("/console/").content.decode()
    assert 'data-market="DE"' in page and "Patients:" not in page
