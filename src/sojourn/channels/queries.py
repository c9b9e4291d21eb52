"""Reads of the nurse queue: the calls a nurse may make, most urgent first, with their SLA colour,
and everything a nurse needs on the call (the patient's needs, recent contacts, consents, preferred
times in the patient's time zone, the approved call script)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from sojourn.channels.models import NurseTask, OutboxMessage
from sojourn.consent.models import ContactPreferences
from sojourn.consent.queries import granted_purposes
from sojourn.content.queries import Resolution, resolve
from sojourn.core.actors import Actor
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.tracking.queries import NeedView, needs_of

AMBER_WITHIN = timedelta(hours=2)  # due within this: amber; overdue: red


def sla_colour(task: NurseTask, now: datetime) -> str:
    if task.due_at <= now:
        return "red"
    return "amber" if task.due_at - now <= AMBER_WITHIN else "green"


def nurse_queue(actor: Actor, program: Program, *, market: str = "", mine: bool = False) -> QuerySet[NurseTask]:
    """Open and claimed calls in the markets where the actor works the queue, soonest due first."""
    tasks = (NurseTask.objects.filter(program=program, status__in=[NurseTask.Status.OPEN, NurseTask.Status.CLAIMED])
             .select_related("patient__market").order_by("due_at", "pk"))
    allowed = actor.markets_in(Permission.NURSE_QUEUE, program.pk)
    if allowed is not None:
        tasks = tasks.filter(patient__market__country__in=allowed)
    if market:
        tasks = tasks.filter(patient__market__country=market)
    if mine:
        tasks = tasks.filter(claimed_by_id=actor.user_id)
    return tasks


@dataclass(frozen=True)
class CallContext:
    needs: list[NeedView]
    recent: list[dict[str, Any]]
    purposes: list[str]
    channels: list[str] | None
    local_time: datetime
    time_zone: str
    quiet: str
    contact_window: str
    contact_days: list[int]
    script: Resolution | None
    earlier_calls: list[NurseTask]


def call_context(task: NurseTask, now: datetime, language: str) -> CallContext:
    patient = task.patient
    prefs = ContactPreferences.objects.filter(patient=patient).first()
    quiet = patient.market.pack.get("regulatory", {}).get("quiet_hours", {})
    recent = [{"channel": m.channel, "what": m.summary, "status": m.delivery_status or m.status, "at": m.created_at}
              for m in OutboxMessage.objects.filter(patient=patient).order_by("-created_at")[:8]]
    script = resolve(task.program_id, task.script_code, locale=patient.locale, country=patient.market.country,
                     channel="phone", at=now) if task.script_code else None
    return CallContext(
        needs=needs_of(patient, language)[:5], recent=recent, purposes=sorted(granted_purposes(patient)),
        channels=prefs.channels if prefs else None, time_zone=patient.time_zone,
        local_time=now.astimezone(zoneinfo.ZoneInfo(patient.time_zone)),
        quiet=(f"{prefs.quiet_start:%H:%M}–{prefs.quiet_end:%H:%M}" if prefs and prefs.quiet_start and prefs.quiet_end
               else f"{quiet.get('start', '')}–{quiet.get('end', '')}"),
        contact_window=(f"{prefs.contact_from:%H:%M}–{prefs.contact_until:%H:%M}"
                        if prefs and prefs.contact_from and prefs.contact_until else ""),
        contact_days=list(prefs.contact_days) if prefs else [], script=script,
        earlier_calls=list(NurseTask.objects.filter(patient=patient, status=NurseTask.Status.DONE)
                           .exclude(pk=task.pk).order_by("-completed_at")[:5]))
