"""A patient whose confirmation code expired (or never came) asks for a new one on the confirmation page,
by naming the address they enrolled with; another address gets the same answer and no mail."""

from __future__ import annotations

import re

from django.core import mail
from django.utils import timezone

from sojourn.consent.models import Verification
from sojourn.consent.tests.factories import approved_version
from sojourn.people.models import Patient

ENROLLMENT = {"given_name": "Lena", "family_name": "Hoffmann", "email": "lena@example.org", "phone": "",
              "birth_date": "1984-02-29", "time_zone": "Europe/Berlin", "typed_name": "Lena Hoffmann",
              "purpose_program_participation": "on", "purpose_contact_email": "on"}


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def test_a_patient_whose_code_expired_asks_for_a_new_one_and_confirms(
        client, program, django_capture_on_commit_callbacks):
    approved_version(program, "DE")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/p/psoriasis/DE/enroll/", ENROLLMENT, HTTP_USER_AGENT="Firefox/140")
    old_code = last_code()
    Verification.objects.update(expires_at=timezone.now())
    expired = client.post("/p/verify/", {"code": old_code})  # in the market's language
    assert expired.status_code == 400 and "fordern Sie einen neuen an" in expired.content.decode()
    assert "Neuen Code senden" in expired.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        other = client.post("/p/verify/", {"again": "1", "email": "someone@example.org"})
    assert other.status_code == 200 and len(mail.outbox) == 1  # the same answer, and nothing sent
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/p/verify/", {"again": "1", "email": "Lena@example.org"})
    sent = "haben wir einen neuen Code dorthin gesendet"
    assert again.status_code == 200 and sent in again.content.decode() and sent in other.content.decode()
    assert len(mail.outbox) == 2 and mail.outbox[-1].to == ["Lena@example.org"]
    assert client.post("/p/verify/", {"code": old_code}).status_code == 400  # the old one is cancelled
    assert client.post("/p/verify/", {"code": last_code()}).status_code == 302
    assert Patient.objects.get().status == Patient.Status.ACTIVE


def test_asking_for_codes_again_and_again_is_slowed_down(client, program, django_capture_on_commit_callbacks):
    approved_version(program, "DE")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/p/psoriasis/DE/enroll/", ENROLLMENT, HTTP_USER_AGENT="Firefox/140")
    answers = [client.post("/p/verify/", {"again": "1", "email": "lena@example.org"}).status_code
               for _ in range(12)]
    assert answers[0] == 200 and answers[-1] == 429
    assert client.post("/p/verify/", {"again": "1", "email": "not an address"}).status_code in {400, 429}
