"""Fixtures shared by the tests of more than one app (and by tests/): the fixed cast of a program, its
markets and its people, an enrolled patient, an enrolled HCP, and the insights cohort.

What belongs where: a fixture used by one app only lives in that app's tests/conftest.py (or in its one
test module); one used by several apps lives here. Helpers that are not fixtures (constants, builders,
classes) live in a non-test module such as <app>/tests/factories.py or helpers.py, never in a test_*.py
module: no test module imports another (tests/test_code_layout.py checks it)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class Cast:
    program: object
    other_program: object
    admin: object
    nurse_de: object
    nurse_gb: object
    analyst: object
    outsider: object


@pytest.fixture
def program(db):
    from sojourn.core.tests.factories import make_program

    return make_program()


@pytest.fixture
def cast(db, program):
    from sojourn.core.permissions import Role
    from sojourn.core.tests.factories import make_program
    from sojourn.people.tests.factories import make_staff

    other = make_program("eczema", markets=("DE",))
    return Cast(
        program=program,
        other_program=other,
        admin=make_staff("admin@sponsor.example", Role.ADMIN, program),
        nurse_de=make_staff("nurse.de@sponsor.example", Role.NURSE, program, ("DE",), language="de",
                            time_zone="Europe/Berlin"),
        nurse_gb=make_staff("nurse.gb@sponsor.example", Role.NURSE, program, ("GB",)),
        analyst=make_staff("analyst@sponsor.example", Role.INSIGHTS_ANALYST, program),
        outsider=make_staff("outsider@elsewhere.example", Role.ADMIN, other),
    )


@pytest.fixture
def active_patient(program, django_capture_on_commit_callbacks):
    """Lena, enrolled in Germany with a phone number and verified with the code she was emailed."""
    import re

    from django.core import mail

    from sojourn.consent.services.enrollment import verify_patient
    from sojourn.consent.tests.factories import SELF, enroll

    with django_capture_on_commit_callbacks(execute=True):
        patient, _record = enroll(program, "DE", phone="+49 30 901820")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    return verify_patient(actor=SELF, patient=patient, code=code)


@pytest.fixture
def signed_in_hcp(client, program, django_capture_on_commit_callbacks):
    """Dr Dana Reyes, enrolled on the US HCP page and signed in with the code she was emailed."""
    from sojourn.consent.tests.factories import approved_version, code_for, hcp_form
    from sojourn.people.models import Hcp

    approved_version(program, "US", audience="hcp")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/p/psoriasis/US/hcp/enroll/", hcp_form(), HTTP_USER_AGENT="Safari/18")
    assert response.status_code == 302 and response["Location"] == "/p/hcp/verify/"
    confirmed = client.post("/p/hcp/verify/", {"code": code_for("dana@clinic.example")})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/p/hcp/me/"
    return Hcp.objects.select_related("market", "program", "data_key").get()


@pytest.fixture
def world(program):
    """Three stages, the needs questionnaire and patient consent in four markets (insights' test_kpis has
    a world of its own)."""
    from sojourn.consent.tests.factories import approved_version
    from sojourn.core.tests.factories import SYSTEM
    from sojourn.insights.tests.factories import NEEDS_URL, NOW
    from sojourn.questionnaires.models import Questionnaire
    from sojourn.tracking.services.taxonomy import define_stage

    stages = {code: define_stage(actor=SYSTEM, program=program, code=code, labels={"en": code}, position=n)
              for n, code in enumerate(("diagnosis", "treatment_initiation", "daily_management"))}
    Questionnaire.objects.create(
        program=program, url=NEEDS_URL, version=1, name="needs", title="Needs", status="approved", approved_at=NOW,
        resource={}, languages=["en"], sha256="0" * 64,
        scoring={"scales": [{"id": "side_effects", "items": ["a"], "method": "mean"}]})
    versions = {country: approved_version(program, country) for country in ("DE", "GB", "US", "JP")}
    return {"program": program, "stages": stages, "versions": versions}


@pytest.fixture
def cohort(world):
    """The world with patients who answered how much side effects worry them at treatment initiation."""
    from sojourn.insights.tests.factories import SCORES, answered, days, event, patient

    for country, scores in SCORES.items():
        for value in scores:
            who = patient(world, country)
            event(who, "stage.changed", days(60), stage="treatment_initiation")
            answered(who, days(50), value)
            answered(who, days(10), 3 - value)  # a later answer: only the first one in the stage counts
    # Answers given in another stage do not count, nor before any stage was known.
    for value in (0, 0, 0):
        who = patient(world, "DE")
        event(who, "stage.changed", days(60), stage="diagnosis")
        answered(who, days(50), value)
        event(who, "stage.changed", days(40), stage="treatment_initiation")
    answered(patient(world, "GB"), days(50), 3)
    return world


@pytest.fixture
def stages(program):
    """The program with the two stages an outside survey's answers are mapped onto."""
    from sojourn.core.tests.factories import SYSTEM
    from sojourn.tracking.services.taxonomy import define_stage

    for n, code in enumerate(("diagnosis", "treatment_initiation")):
        define_stage(actor=SYSTEM, program=program, code=code, labels={"en": code}, position=n)
    return program


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 as in production, with a small memory cost so that a cast of six signs up in moments."""
    settings.PASSWORD_HASHERS = ["sojourn.people.tests.hashers.TestArgon2PasswordHasher"]
