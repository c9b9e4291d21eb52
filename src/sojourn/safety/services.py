"""Writing to the safety queue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from sojourn.core.actors import Actor
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.safety.models import SafetyReferral


def deadline_hours(patient: Patient) -> int:
    return int(patient.market.pack["regulatory"]["adverse_events"]["deadline_hours"])


def refer_to_safety(*, actor: Actor, patient: Patient, source: str, reason: str, detail: dict[str, Any],
                    idempotency_key: str, at: datetime) -> SafetyReferral:
    """Idempotent: the same key (a rule firing on one event) never opens a second referral. Audited,
    because a regulator asks when the program first knew."""
    if actor.kind != "system":
        actor.require(Permission.SAFETY_REPORT, patient.program_id, patient.market.country)
    with transaction.atomic():
        referral, created = SafetyReferral.objects.get_or_create(
            idempotency_key=idempotency_key[:120],
            defaults={"program_id": patient.program_id, "patient": patient, "source": source[:40],
                      "reason": reason[:300], "detail": detail, "created_at": at,
                      "due_at": at + timedelta(hours=deadline_hours(patient))})
        if created:
            record_audit(actor=actor, action="safety.referred", subject_type="patient", subject_id=patient.pseudonym,
                         program_id=patient.program_id, market=patient.market.country,
                         after={"referral": referral.pk, "source": source, "reason": reason[:300]})
    return referral
