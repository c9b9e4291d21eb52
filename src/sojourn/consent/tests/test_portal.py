from __future__ import annotations

import json
import re

from django.core import mail

from sojourn.consent.models import ConsentRecord
from sojourn.consent.queries import granted_purposes
from sojourn.consent.tests.factories import approved_version, form_data
from sojourn.people.models import Patient


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def test_the_enrollment_page_speaks_the_market_language(client, program):
    approved_version(program, "DE")
    page = client.get("/p/psoriasis/DE/enroll/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and 'lang="de-DE"' in page.content.decode()
    assert "Ihre Einwilligung" in page.content.decode()
    approved_version(program, "CA")
    canada = client.get("/p/psoriasis/CA/enroll/", HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9").content.decode()
    assert 'lang="fr-CA"' in canada and "Votre consentement" in canada


def test_a_patient_enrolls_confirms_and_sees_their_consent(client, program, django_capture_on_commit_callbacks):
    version = approved_version(program, "DE")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/p/psoriasis/DE/enroll/", form_data(version), HTTP_USER_AGENT="Firefox/140")
    assert response.status_code == 302 and response["Location"] == "/p/verify/"
    record = ConsentRecord.objects.get()
    assert record.method == "web"
    assert client.post("/p/verify/", {"code": last_code()}).status_code == 302
    me = client.get("/p/me/").content.decode()
    assert "Status: Active" in me or "Status: Aktiv" in me
    receipt = client.get(f"/p/me/consents/{record.pk}/receipt.pdf")
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")


def test_a_missing_required_purpose_is_shown_next_to_it_and_nothing_is_saved(client, program):
    version = approved_version(program, "DE")
    response = client.post("/p/psoriasis/DE/enroll/", form_data(version, purpose_program_participation=None),
                           HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    assert "Allen erforderlichen Zwecken muss zugestimmt werden." in response.content.decode()
    assert Patient.objects.count() == 0


def test_a_signed_in_patient_withdraws_sms_then_everything(client, program, django_capture_on_commit_callbacks):
    version = approved_version(program, "DE")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/p/psoriasis/DE/enroll/", form_data(version, purpose_contact_sms="on", phone="+49 30 901820"),
                    HTTP_USER_AGENT="Safari/19")
    client.post("/p/verify/", {"code": last_code()})
    patient = Patient.objects.get()
    client.post("/p/me/withdraw/", {"scope": "contact_sms"})
    assert "contact_sms" not in granted_purposes(patient)
    client.post("/p/me/withdraw/", {"scope": "everything", "reason": "done"})
    patient.refresh_from_db()
    assert patient.status == "withdrawn" and granted_purposes(patient) == set()


def test_someone_else_cannot_download_a_receipt(client, program, django_capture_on_commit_callbacks):
    version = approved_version(program, "DE")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/p/psoriasis/DE/enroll/", form_data(version), HTTP_USER_AGENT="Safari/19")
    record = ConsentRecord.objects.get()
    stranger = type(client)()
    assert stranger.get(f"/p/me/consents/{record.pk}/receipt.pdf").status_code == 404


def test_a_form_without_a_browser_signature_is_refused(client, program):
    version = approved_version(program, "DE")
    response = client.post("/p/psoriasis/DE/enroll/", form_data(version), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and Patient.objects.count() == 0


def test_sign_in_says_the_same_for_unknown_addresses(client, program):
    page = client.post("/p/sign-in/", {"email": "nobody@example.org"}).content.decode()
    assert "If this address is enrolled" in page and not mail.outbox


def test_errors_are_said_in_the_patients_language_and_nothing_is_saved(client, program):
    version = approved_version(program, "DE")
    response = client.post("/p/psoriasis/DE/enroll/", form_data(
        version, email="kein-at-zeichen", purpose_program_participation=None), HTTP_USER_AGENT="Firefox/140")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Bitte prüfen Sie die markierten Felder." in page
    assert "Allen erforderlichen Zwecken muss zugestimmt werden." in page
    approved_version(program, "JP")
    japanese = client.post("/p/psoriasis/JP/enroll/", form_data(
        version, time_zone="Asia/Tokyo", purpose_program_participation=None),
        HTTP_USER_AGENT="Safari/18").content.decode()
    assert "必須の目的すべてに同意する必要があります。" in japanese
    assert not Patient.objects.exists() and not ConsentRecord.objects.exists() and not mail.outbox


def test_after_consenting_and_after_signing_in_a_patient_lands_on_their_content(
        client, program, django_capture_on_commit_callbacks):
    version = approved_version(program, "DE")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/p/psoriasis/DE/enroll/", form_data(version), HTTP_USER_AGENT="Firefox/140")
    confirmed = client.post("/p/verify/", {"code": last_code()})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/p/me/page/"
    assert client.get(confirmed["Location"]).status_code == 200
    client.post("/p/sign-out/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/p/sign-in/", {"email": "lena@example.org"})
    signed_in = client.post("/p/sign-in/code/", {"code": last_code()})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/p/me/page/"
    # A changed consent waiting to be signed: the consent page says so, and that is where they land.
    approved_version(program, "DE", material=True)
    client.post("/p/sign-out/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/p/sign-in/", {"email": "lena@example.org"})
    assert client.post("/p/sign-in/code/", {"code": last_code()})["Location"] == "/p/me/"


def test_a_japanese_patient_gives_a_prefecture_and_the_magazine_can_address_them(client, program):
    from sojourn.core.actors import Actor
    from sojourn.people.services.patients import open_for_delivery

    version = approved_version(program, "JP")
    page = client.get("/p/psoriasis/JP/enroll/").content.decode()
    assert 'name="region"' in page and "都道府県" in page  # asked as Japan Post calls it
    approved_version(program, "DE")
    assert 'name="region"' not in client.get("/p/psoriasis/DE/enroll/").content.decode()  # none in Germany
    response = client.post("/p/psoriasis/JP/enroll/", form_data(
        version, time_zone="Asia/Tokyo", street="丸の内1-1-1", postal_code="100-0005", city="千代田区",
        region="東京都"), HTTP_USER_AGENT="Safari/18")
    assert response.status_code == 302
    patient = Patient.objects.get()
    opened = open_for_delivery(actor=Actor.system("channel:print"), patient_ids=[patient.pk],
                               fields=("postal_address",), purpose="test")
    address = json.loads(opened[patient.pk]["postal_address"])
    assert (address["region"], address["city"], address["lines"]) == ("東京都", "千代田区", ["丸の内1-1-1"])
