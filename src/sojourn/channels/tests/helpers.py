"""Helpers the channels tests share (and dialogue's fenced hand-over): an SMTP server's handler, a
patient with a postal address, a printed copy read back as text, midday in Berlin, and worker threads
side by side on one PostgreSQL."""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from email import policy
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from sojourn.channels.services.delivery import deliver_due
from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, approved_version, enroll
from sojourn.people.services.patients import seal_for_patient

BASE = "https://companion.example"  # the public URL links in emails point to
PDFTOTEXT = shutil.which("pdftotext")


class Mailbox:
    """An SMTP server's handler: keeps what it accepts; refuses recipients it is told to."""

    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"



def patient_with_address(program, country, email, address, capture):
    with capture(execute=True):
        patient, _record = enroll(program, country, version=approved_version(program, country), email=email)
    code = re.search(r"\b(\d{6})\b", next(m for m in reversed(mail.outbox) if email in m.to).body).group(1)
    patient = verify_patient(actor=SELF, patient=patient, code=code)
    if address is not None:
        patient.postal_address_sealed = seal_for_patient(patient, "postal_address", json.dumps(address,
                                                                                              ensure_ascii=False))
        patient.save(update_fields=["postal_address_sealed"])
    return patient


def text_of(path):
    if PDFTOTEXT is None:  # .ci/run installs poppler-utils: in CI this never skips
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext is missing, and this test may not skip in CI", pytrace=False)
        pytest.skip("pdftotext (poppler-utils) is missing: apt-get install poppler-utils; CI runs this")
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def noon():
    """Midday in Berlin, whenever the test runs: text messages wait out the quiet hours."""
    return timezone.now().replace(hour=11, minute=0, second=0, microsecond=0)


# The marks of a module whose workers run side by side: each worker its own connection to one database.
SIDE_BY_SIDE = [
    pytest.mark.skipif(os.environ.get("SOJOURN_DATABASE_URL", "").split(":")[0] not in {"postgres", "postgresql"},
                       reason="workers side by side need a database they can all open: runs on the PostgreSQL leg"),
    pytest.mark.django_db(transaction=True),
]
LEASE = timedelta(minutes=2)  # the worker's default


class Workers:
    """Worker threads, each with its own database connection, running the real delivery."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        self.threads: list[threading.Thread] = []

    def start(self, name: str, now: datetime, work: Callable[..., Any] = deliver_due) -> None:
        def run() -> None:
            try:
                self.results[name] = work(owner=name, now=now)
            except BaseException as error:  # the test looks at it, whatever it is
                self.results[name] = error
            finally:
                connection.close()

        thread = threading.Thread(target=run, name=name)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=60)
        assert not [t.name for t in self.threads if t.is_alive()]
