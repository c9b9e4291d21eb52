"""No path creates a patient contactable on a channel without a consent that covers it."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sojourn.consent.queries import CHANNEL_PURPOSE, may_contact
from sojourn.consent.services.enrollment import Signature, verify_patient
from sojourn.consent.services.preferences import PreferenceChange, update_contact_preferences
from sojourn.consent.tests.factories import SELF, approved_version, enroll
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import actor_with
from sojourn.people.tests.factories import make_patient

OPTIONAL = ["contact_email", "contact_sms", "contact_phone", "contact_post", "nurse_calls", "research_use",
            "share_with_hcp"]
NOON_IN_BERLIN = datetime(2026, 5, 5, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_patient_registered_without_consent_is_reachable_on_no_channel(program):
    patient = make_patient(program, "DE")
    assert all(not may_contact(patient, ch, NOON_IN_BERLIN).allowed for ch in CHANNEL_PURPOSE)


_serial = count(1)


@pytest.fixture
def de_version(program):
    return approved_version(program, "DE")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.fixed_dictionaries({p: st.booleans() for p in OPTIONAL}), by_phone=st.booleans())
def test_every_enrolled_patient_is_reachable_exactly_where_consent_allows(program, de_version, answers, by_phone,
                                                                           django_capture_on_commit_callbacks):
    version = de_version
    actor, signature = SELF, None
    if by_phone:
        nurse = actor_with(Role.NURSE, program, ("DE",))
        actor = Actor(kind="staff", label="nurse", user_id=5, grants=nurse.grants)
        signature = Signature(typed_name="Lena", method="phone", signer_time_zone="Europe/Berlin",
                              script_version="v1")
    email = f"patient{next(_serial)}@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        patient, _record = enroll(program, "DE", version=version, answers={"program_participation": True, **answers},
                                  email=email, actor=actor, signature=signature)
    for channel in CHANNEL_PURPOSE:
        assert not may_contact(patient, channel, NOON_IN_BERLIN).allowed  # nothing before verification
    code = re.search(r"\b(\d{6})\b", [m for m in mail.outbox if email in m.to][-1].body).group(1)
    patient = verify_patient(actor=SELF, patient=patient, code=code)
    for channel, purpose in CHANNEL_PURPOSE.items():
        expected = purpose is None or answers[purpose]
        assert may_contact(patient, channel, NOON_IN_BERLIN).allowed is expected, (channel, answers)
    # Preferences cannot open a channel that consent does not cover.
    refused = [ch for ch, p in CHANNEL_PURPOSE.items() if p and not answers[p]]
    if refused:
        try:
            update_contact_preferences(actor=Actor(kind="patient", label=patient.pseudonym), patient=patient,
                                       change=PreferenceChange(channels=["web", *refused], locale="de-DE"))
        except InvalidInput as exc:
            assert exc.details[0].field == "channels"
        else:
            raise AssertionError("preferences opened a channel without consent")


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from(["active", "pending", "withdrawn"]), verified=st.booleans(),
       purposes=st.sets(st.sampled_from(["program_participation", *OPTIONAL])),
       market_channels=st.lists(st.sampled_from(list(CHANNEL_PURPOSE)), unique=True),
       preferred=st.none() | st.lists(st.sampled_from(list(CHANNEL_PURPOSE)), unique=True))
def test_the_channels_the_rules_see_are_those_a_check_allows_at_some_time_of_day(status, verified, purposes,
                                                                                 market_channels, preferred):
    from datetime import time

    from sojourn.consent.queries import ContactFacts

    facts = ContactFacts(status=status, verified=verified, purposes=purposes, country="DE",
                         market_channels=market_channels, time_zone="Europe/Berlin",
                         market_quiet=(time(21, 0), time(8, 0)), preferred_channels=preferred)
    assert facts.channels() == [c for c in CHANNEL_PURPOSE
                                if facts.check(c, NOON_IN_BERLIN, ignore_quiet_hours=True).allowed]
