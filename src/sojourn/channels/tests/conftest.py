"""Fixtures of the channels tests: a real SMTP server on a local port, and magazine readers in Tokyo,
Berlin and nowhere."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from sojourn.channels.services.delivery import deliver_due
from sojourn.channels.tests.helpers import BASE, Mailbox, patient_with_address
from sojourn.content.tests.factories import approved_item
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.tracking.models import PatientNeed
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.taxonomy import define_need, define_stage


@pytest.fixture
def smtp(settings, active_patient):  # enrolled first: its code goes to the test outbox
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks it is up by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.DEFAULT_FROM_EMAIL = "Psoriasis companion <companion@sponsor.example>"
    settings.SOJOURN_PUBLIC_URL = BASE
    settings.SOJOURN_CHANNEL_ADAPTERS = {}
    yield mailbox
    controller.stop()


@pytest.fixture
def readers(program, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    itch = define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch"})
    approved_item(program, "itch-page", "print_block", {
        "ja-JP": {"title": "かゆみとうまく付き合う", "body": "{given_name}さん、肌を冷やすとかゆみが和らぎます。"},
        "de-DE": {"title": "Gut leben mit Juckreiz", "body": "{given_name}, Kühlen lindert den Juckreiz."}},
        needs=["itch"], approval_code="PSO-PRINT-0007")
    define_stage(actor=SYSTEM, program=program, code="switching", labels={"en": "Switching"}, position=3)
    approved_item(program, "switch-page", "print_block", {
        "ja-JP": {"title": "切り替えのとき", "body": "次の治療について。"},
        "de-DE": {"title": "Beim Wechsel", "body": "Zur nächsten Behandlung."}}, needs=["itch"], stages=["switching"])
    approved_item(program, "welcome-page", "print_block", {
        "ja-JP": {"title": "ようこそ", "body": "プログラムへようこそ。"},
        "de-DE": {"title": "Willkommen", "body": "Willkommen im Programm."}})
    tokyo = patient_with_address(program, "JP", "hanako@example.jp", {
        "lines": ["丸の内1-1-1"], "postal_code": "100-0005", "city": "千代田区", "region": "東京都",
        "country": "JP"}, capture)
    berlin = patient_with_address(program, "DE", "lena@example.org", {
        "lines": ["Unter den Linden 5"], "postal_code": "10117", "city": "Berlin", "region": "",
        "country": "DE"}, capture)
    nowhere = patient_with_address(program, "DE", "ohne@example.org", None, capture)
    for patient in (tokyo, berlin, nowhere):
        PatientNeed.objects.create(patient=patient, need=itch, explicit=0.9, implicit=0.0, combined=0.9,
                                   confidence=0.5, explanation=[], updated_at=timezone.now())
    live_rules(program, [rule("welcome-print", {"events": ["portal.page_viewed"]},
                              [{"do": "print", "content": "welcome-page"}])])
    record_events(SYSTEM, [{"client_id": "p-jp", "type": "portal.page_viewed", "patient": tokyo.pseudonym,
                            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                            "data": {"page": "home"}}], source="test")
    deliver_due(owner="w", now=timezone.now())
    return tokyo, berlin, nowhere


@pytest.fixture
def patient_without_nurse_calls(program, django_capture_on_commit_callbacks):
    """A patient enrolled in Germany with a phone number, who said no to nurse calls."""
    from sojourn.consent.services.enrollment import verify_patient
    from sojourn.consent.tests.factories import SELF, approved_version, enroll

    version = approved_version(program, "DE")
    answers = {purpose: True for purpose in version.purpose_codes()} | {"nurse_calls": False}
    with django_capture_on_commit_callbacks(execute=True):
        patient, _record = enroll(program, "DE", version=version, answers=answers, phone="+49 30 901821",
                                  email="jonas@example.org")
    from django.core import mail

    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    return verify_patient(actor=SELF, patient=patient, code=code)
