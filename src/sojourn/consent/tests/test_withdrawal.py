from __future__ import annotations

import pytest

from sojourn.consent import hooks
from sojourn.consent.models import ConsentDecision, ContactPreferences, ReconsentRequest, Verification
from sojourn.consent.queries import granted_purposes, may_contact
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.consent.tests.factories import approved_version, me
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import actor_with


def test_withdrawing_one_channel_stops_that_channel_only(active_patient):
    assert may_contact(active_patient, "sms", ignore_quiet_hours=True).allowed
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=["contact_sms"], via="portal")
    assert not may_contact(active_patient, "sms", ignore_quiet_hours=True).allowed
    assert may_contact(active_patient, "email").allowed
    assert "sms" not in ContactPreferences.objects.get(patient=active_patient).channels
    assert "contact_sms" not in granted_purposes(active_patient)


def test_withdrawing_everything_stops_everything_in_the_same_transaction(active_patient, program):
    approved_version(program, "DE", material=True)  # leaves an open reconsent request
    Verification.objects.create(patient=active_patient, channel="email", code_hash="x" * 64,
                                created_at=active_patient.created_at, expires_at=active_patient.created_at)
    event = withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=None, via="portal",
                             reason="feeling better")
    active_patient.refresh_from_db()
    assert event.everything and active_patient.status == "withdrawn"
    for channel in ("web", "email", "sms", "print", "phone"):
        assert not may_contact(active_patient, channel, ignore_quiet_hours=True).allowed
    assert ContactPreferences.objects.get(patient=active_patient).channels == []
    assert not Verification.objects.filter(patient=active_patient, cancelled_at__isnull=True,
                                           consumed_at__isnull=True).exists()
    assert not ReconsentRequest.objects.filter(record__patient=active_patient, closed_at__isnull=True).exists()
    entry = AuditEntry.objects.filter(action="consent.withdrawn").latest("seq")
    assert "sojourn.consent.subscriptions.narrow_contact_preferences" in entry.after["effects"]


def test_withdrawing_a_required_purpose_ends_participation(active_patient):
    event = withdraw_consent(actor=me(active_patient), patient=active_patient,
                             purposes=["program_participation"], via="nurse")
    assert event.everything and granted_purposes(active_patient) == set()


def test_a_subscriber_that_fails_undoes_the_withdrawal(active_patient, monkeypatch):
    calls = []

    def broken(event):
        calls.append(event)
        raise RuntimeError("the outbox could not be cancelled")

    monkeypatch.setitem(hooks.consent_withdrawn._effects, "test.broken", broken)
    with pytest.raises(RuntimeError):
        withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=None, via="portal")
    active_patient.refresh_from_db()
    assert calls and active_patient.status == "active"
    assert not ConsentDecision.objects.filter(record__patient=active_patient, withdrawn_at__isnull=False).exists()


def test_subscribers_see_what_was_withdrawn(active_patient, monkeypatch):
    seen = []
    monkeypatch.setitem(hooks.consent_withdrawn._effects, "test.spy", seen.append)
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=["contact_post"], via="portal")
    assert seen[0].purposes == frozenset({"contact_post"}) and not seen[0].everything


def test_only_the_patient_or_a_nurse_of_the_market_may_withdraw(active_patient, program):
    with pytest.raises(AccessDenied):
        withdraw_consent(actor=actor_with(Role.NURSE, program, ("GB",)), patient=active_patient, purposes=None,
                         via="nurse")
    with pytest.raises(AccessDenied):
        withdraw_consent(actor=Actor(kind="patient", label="P-SOMEONEELSE"), patient=active_patient,
                         purposes=None, via="portal")
    withdraw_consent(actor=actor_with(Role.NURSE, program, ("DE",)), patient=active_patient,
                     purposes=["contact_phone"], via="nurse")


def test_quiet_hours_of_the_market_hold_back_sms_and_calls(active_patient):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    assert not may_contact(active_patient, "sms", datetime(2026, 5, 4, 22, 30, tzinfo=berlin)).allowed
    assert may_contact(active_patient, "sms", datetime(2026, 5, 4, 10, 0, tzinfo=berlin)).allowed
    assert may_contact(active_patient, "email", datetime(2026, 5, 4, 22, 30, tzinfo=berlin)).allowed
