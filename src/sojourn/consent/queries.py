"""What a person's consent covers, read by every part that might contact them."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from sojourn.consent.models import (
    ConsentDocument,
    ConsentRecord,
    ConsentVersion,
    ContactPreferences,
    DataSubjectRequest,
)
from sojourn.core.actors import Actor
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.people.models import Patient

# The consent purpose that lets the program use each channel.
CHANNEL_PURPOSE = {"email": "contact_email", "sms": "contact_sms", "print": "contact_post", "phone": "contact_phone",
                   "web": None}


def current_version(program: Program, market: Market, audience: str) -> ConsentVersion | None:
    """The version people sign today: the approved one (there is at most one)."""
    return (ConsentVersion.objects.filter(document__program=program, document__market=market,
                                          document__audience=audience, status=ConsentVersion.Status.APPROVED)
            .select_related("document").prefetch_related("texts").order_by("-number").first())


def active_record(patient: Patient) -> ConsentRecord | None:
    return (ConsentRecord.objects.filter(patient=patient, status=ConsentRecord.Status.ACTIVE)
            .select_related("version__document").prefetch_related("decisions").first())


def granted_purposes(patient: Patient) -> set[str]:
    """Purposes the patient agreed to and has not withdrawn, on the record in force."""
    record = active_record(patient)
    if record is None:
        return set()
    return {d.purpose for d in record.decisions.all() if d.granted and d.withdrawn_at is None}


@dataclass(frozen=True)
class ContactCheck:
    allowed: bool
    reason: str


def _within(now: time, start: time, end: time) -> bool:
    """Is the clock time inside [start, end), a window that may wrap past midnight?"""
    return start <= now < end if start <= end else now >= start or now < end


def may_contact(patient: Patient, channel: str, at: datetime | None = None, *, ignore_quiet_hours: bool = False
                ) -> ContactCheck:
    """Decide whether the program may reach this patient on this channel now, and say why not.

    Asked when an action is decided and again when it is delivered.
    """
    if patient.status != Patient.Status.ACTIVE:
        return ContactCheck(False, f"patient is {patient.status}")
    if patient.verified_at is None:
        return ContactCheck(False, "contact details not verified")
    purposes = granted_purposes(patient)
    if "program_participation" not in purposes:
        return ContactCheck(False, "no consent to take part")
    if channel not in CHANNEL_PURPOSE:
        return ContactCheck(False, f"unknown channel {channel}")
    needed = CHANNEL_PURPOSE[channel]
    if needed and needed not in purposes:
        return ContactCheck(False, f"no consent for {needed}")
    if channel not in patient.market.channels:
        return ContactCheck(False, f"channel {channel} is not offered in {patient.market.country}")
    preferences = ContactPreferences.objects.filter(patient=patient).first()
    if preferences is not None and channel not in preferences.channels:
        return ContactCheck(False, f"patient turned {channel} off")
    if channel in {"sms", "phone"} and not ignore_quiet_hours:
        local = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(patient.time_zone))
        quiet = patient.market.pack["regulatory"]["quiet_hours"]
        own = preferences is not None and preferences.quiet_start is not None
        start = preferences.quiet_start if own else time.fromisoformat(quiet["start"])
        end = preferences.quiet_end if own else time.fromisoformat(quiet["end"])
        if _within(local.time(), start, end):
            return ContactCheck(False, "quiet hours")
        if preferences and preferences.contact_days and local.isoweekday() not in preferences.contact_days:
            return ContactCheck(False, "not a contact day")
        if preferences and preferences.contact_from and preferences.contact_until and not _within(
                local.time(), preferences.contact_from, preferences.contact_until):
            return ContactCheck(False, "outside the patient's contact times")
    return ContactCheck(True, "consented")


def patient_document(program: Program, market: Market) -> ConsentDocument | None:
    return ConsentDocument.objects.filter(program=program, market=market, audience="patient").first()


def data_requests_for(actor: Actor, program: Program, *, status: str | None = None,
                      market: str | None = None) -> QuerySet[DataSubjectRequest]:
    """Data-subject requests in the markets where the actor manages patients, soonest deadline first."""
    requests = (DataSubjectRequest.objects.filter(patient__program=program)
                .select_related("patient__market").order_by("due_at", "pk"))
    allowed = actor.markets_in(Permission.PATIENT_MANAGE, program.pk)
    if allowed is not None:
        requests = requests.filter(patient__market__country__in=allowed)
    if status:
        requests = requests.filter(status=status)
    if market:
        requests = requests.filter(patient__market__country=market)
    return requests


def data_request(actor: Actor, request_id: int) -> DataSubjectRequest | None:
    found = (DataSubjectRequest.objects.select_related("patient__market", "patient__program", "patient__data_key")
             .filter(pk=request_id).first())
    if found is None or not actor.can(Permission.PATIENT_MANAGE, found.patient.program_id,
                                      found.patient.market.country):
        return None
    return found
