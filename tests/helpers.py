"""Helpers the tests in tests/ share: the sojourn command beside this Python, a free port and a plain GET
for a server started by a test, the script that sets up a served database, and the catalogs' folder."""

from __future__ import annotations

import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parents[1] / "src" / "sojourn" / "locale"

SOJOURN = str(Path(sys.executable).with_name("sojourn"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # generous: a loaded machine is slow, not broken
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# A program, an enrolled and verified patient, and an administrator's API token, made through the
# product's services in the server's own database (mail kept in memory to read the code back).
SETUP = """
import json, re
import django
django.setup()
from django.core import mail
from django.test.utils import setup_test_environment
setup_test_environment()
from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, enroll
from sojourn.core.actors import Actor
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import make_program
from sojourn.people.services.tokens import issue_api_token
from sojourn.people.tests.factories import make_staff
program = make_program()
patient, _record = enroll(program, "DE", phone="+49 30 901820")
patient = verify_patient(actor=SELF, patient=patient, code=re.search(r"\\b(\\d{6})\\b", mail.outbox[-1].body).group(1))
user = make_staff("admin@sponsor.example", Role.ADMIN, program)
_token, secret = issue_api_token(actor=Actor.system("test"), user=user, name="senders")
print(json.dumps({"token": secret, "patient": patient.pseudonym}))
"""
