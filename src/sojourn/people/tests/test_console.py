from __future__ import annotations

from django.test import Client

from sojourn.core.models import AuditEntry
from sojourn.people.tests.factories import PASSWORD, make_patient


def sign_in(client: Client, email: str, password: str = PASSWORD, **headers):
    return client.post("/console/sign-in/", {"username": email, "password": password}, **headers)


def test_sign_in_lands_on_the_program_and_is_audited(client, cast):
    response = sign_in(client, "admin@sponsor.example")
    assert response.status_code == 302
    home = client.get("/console/")
    assert "Psoriasis companion" in home.content.decode()
    assert AuditEntry.objects.filter(action="staff.signed_in", subject_id=str(cast.admin.pk)).exists()


def test_a_wrong_password_is_refused_and_audited_without_the_password(client, cast):
    response = sign_in(client, "admin@sponsor.example", "wrong-password-123")
    assert response.status_code == 200 and "correct email" in response.content.decode().lower()
    entry = AuditEntry.objects.filter(action="staff.sign_in_failed").latest("seq")
    assert entry.after == {"known_account": True} and "wrong-password" not in repr(entry.after)


def test_sign_in_is_throttled_after_five_failures(client, cast):
    for _ in range(5):
        sign_in(client, "nurse.de@sponsor.example", "guess-guess-guess")
    locked = sign_in(client, "nurse.de@sponsor.example")  # even the right password now waits
    assert locked.status_code == 429
    assert "locked" in locked.content.decode()


def test_switching_market_narrows_the_console(client, cast):
    client.force_login(cast.admin)
    client.post("/console/switch/", {"program": "psoriasis", "market": "JP"})
    page = client.get("/console/").content.decode()
    assert 'data-market="JP"' in page and 'data-market="DE"' not in page


def test_a_nurse_cannot_switch_into_a_market_she_does_not_hold(client, cast):
    client.force_login(cast.nurse_de)
    client.post("/console/switch/", {"program": "psoriasis", "market": "GB"})
    page = client.get("/console/").content.decode()
    assert 'data-market="DE"' in page and 'data-market="GB"' not in page
    assert client.session["console_market"] == ""


def test_a_german_nurse_gets_404_for_a_uk_patient_page(client, cast):
    uk = make_patient(cast.program, "GB")
    de = make_patient(cast.program, "DE", email="de@example.org")
    client.force_login(cast.nurse_de)
    assert client.get(f"/console/patients/{uk.pseudonym}/").status_code == 404
    listing = client.get("/console/patients/").content.decode()
    assert de.pseudonym in listing and uk.pseudonym not in listing
    assert client.post(f"/console/patients/{uk.pseudonym}/identity/", {"purpose": "x"}).status_code == 404


def test_revealing_an_identity_needs_a_purpose_and_is_audited(client, cast):
    patient = make_patient(cast.program, "DE", given_name="Gisela")
    client.force_login(cast.nurse_de)
    no_purpose = client.post(f"/console/patients/{patient.pseudonym}/identity/", {"purpose": ""})
    assert no_purpose.status_code == 400 and "Gisela" not in no_purpose.content.decode()
    shown = client.post(f"/console/patients/{patient.pseudonym}/identity/", {"purpose": "refill reminder call"},
                        HTTP_HX_REQUEST="true")
    assert shown.status_code == 200 and "Gisela" in shown.content.decode()
    assert AuditEntry.objects.filter(action="pii.read", subject_id=patient.pseudonym).count() == 1


def test_the_console_speaks_the_staff_members_language(client, cast):
    client.force_login(cast.nurse_de)  # prefers German
    page = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "de"
    assert 'lang="de"' in page.content.decode()


def test_without_a_preference_the_browser_language_wins(client, cast):
    client.force_login(cast.admin)
    assert client.get("/console/", HTTP_ACCEPT_LANGUAGE="ja-JP,ja;q=0.9,en;q=0.5")["Content-Language"] == "ja"
    assert client.get("/console/", HTTP_ACCEPT_LANGUAGE="fr-CA")["Content-Language"] == "fr"
    assert client.get("/console/", HTTP_ACCEPT_LANGUAGE="pt-BR")["Content-Language"] == "en"


def test_the_audit_page_is_for_those_who_may_see_it(client, cast):
    client.force_login(cast.nurse_de)
    assert client.get("/console/audit/").status_code == 403
    client.force_login(cast.admin)
    assert "role.granted" in client.get("/console/audit/").content.decode()


def test_staff_of_several_programs_open_on_the_platforms_first_until_they_switch(client, cast):
    from sojourn.core.permissions import Role
    from sojourn.core.tests.factories import SYSTEM, make_program
    from sojourn.people.services.staff import grant_membership

    # A program added later, first by name, does not move the console of those who work in both.
    later = make_program("acne", markets=("GB",))
    for program in (cast.other_program, later):
        grant_membership(actor=SYSTEM, user=cast.admin, program=program, role=Role.ADMIN, markets=None)
    client.force_login(cast.admin)
    home = client.get("/console/").content.decode()
    assert "Psoriasis companion" in home and 'data-market="CA"' in home
    client.post("/console/switch/", {"program": "acne", "market": ""})
    home = client.get("/console/").content.decode()
    assert 'data-market="GB"' in home and 'data-market="CA"' not in home
    assert client.session["console_program"] == "acne"
    # A program one may not see is not switched to: the console falls back to the first.
    client.post("/console/switch/", {"program": "nowhere", "market": ""})
    assert client.get("/console/").status_code == 200 and client.session["console_program"] == cast.program.slug
