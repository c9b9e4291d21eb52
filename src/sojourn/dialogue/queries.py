"""Reads shared by the console pages: the work-queue monitors and a patient's timeline."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from sojourn.channels.models import OutboxMessage
from sojourn.core.actors import Actor
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.dialogue.models import AgendaItem, Decision
from sojourn.people.models import Patient
from sojourn.tracking.event_words import EventWords, describe_events, plain
from sojourn.tracking.models import Event

QUEUE_STATUSES = ["pending", "claimed", "done", "dead", "cancelled"]


def _in_markets(rows: QuerySet[Any], actor: Actor, program: Program) -> QuerySet[Any]:
    markets = actor.markets_in(Permission.PATIENT_VIEW, program.pk)
    return rows if markets is None else rows.filter(patient__market__country__in=markets)


def agenda_monitor(actor: Actor, program: Program, *, status: str = "", rule: str = "", limit: int = 200
                   ) -> tuple[Counter[str], list[AgendaItem]]:
    rows = _in_markets(AgendaItem.objects.filter(program=program), actor, program)
    counts = _count(rows)
    if status in QUEUE_STATUSES:
        rows = rows.filter(status=status)
    if rule:
        rows = rows.filter(rule_key=rule)
    return counts, list(rows.select_related("patient").order_by("-due_at")[:limit])


def outbox_monitor(actor: Actor, program: Program, *, status: str = "", channel: str = "", limit: int = 200
                   ) -> tuple[Counter[str], list[OutboxMessage]]:
    rows = _in_markets(OutboxMessage.objects.filter(program=program), actor, program)
    counts = _count(rows)
    if status in QUEUE_STATUSES:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    return counts, list(rows.select_related("patient").order_by("-due_at")[:limit])


def _count(rows: QuerySet[Any]) -> Counter[str]:
    from django.db.models import Count

    return Counter({r["status"]: r["n"] for r in rows.order_by().values("status").annotate(n=Count("id"))})


@dataclass(frozen=True)
class Moment:
    at: datetime
    kind: str  # event, decision, message
    title: str
    detail: dict[str, Any]
    words: EventWords | None = None  # an event in the reader's words


def decisions_of(patient: Patient, *, newest: int | None = None) -> list[Decision]:
    """The patient's decisions oldest first, or the `newest` of them newest first: those on one of
    their events, found by event id, and those on none (Decision.Meta says why). Two queries, each
    led by an index; one with OR between them sends PostgreSQL through the whole table."""
    parts = decision_queries(patient.pk)
    if newest is None:
        return sorted((d for part in parts for d in part.select_related("version")), key=lambda d: (d.decided_at, d.pk))
    found = [d for part in parts for d in part.select_related("version").order_by("-decided_at", "-pk")[:newest]]
    return sorted(found, key=lambda d: (d.decided_at, d.pk), reverse=True)[:newest]


def decision_queries(patient_id: int) -> list[QuerySet[Decision]]:
    """The patient's decisions on their events, and those on none: each query led by an index."""
    return [Decision.objects.filter(event_id__in=Event.objects.filter(patient_id=patient_id).values("pk")),
            Decision.objects.filter(patient_id=patient_id, event_id__isnull=True)]


def timeline(patient: Patient, limit: int = 100, language: str = "en") -> list[Moment]:
    """Events, the decisions they caused (which rule, on which facts) and the messages, newest first;
    each event also in words, in the given language."""
    events = list(Event.objects.filter(patient=patient).order_by("-occurred_at")[:limit])
    words = describe_events(patient.program_id, events, language)
    moments = [Moment(e.occurred_at, "event", e.type, e.data, words[e.pk]) for e in events]
    moments += [Moment(d.decided_at, "decision", d.rule_key, {
        "why": {fact: plain(value) if isinstance(value, dict | list) else value for fact, value in d.why.items()},
        "outcomes": d.outcomes, "version": d.version.number, "event": d.event_id})
                for d in decisions_of(patient, newest=limit)]
    moments += [Moment(m.due_at, "message", f"{m.channel} · {m.kind}",
                       {"status": m.status, "summary": m.summary, "rule": m.rule_key, "error": m.last_error,
                        "delivery": m.delivery_status})
                for m in OutboxMessage.objects.filter(patient=patient).order_by("-due_at")[:limit]]
    return sorted(moments, key=lambda m: m.at, reverse=True)[:limit]
