"""What the safety officer's queue shows: every undecided intake and every case not yet forwarded, by
the clock that runs out first; and the counts other roles may see (never a case's content)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sojourn.core.actors import Actor
from sojourn.core.errors import NotFound
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.people.models import Hcp, Patient
from sojourn.safety.models import Case, FollowUp, Intake, Screening, Term

DUE_SOON = timedelta(hours=12)  # half a working day's warning before a forward deadline


@dataclass(frozen=True)
class QueueItem:
    kind: str  # "intake" (awaiting a decision) or "case" (awaiting forwarding)
    reference: str  # the intake's id or the case's number
    market: str
    patient: str  # pseudonym: the patient's, or the reporting doctor's (by_doctor)
    what: str  # the intake's source, or the case's kind
    day_zero: datetime
    due_at: datetime
    serious: bool | None
    version: int
    by_doctor: bool = False

    def state(self, now: datetime) -> str:
        return clock_state(self.due_at, now)


def clock_state(due_at: datetime, now: datetime) -> str:
    return "overdue" if due_at <= now else "due_soon" if due_at - now <= DUE_SOON else "on_time"


def safety_queue(actor: Actor, program: Program, *, market: str | None = None) -> list[QueueItem]:
    """Open intakes and cases of the markets where the actor manages safety, soonest deadline first."""
    markets = _markets(actor, program, Permission.SAFETY_MANAGE, market)
    intakes = (Intake.objects.filter(program=program, status=Intake.Status.OPEN, market__country__in=markets)
               .select_related("market", "patient", "hcp"))
    cases = (Case.objects.filter(program=program, status=Case.Status.OPEN, market__country__in=markets)
             .select_related("market", "patient", "hcp"))
    items = [QueueItem("intake", str(i.pk), i.market.country, i.subject.pseudonym, i.source, i.day_zero,
                       i.due_at, None, 1, by_doctor=i.patient_id is None) for i in intakes]
    items += [QueueItem("case", c.number, c.market.country, c.subject.pseudonym, c.kind, c.day_zero,
                        c.forward_due_at, c.serious, c.version, by_doctor=c.patient_id is None) for c in cases]
    return sorted(items, key=lambda item: (item.due_at, item.kind, item.reference))


def recent_cases(actor: Actor, program: Program, *, since: datetime, market: str | None = None,
                 limit: int = 100) -> list[Case]:
    """Cases forwarded or nullified since `since`, latest first: what the desk did, late ones marked."""
    markets = _markets(actor, program, Permission.SAFETY_MANAGE, market)
    return list(Case.objects.filter(program=program, market__country__in=markets, updated_at__gte=since)
                .exclude(status=Case.Status.OPEN).select_related("market", "patient", "hcp")
                .order_by("-updated_at", "-pk")[:limit])


def open_follow_ups(actor: Actor, program: Program, *, market: str | None = None) -> list[FollowUp]:
    """Follow-up questions drug safety asked and the patient has not answered yet, soonest due first."""
    markets = _markets(actor, program, Permission.SAFETY_MANAGE, market)
    return list(FollowUp.objects.filter(case__program=program, case__market__country__in=markets,
                                        status=FollowUp.Status.OPEN)
                .select_related("case__market", "case__patient").order_by("due_at", "pk"))


def safety_counts(actor: Actor, program: Program, now: datetime) -> dict[str, Counter[str]]:
    """Per market: open, overdue and due-soon counts, for any role that may see the program."""
    counts: dict[str, Counter[str]] = {}
    for item in safety_queue(Actor.system("safety counts"), program):
        if actor.can(Permission.PROGRAM_VIEW, program.pk, item.market):
            counts.setdefault(item.market, Counter()).update(["open", item.state(now)])
    return counts


def _markets(actor: Actor, program: Program, permission: Permission, market: str | None) -> list[str]:
    countries = program.program_markets.order_by("market__country").values_list("market__country", flat=True)
    allowed = [c for c in countries if actor.can(permission, program.pk, c) and (market is None or c == market)]
    if market is not None and not allowed:
        actor.require(permission, program.pk, market)  # says why: the market is not theirs
    return allowed


def access_intake(actor: Actor, intake_id: int) -> Intake:
    """An intake the actor manages safety for; missing and forbidden answer the same."""
    intake = (Intake.objects.select_related("market", "patient__market", "hcp__market", "case")
              .filter(pk=intake_id).first())
    if intake is None or not actor.can(Permission.SAFETY_MANAGE, intake.program_id, intake.market.country):
        raise NotFound()
    return intake


def access_case(actor: Actor, number: str) -> Case:
    case = Case.objects.select_related("market", "patient__market", "hcp__market").filter(number=number).first()
    if case is None or not actor.can(Permission.SAFETY_MANAGE, case.program_id, case.market.country):
        raise NotFound()
    return case


def access_follow_up(actor: Actor, follow_up_id: int) -> FollowUp:
    """A follow-up question of a case the actor manages safety for; missing and forbidden answer the same."""
    found = FollowUp.objects.select_related("case__market", "case__patient", "case__hcp").filter(
        pk=follow_up_id).first()
    if found is None or not actor.can(Permission.SAFETY_MANAGE, found.case.program_id, found.case.market.country):
        raise NotFound()
    return found


def cases_of_patient(intake: Intake) -> list[Case]:
    """The cases an intake may follow up: the same patient's (or the same doctor's report), not nullified."""
    return list(Case.objects.filter(patient_id=intake.patient_id, hcp_id=intake.hcp_id)
                .exclude(status=Case.Status.NULLIFIED)
                .order_by("number"))


def latest_terms(program_id: int) -> tuple[str, dict[str, str]] | None:
    """The program's latest MedDRA version and its terms by code; None before any import."""
    latest = (Term.objects.filter(program_id=program_id).order_by("-imported_at", "-version")
              .values_list("version", flat=True).first())
    if latest is None:
        return None
    return latest, dict(Term.objects.filter(program_id=program_id, version=latest).values_list("code", "name"))


def questions_for(subject: Patient | Hcp) -> list[FollowUp]:
    """Drug safety's open questions waiting on this patient's page, or this doctor's, oldest first."""
    whose = ({"case__hcp": subject, "channel": FollowUp.Channel.DOCTOR} if isinstance(subject, Hcp) else
             {"case__patient": subject, "channel": FollowUp.Channel.PORTAL})
    return list(FollowUp.objects.filter(status=FollowUp.Status.OPEN, **whose).select_related("case")
                .order_by("asked_at", "pk"))


def screening_queue(actor: Actor, program: Program, *, market: str | None = None) -> list[Screening]:
    """Messages a person has yet to read for an adverse event the term lists missed, soonest due first."""
    markets = _markets(actor, program, Permission.SAFETY_MANAGE, market)
    return list(Screening.objects.filter(program=program, status=Screening.Status.OPEN, market__country__in=markets)
                .select_related("market", "patient").order_by("due_at", "pk"))
