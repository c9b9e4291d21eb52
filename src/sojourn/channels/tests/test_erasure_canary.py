"""The erasure canary: a patient with unmistakable identifiers enrolls, is messaged on every channel by
the real worker (personal page, email into the mail spool, text message through the local gateway, the
printed magazine, a nurse call), and is erased. Afterwards no identifier may be found anywhere Sojourn
wrote: any file under the var directory (PDFs read back as text, mail decoded), any column of any table,
and any log line or command output."""

from __future__ import annotations

import email
import logging
import re
import sys
from datetime import date, timedelta
from email import policy
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from sojourn.channels.models import NurseTask, PrintCopy
from sojourn.channels.services.nurse import claim_task, complete_call
from sojourn.channels.sms import LocalGateway
from sojourn.channels.tests.helpers import text_of
from sojourn.consent.services.dsr import complete_erasure_request, open_data_subject_request
from sojourn.consent.services.enrollment import enroll_patient, verify_patient
from sojourn.consent.tests.factories import SELF, approved_version, me, web_signature
from sojourn.content.tests.factories import approved_item
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.dialogue.worker import Worker
from sojourn.people.identity import PatientIdentity, PostalAddress
from sojourn.people.queries import actor_for_user
from sojourn.safety.questions import QUESTIONS
from sojourn.tracking.services.events import record_events

pytestmark = pytest.mark.django_db

GIVEN, FAMILY = "Quirina", "Zwetschkenbaum"
EMAIL = "quirina.zwetschkenbaum@example.org"
PHONE = "+49 30 90182277"
STREET = "Quittenweg 17"
BORN = date(1979, 11, 23)
# Every form in which an identifier could have been written down.
CANARIES = (GIVEN, FAMILY, EMAIL, "quirina.zwetschkenbaum", "+493090182277", "3090182277", "90182277",
            STREET, "Quittenweg")


@pytest.fixture
def var_dir(settings, tmp_path):
    """Every file Sojourn writes goes under one fresh var directory, with the mail backend the project
    configures when there is no SMTP server (the test runner's in-memory outbox would hide the spool)."""
    configured = sys.modules["sojourn.settings"]
    var = tmp_path / "var"
    settings.VAR_DIR = var
    settings.EMAIL_BACKEND = configured.EMAIL_BACKEND if not configured.EMAIL_HOST else \
        "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = var / "mail"
    settings.SOJOURN_SMS_PROVIDER = "local"
    settings.SOJOURN_SMS_GATEWAY_DIR = var / "sms"
    settings.SOJOURN_PRINT_DIR = var / "print"
    settings.SOJOURN_PRINT_SFTP_URL = ""
    settings.SOJOURN_CHANNEL_ADAPTERS = {}
    return var


def spooled_code(var: Path) -> str:
    """The one-time code, read from the mail spool as a person trying the demo does."""
    for path in sorted(var.joinpath("mail").rglob("*"), key=lambda p: p.stat().st_mtime, reverse=True):
        if path.is_file():
            found = re.search(r"\b(\d{6})\b", "\n".join(_mail_texts(path.read_bytes())))
            if found:
                return found.group(1)
    raise AssertionError("no code in the mail spool")


def _mail_texts(raw: bytes) -> list[str]:
    """A spooled file as written, and each message in it decoded (quoted-printable, base64, headers)."""
    texts = [raw.decode("utf-8", "replace")]
    for chunk in re.split(rb"\n-{60,}\n", raw):
        message = email.message_from_bytes(chunk.strip(), policy=policy.default)
        texts.extend(str(value) for value in message.values())
        for part in message.walk():
            if not part.is_multipart():
                payload = part.get_payload(decode=True) or b""
                texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return texts


def files_text(var: Path) -> dict[str, str]:
    out = {}
    for path in var.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".pdf":
            out[str(path)] = text_of(path)
        else:
            out[str(path)] = "\n".join(_mail_texts(path.read_bytes()))
    return out


