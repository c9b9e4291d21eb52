"""An erasure while a safety report is open: pharmacovigilance must be able to follow the report up with
the person who made it (EU GVP Module VI; the marketing-authorisation holder's legal obligation, GDPR
Art. 17(3)(b) and (c) with Art. 9(2)(i)), so the reporter's name and contact details outlive the
erasure, sealed under a key of their own and readable by the safety role only. A case already
forwarded lives on in the safety database, which has the reporter; nothing is kept for it here."""

from __future__ import annotations

from sojourn.consent.hooks import erasure_held
from sojourn.core.permissions import Permission
from sojourn.people.models import Patient
from sojourn.people.services.patients import Retention
from sojourn.safety.models import Case, Intake

REPORTER_FIELDS = ("given_name", "family_name", "email", "phone")
LEGAL_BASIS = "pharmacovigilance follow-up of an open adverse-event report (GVP Module VI; GDPR Art. 17(3)(b), 9(2)(i))"


@erasure_held.connect
def open_reports_keep_their_reporter(patient: Patient) -> list[Retention]:
    # The reference keeps the word "referral": retentions written before intakes existed are released by it.
    pending = (Intake.objects.filter(patient=patient, status=Intake.Status.OPEN)
               | Intake.objects.filter(patient=patient, case__status=Case.Status.OPEN))
    return [Retention(reference=f"safety-referral:{pk}", fields=REPORTER_FIELDS,
                      permission=Permission.SAFETY_MANAGE, legal_basis=LEGAL_BASIS)
            for pk in pending.distinct().order_by("pk").values_list("pk", flat=True)]
