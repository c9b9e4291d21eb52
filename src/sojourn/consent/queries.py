"""What a person's consent covers, read by every part that might contact them."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from sojourn.consent.models import (
    ConsentDecision,
    ConsentRecord,
    ConsentVersion,
    ContactPreferences,
    DataSubjectRequest,
)
from sojourn.core.actors import Actor
from sojourn.core.db import as_json, as_time, joined_text, rows_for_ids
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.queries import MarketFacts, market_facts
from sojourn.people.models import Hcp, Patient

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


def granted_purposes(person: Patient | Hcp) -> set[str]:
    """Purposes the patient (or doctor) agreed to and has not withdrawn, on the record in force."""
    # One query on the decisions: the record itself (with its sealed receipt) is not needed here.
    whose = {"record__hcp": person} if isinstance(person, Hcp) else {"record__patient": person}
    return set(ConsentDecision.objects.filter(record__status=ConsentRecord.Status.ACTIVE, granted=True,
                                              withdrawn_at__isnull=True, **whose)
               .values_list("purpose", flat=True))


def patients_granting(purposes: tuple[str, ...] | list[str]) -> QuerySet[Patient]:
    """Patients whose consent in force grants every one of these purposes, as a subquery of ids (an
    export reads only them: consent.purposes.EXPORT_PURPOSES)."""
    found = Patient.objects.all()
    for purpose in purposes:
        found = found.filter(pk__in=ConsentDecision.objects.filter(
            record__status=ConsentRecord.Status.ACTIVE, purpose=purpose, granted=True, withdrawn_at__isnull=True)
            .values("record__patient_id"))
    return found.values("pk")


@dataclass(frozen=True)
class ContactCheck:
    allowed: bool
    reason: str


def _within(now: time, start: time, end: time) -> bool:
    """Is the clock time inside [start, end), a window that may wrap past midnight?"""
    return start <= now < end if start <= end else now >= start or now < end


@dataclass
class ContactFacts:
    """Everything `may_contact` needs about one patient, read in bulk for a batch of decisions."""

    status: str
    verified: bool
    purposes: set[str]
    country: str
    market_channels: list[str]
    time_zone: str
    market_quiet: tuple[time, time]
    preferred_channels: list[str] | None = None
    quiet: tuple[time, time] | None = None
    contact_days: list[int] = field(default_factory=list)
    contact_window: tuple[time, time] | None = None
    locale: str = ""
    program_id: int = 0

    def channels(self) -> list[str]:
        """Channels the program may use at some time of day: those `check` allows when quiet hours are
        set aside, asked once per patient rather than once per channel (the rules' facts need it for
        every patient of every batch)."""
        if self.status != Patient.Status.ACTIVE or not self.verified or "program_participation" not in self.purposes:
            return []
        return [c for c, needed in CHANNEL_PURPOSE.items()
                if (not needed or needed in self.purposes) and c in self.market_channels
                and (self.preferred_channels is None or c in self.preferred_channels)]

    def check(self, channel: str, at: datetime | None, *, ignore_quiet_hours: bool = False) -> ContactCheck:
        if self.status != Patient.Status.ACTIVE:
            return ContactCheck(False, f"patient is {self.status}")
        if not self.verified:
            return ContactCheck(False, "contact details not verified")
        if "program_participation" not in self.purposes:
            return ContactCheck(False, "no consent to take part")
        if channel not in CHANNEL_PURPOSE:
            return ContactCheck(False, f"unknown channel {channel}")
        needed = CHANNEL_PURPOSE[channel]
        if needed and needed not in self.purposes:
            return ContactCheck(False, f"no consent for {needed}")
        if channel not in self.market_channels:
            return ContactCheck(False, f"channel {channel} is not offered in {self.country}")
        if self.preferred_channels is not None and channel not in self.preferred_channels:
            return ContactCheck(False, f"patient turned {channel} off")
        if channel in TIMED_CHANNELS and not ignore_quiet_hours:
            local = (at or timezone.now()).astimezone(_zone(self.time_zone))
            start, end = self.quiet or self.market_quiet
            if _within(local.time(), start, end):
                return ContactCheck(False, "quiet hours")
            if self.contact_days and local.isoweekday() not in self.contact_days:
                return ContactCheck(False, "not a contact day")
            if self.contact_window and not _within(local.time(), *self.contact_window):
                return ContactCheck(False, "outside the patient's contact times")
        return ContactCheck(True, "consented")

    def next_allowed(self, channel: str, at: datetime) -> datetime | None:
        """The first moment from `at` (within 8 days) when the channel may be used: jumps to the end
        of the quiet hours, to the next contact day or to the start of the contact times."""
        if not self.check(channel, at, ignore_quiet_hours=True).allowed:
            return None
        zone = _zone(self.time_zone)
        moment = at
        for _jump in range(40):
            check = self.check(channel, moment)
            if check.allowed:
                return moment
            local = moment.astimezone(zone)
            if check.reason == "quiet hours":
                target = (self.quiet or self.market_quiet)[1]
            elif check.reason == "outside the patient's contact times" and self.contact_window:
                target = self.contact_window[0]
            else:  # not a contact day: from the start of the next day
                target = time(0, 0)
            candidate = local.replace(hour=target.hour, minute=target.minute, second=0, microsecond=0)
            if candidate <= local:
                candidate += timedelta(days=1)
            moment = candidate.astimezone(at.tzinfo)
            if moment - at > timedelta(days=8):
                return None
        return None


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


TIMED_CHANNELS = {"sms", "phone"}


def contact_facts(patients: list[Patient]) -> dict[int, ContactFacts]:
    """Contact facts for many patients in three queries."""
    markets = market_facts()
    return _facts([(p.pk, p.status, p.verified_at, p.time_zone, markets[p.market_id], p.locale, p.program_id)
                   for p in patients])


def contact_facts_for_ids(ids: list[int] | set[int]) -> dict[int, ContactFacts]:
    """The same from patient ids, without building Patient objects (the event path and the worker
    read thousands at a time, so these reads are plain SQL)."""
    markets = market_facts()
    patients = rows_for_ids("SELECT id, status, verified_at, time_zone, market_id, locale, program_id "
                            f"FROM {Patient._meta.db_table} WHERE id {{ids}}", ids)
    return _facts([(pk, status, verified, zone, markets[market_id], locale, program_id)
                   for pk, status, verified, zone, market_id, locale, program_id in patients])


def _facts(rows: list[tuple[int, str, datetime | None, str, MarketFacts, str, int]]) -> dict[int, ContactFacts]:
    ids = [row[0] for row in rows]
    purposes: dict[int, set[str]] = {pid: set() for pid in ids}
    # One row per patient with the purposes joined (purpose codes are identifiers: no commas).
    for patient_id, granted in rows_for_ids(
            f"SELECT r.patient_id, {joined_text('d.purpose')} FROM {ConsentDecision._meta.db_table} d "
            f"JOIN {ConsentRecord._meta.db_table} r ON r.id = d.record_id "
            "WHERE r.patient_id {ids} AND r.status = %s AND d.granted AND d.withdrawn_at IS NULL "
            "GROUP BY r.patient_id", ids, [ConsentRecord.Status.ACTIVE]):
        purposes[patient_id].update(granted.split(","))
    # Most patients share a handful of settings: each distinct value is read once (the facts copy them).
    seen: dict[Any, Any] = {}

    def once(read: Callable[[Any], Any], raw: Any) -> Any:
        if not isinstance(raw, str):  # PostgreSQL gives lists and times, nothing to parse
            return read(raw)
        key = (read, raw)
        if key not in seen:
            seen[key] = read(raw)
        return seen[key]

    preferences = {pid: (once(as_json, channels), once(as_time, q_start), once(as_time, q_end), once(as_json, days),
                         once(as_time, c_from), once(as_time, c_until))
                   for pid, channels, q_start, q_end, days, c_from, c_until in rows_for_ids(
                       "SELECT patient_id, channels, quiet_start, quiet_end, contact_days, contact_from, "
                       f"contact_until FROM {ContactPreferences._meta.db_table} WHERE patient_id {{ids}}", ids)}
    out = {}
    for pk, status, verified_at, zone, market, locale, program_id in rows:
        pref = preferences.get(pk)
        channels, quiet_start, quiet_end, days, contact_from, contact_until = pref or (None, None, None, [], None,
                                                                                       None)
        out[pk] = ContactFacts(
            status=status, verified=verified_at is not None, purposes=purposes[pk], country=market.country,
            market_channels=list(market.channels), time_zone=zone, market_quiet=market.quiet_hours,
            preferred_channels=list(channels) if channels is not None else None,
            quiet=(quiet_start, quiet_end) if quiet_start and quiet_end else None,
            contact_days=list(days or []),
            contact_window=(contact_from, contact_until) if contact_from and contact_until else None,
            locale=locale, program_id=program_id)
    return out


def may_contact(patient: Patient, channel: str, at: datetime | None = None, *, ignore_quiet_hours: bool = False
                ) -> ContactCheck:
    """Decide whether the program may reach this patient on this channel now, and say why not.

    Asked when an action is decided and again when it is delivered.
    """
    return contact_facts([patient])[patient.pk].check(channel, at, ignore_quiet_hours=ignore_quiet_hours)


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