def database_text() -> dict[str, str]:
    """Every table, every row, every column as text (binary columns decoded as if they were text)."""
    out = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            values = []
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    values.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))
            out[table] = "\n".join(values)
    return out


def found_in(texts: dict[str, str]) -> dict[str, list[str]]:
    return {where: hits for where, text in texts.items()
            if (hits := [c for c in CANARIES if c.casefold() in text.casefold()])}


def test_nothing_of_an_erased_patient_is_left_in_files_database_or_logs(program, cast, var_dir, caplog, capsys,
                                                                       django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    version = approved_version(program, "DE")
    with django_capture_on_commit_callbacks(execute=True):
        patient, _record = enroll_patient(
            actor=SELF, program=program, market="DE", version_id=version.pk, locale="de-DE",
            time_zone="Europe/Berlin", answers={p: True for p in version.purpose_codes()},
            identity=PatientIdentity(given_name=GIVEN, family_name=FAMILY, email=EMAIL, phone=PHONE, birth_date=BORN,
                                     postal_address=PostalAddress((STREET,), "10117", "Berlin", "", "DE")),
            signature=web_signature(name=f"{GIVEN} {FAMILY}"))
    patient = verify_patient(actor=SELF, patient=patient, code=spooled_code(var_dir))
    approved_item(program, "canary-tip", "tip", {"de-DE": {
        "title": "Hallo {given_name}", "body": "Hallo {given_name}, kühlen Sie die Haut."}})
    approved_item(program, "canary-call", "call_script", {"de-DE": {"title": "Anruf", "body": "Fragen Sie nach."}})
    live_rules(program, [rule("everywhere", {"events": ["medication.missed"]}, [
        {"do": "send", "channel": "web", "content": "canary-tip"},
        {"do": "send", "channel": "email", "content": "canary-tip"},
        {"do": "send", "channel": "sms", "content": "canary-tip"},
        {"do": "print", "content": "canary-tip"},
        {"do": "nurse_task", "reason": "adherence support", "due_in": "4h", "script": "canary-call"}])])
    noon = timezone.now().replace(hour=11, minute=0, second=0, microsecond=0)  # in Berlin: past quiet hours
    with time_machine.travel(noon, tick=False):
        record_events(SYSTEM, [{"client_id": "c1", "type": "medication.missed", "patient": patient.pseudonym,
                                "occurred_at": (noon - timedelta(minutes=1)).isoformat(),
                                "data": {"product": "biologic"}}], source="test", now=noon)
        Worker(batch=100).step()
    nurse = actor_for_user(cast.nurse_de)
    task = claim_task(actor=nurse, task=NurseTask.objects.get(patient=patient))
    complete_call(actor=nurse, task=task, outcome="reached", notes=f"{GIVEN} ruft zurück.",
                  safety=dict.fromkeys(QUESTIONS, "no"))
    call_command("magazine", "build", "--program", program.slug, "--issue", "2026-12")
    assert PrintCopy.objects.filter(patient=patient).exclude(sha256="").exists()
    # Before the erasure each channel did reach the patient: the spooled mail and the printed page in
    # clear (they are for a mailbox and a print house), the text message sealed in the gateway's log.
    before = found_in(files_text(var_dir))
    assert any("/mail/" in path for path in before) and any(path.endswith(".pdf") for path in before)
    [text] = LocalGateway(var_dir / "sms").sent()
    assert text["to"] == "+493090182277" and text["text"].startswith(f"Hallo {GIVEN}")

    request = open_data_subject_request(actor=me(patient), patient=patient, kind="erasure", via="portal")
    complete_erasure_request(actor=nurse, request=request)

    assert found_in(files_text(var_dir)) == {}
    assert LocalGateway(var_dir / "sms").sent() == []
    assert found_in(database_text()) == {}
    output = capsys.readouterr()
    assert found_in({"log": caplog.text, "stdout": output.out, "stderr": output.err}) == {}
