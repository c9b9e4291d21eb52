"""What a program's history looks like in aggregate: the fingerprint that two runs with the same seed
must share. Counts only, never identities."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from sojourn.channels.models import NurseTask, OutboxMessage, PrintCopy
from sojourn.core.models import Program
from sojourn.dialogue.models import Decision
from sojourn.people.models import Invitation, Patient
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.safety.models import Case, CaseForwarding, Intake
from sojourn.tracking.models import Event, PatientProfile


def _counts(rows: Any, *fields: str) -> dict[str, int]:
    return {":".join(str(r[f]) for f in fields): r["n"] for r in rows.values(*fields).annotate(n=Count("pk"))}


def history(program: Program) -> dict[str, dict[str, int]]:
    return {
        "patients": _counts(Patient.objects.filter(program=program), "market__country", "status"),
        "events": _counts(Event.objects.filter(program=program), "type", "patient__market__country"),
        "decisions": _counts(Decision.objects.filter(program=program), "rule_key"),
        "outbox": _counts(OutboxMessage.objects.filter(program=program), "channel", "status", "rule_key"),
        "stages": _counts(PatientProfile.objects.filter(patient__program=program), "stage__code"),
        "answers": _counts(QuestionnaireResponse.objects.filter(patient__program=program, status="completed"),
                           "questionnaire__name"),
        "calls": _counts(NurseTask.objects.filter(program=program), "status", "outcome", "adverse_event"),
        "cards_used": _counts(Invitation.objects.filter(program=program, patient__isnull=False), "market__country"),
        "cards_unused": _counts(Invitation.objects.filter(program=program, patient__isnull=True), "market__country"),
        "intakes": _counts(Intake.objects.filter(program=program), "source", "status", "day_zero", "decided_at"),
        "cases": _counts(Case.objects.filter(program=program), "kind", "status", "version", "forward_due_at"),
        "forwardings": _counts(CaseForwarding.objects.filter(case__program=program), "version", "forwarded_at"),
        "magazines": _counts(PrintCopy.objects.filter(issue__program=program), "issue__label",
                             "patient__market__country", "delivered_at"),
    }
