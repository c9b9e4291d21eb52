"""Signing in to the portals with a one-time code: the answer never tells whether an address is
enrolled (status, page, cookies), and codes cannot be asked for without end, per address and per
client, enrolled or not."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, enroll
from sojourn.people.models import Patient

KNOWN = "lena@example.org"
UNKNOWN = "nobody@example.org"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def patient(program, django_capture_on_commit_callbacks) -> Patient:
    with django_capture_on_commit_callbacks(execute=True):
        enrolled, _record = enroll(program, "DE", email=KNOWN)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    mail.outbox.clear()
    return verify_patient(actor=SELF, patient=enrolled, code=code)


def seen(response) -> tuple:
    """What a visitor can tell from an answer: status, page, and each cookie's name and attributes."""
    cookies = {name: {k: v for k, v in morsel.items() if k != "expires"} for name, morsel in response.cookies.items()}
    return (response.status_code, [t.name for t in response.templates],
            CSRF.sub("", response.content.decode()), cookies)


def ask_for_code(client: Client, email: str, path: str = "/p/sign-in/", address: str = "192.0.2.10", **headers):
    return client.post(path, {"email": email}, REMOTE_ADDR=address, **headers)


@pytest.mark.parametrize("path", ["/p/sign-in/", "/p/hcp/sign-in/"])
def test_known_and_unknown_addresses_get_the_same_answer_and_cookies(patient, signed_in_hcp, path,
                                                                      django_capture_on_commit_callbacks):
    known = KNOWN if path == "/p/sign-in/" else "dana@clinic.example"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for_known = ask_for_code(Client(), known, path)
        for_unknown = ask_for_code(Client(), UNKNOWN, path)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [known]  # the code went to the enrolled one only
    assert seen(for_known) == seen(for_unknown)
    assert "sessionid" in for_unknown.cookies  # both carry a session, so the cookie tells nothing
    assert for_unknown.cookies["sessionid"]["httponly"] and for_unknown.cookies["sessionid"]["samesite"] == "Lax"


def test_a_wrong_code_after_asking_reads_the_same_for_known_and_unknown_addresses(patient):
    known, unknown = Client(), Client()
    ask_for_code(known, KNOWN)
    ask_for_code(unknown, UNKNOWN)
    first = known.post("/p/sign-in/code/", {"code": "000000"})
    second = unknown.post("/p/sign-in/code/", {"code": "000000"})
    assert (first.status_code, CSRF.sub("", first.content.decode())) == (
        second.status_code, CSRF.sub("", second.content.decode()))


@pytest.mark.parametrize("email", [KNOWN, UNKNOWN])
def test_one_address_gets_only_so_many_codes_an_hour(patient, settings, email, django_capture_on_commit_callbacks):
    limit = settings.SOJOURN_CODE_REQUESTS_PER_ADDRESS
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(limit + 3):  # from ever new clients: the address alone is limited
            answers.append(ask_for_code(Client(), email, address=f"198.51.100.{n}"))
    assert [a.status_code for a in answers] == [200] * limit + [429] * 3
    assert len(mail.outbox) == (limit if email == KNOWN else 0)
    refused = answers[-1]
    assert "Too many codes were asked for in a short time. Ask again in" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "sessionid" not in refused.cookies  # a refusal opens no session, enrolled or not
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert ask_for_code(Client(), email).status_code == 200  # the next hour, codes again


def test_one_client_gets_only_so_many_codes_whatever_the_addresses(patient, settings,
                                                                  django_capture_on_commit_callbacks):
    limit = settings.SOJOURN_CODE_REQUESTS_PER_CLIENT
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        answers = [ask_for_code(client, f"someone{n}@example.org").status_code for n in range(limit)]
        answers.append(ask_for_code(client, KNOWN).status_code)
    assert answers == [200] * limit + [429]
    assert mail.outbox == []  # the enrolled address asked past the client's limit: no code
    assert ask_for_code(Client(), KNOWN, address="203.0.113.5").status_code == 200  # another client may


def test_the_refusal_is_said_in_the_visitors_language(program, settings):
    settings.SOJOURN_CODE_REQUESTS_PER_ADDRESS = 1
    ask_for_code(Client(), UNKNOWN)
    refused = ask_for_code(Client(), UNKNOWN, HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 429
    assert "Zu viele Codes" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_changes_nothing_in_the_answer(program, settings, caplog):
    enrolled, _record = enroll(program, "DE", email=KNOWN)
    Patient.objects.filter(pk=enrolled.pk).update(status=Patient.Status.ACTIVE)
    with socket.socket() as closed:  # a port nothing listens on: the SMTP connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    for_known = ask_for_code(Client(), KNOWN)  # the code is mailed when the request's transaction commits
    for_unknown = ask_for_code(Client(), UNKNOWN)
    # The same page, cookies and status (the test client also lists the mail's template, rendered in the
    # request for the enrolled address only: not something a visitor sees).
    known, unknown = seen(for_known), seen(for_unknown)
    assert for_known.status_code == 200 and known[0::2] + known[3:] == unknown[0::2] + unknown[3:]
    assert enrolled.pseudonym in caplog.text and KNOWN not in caplog.text
