"""Withdraw consent (one purpose, several, or everything) and give a withdrawn channel back."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.consent.errors import NotConsented
from sojourn.consent.hooks import ConsentWithdrawn, consent_withdrawn
from sojourn.consent.models import ConsentDecision, ConsentRecord
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Hcp, Patient

VIA = ("portal", "sms", "nurse", "api", "email")


def _authorize(actor: Actor, patient: Patient) -> None:
    """The patient themself, or staff who manage patients in the patient's market."""
    if actor.kind == "patient" and actor.label == patient.pseudonym:
        return
    actor.require(Permission.PATIENT_MANAGE, patient.program_id, patient.market.country)


def withdraw_consent(*, actor: Actor, patient: Patient, purposes: list[str] | None, via: str,
                     reason: str = "") -> ConsentWithdrawn:
    """Withdraw the listed purposes, or everything (None); effective in this very transaction."""
    _authorize(actor, patient)
    if via not in VIA:
        raise InvalidInput(_("Say how the withdrawal reached us."), field="via")
    now = timezone.now()
    with transaction.atomic():
        record = (ConsentRecord.objects.select_for_update().filter(patient=patient, status="active")
                  .select_related("version").first())
        if record is None:
            raise NotConsented(_("There is no consent in force to withdraw."))
        granted = {d.purpose: d for d in ConsentDecision.objects.select_for_update().filter(
            record=record, granted=True, withdrawn_at__isnull=True)}
        if purposes is None:
            wanted = set(granted)
        else:
            unknown = sorted(set(purposes) - set(record.version.purpose_codes()))
            if unknown:
                raise InvalidInput(_("%(code)s is not a purpose of this consent.") % {"code": unknown[0]},
                                   field="purposes")
            wanted = set(purposes) & set(granted)
        # Withdrawing a purpose the program cannot run without ends participation altogether.
        everything = purposes is None or bool(wanted & set(record.version.purpose_codes(required=True)))
        if everything:
            wanted = set(granted)
        ConsentDecision.objects.filter(pk__in=[granted[p].pk for p in wanted]).update(withdrawn_at=now)
        if everything:
            record.status = ConsentRecord.Status.WITHDRAWN
            record.withdrawn_at = now
            record.save(update_fields=["status", "withdrawn_at"])
            Patient.objects.filter(pk=patient.pk).update(status=Patient.Status.WITHDRAWN)
            patient.status = Patient.Status.WITHDRAWN
        event = ConsentWithdrawn(patient=patient, purposes=frozenset(wanted), everything=everything, actor=actor,
                                 at=now, via=via)
        effects = consent_withdrawn.run(event)
        record_audit(actor=actor, action="consent.withdrawn", subject_type="patient", subject_id=patient.pseudonym,
                     program_id=patient.program_id, market=patient.market.country,
                     after={"purposes": sorted(wanted), "everything": everything, "via": via,
                            "reason": reason.strip()[:500], "effects": effects})
        return event


def regrant_purpose(*, actor: Actor, patient: Patient, purpose: str, via: str) -> ConsentDecision:
    """Give back a purpose the patient had agreed to and later withdrew (an SMS START, say)."""
    _authorize(actor, patient)
    with transaction.atomic():
        decision = (ConsentDecision.objects.select_for_update()
                    .filter(record__patient=patient, record__status="active", purpose=purpose, granted=True)
                    .first())
        if decision is None:
            raise NotConsented(_("The consent on record never covered this; a new consent is needed."),
                               field="purpose")
        if decision.withdrawn_at is not None:
            decision.withdrawn_at = None
            decision.save(update_fields=["withdrawn_at"])
            record_audit(actor=actor, action="consent.regranted", subject_type="patient",
                         subject_id=patient.pseudonym, program_id=patient.program_id,
                         market=patient.market.country, after={"purpose": purpose, "via": via})
        return decision


def withdraw_hcp_consent(*, actor: Actor, hcp: Hcp, via: str, reason: str = "") -> ConsentRecord:
    """An HCP leaves the awareness program: their consent ends and their referral code stops working.

    Patients they referred keep their own consent; only the link to a new referral ends.
    """
    if not (actor.kind == "hcp" and actor.label == hcp.pseudonym):
        actor.require(Permission.PROGRAM_MANAGE, hcp.program_id, hcp.market.country)
    if via not in VIA:
        raise InvalidInput(_("Say how the withdrawal reached us."), field="via")
    now = timezone.now()
    with transaction.atomic():
        record = ConsentRecord.objects.select_for_update().filter(hcp=hcp, status="active").first()
        if record is None:
            raise NotConsented(_("There is no consent in force to withdraw."))
        ConsentDecision.objects.filter(record=record, granted=True, withdrawn_at__isnull=True).update(withdrawn_at=now)
        record.status, record.withdrawn_at = ConsentRecord.Status.WITHDRAWN, now
        record.save(update_fields=["status", "withdrawn_at"])
        Hcp.objects.filter(pk=hcp.pk).update(status=Hcp.Status.WITHDRAWN)
        hcp.status = Hcp.Status.WITHDRAWN
        record_audit(actor=actor, action="consent.withdrawn", subject_type="hcp", subject_id=hcp.pseudonym,
                     program_id=hcp.program_id, market=hcp.market.country,
                     after={"everything": True, "via": via, "reason": reason.strip()[:500]})
        return record
