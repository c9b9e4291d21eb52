"""Consent again after a material change: the new version replaces the old record in one
transaction; until then the old consent, and only what it covers, stays in force."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.consent.errors import NotConsented
from sojourn.consent.hooks import ConsentWithdrawn, consent_withdrawn
from sojourn.consent.models import ConsentDocument, ConsentRecord, ContactPreferences, ReconsentRequest
from sojourn.consent.queries import CHANNEL_PURPOSE
from sojourn.consent.services.enrollment import (
    Signature,
    check_answers,
    check_signature,
    record_consent,
    usable_version,
)
from sojourn.core.actors import Actor
from sojourn.core.errors import Conflict, InvalidInput
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.people.services.patients import seal_for_patient


def reconsent_patient(*, actor: Actor, patient: Patient, version_id: int, answers: dict[str, bool],
                      signature: Signature) -> ConsentRecord:
    """Record the patient's consent to a newer version; purposes they now decline stop at once."""
    if not (actor.kind == "patient" and actor.label == patient.pseudonym):
        actor.require(Permission.PATIENT_MANAGE, patient.program_id, patient.market.country)
    version = usable_version(patient.program, patient.market.country, ConsentDocument.Audience.PATIENT, version_id)
    _self, problems = check_signature(actor, signature, patient.program, patient.market.country,
                                       Permission.PATIENT_MANAGE)
    choices, answer_problems = check_answers(version, answers)
    problems += answer_problems
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    locale = patient.locale if version.texts.filter(locale=patient.locale).exists() else \
        patient.market.default_locale
    now = timezone.now()
    with transaction.atomic(durable=True):
        old = (ConsentRecord.objects.select_for_update().filter(patient=patient, status="active")
               .select_related("version").prefetch_related("decisions").first())
        if old is None:
            raise NotConsented(_("There is no consent in force: enroll again instead."))
        if old.version.number >= version.number:
            raise Conflict(_("This version is already the one in force."), field="version")
        before = {d.purpose for d in old.decisions.all() if d.granted and d.withdrawn_at is None}
        old.status = ConsentRecord.Status.SUPERSEDED
        old.save(update_fields=["status"])
        record = record_consent(
            version=version, locale=locale, signature=signature, choices=choices,
            seal=lambda field, value: seal_for_patient(patient, field, value), patient=patient,
            recorded_by=actor.user_id if actor.kind == "staff" else None, by_guardian=old.by_guardian)
        ReconsentRequest.objects.filter(record__patient=patient, closed_at__isnull=True).update(closed_at=now)
        after = {code for code, granted in choices.items() if granted}
        preferences, _created = ContactPreferences.objects.select_for_update().get_or_create(patient=patient)
        covered_before = {c for c, p in CHANNEL_PURPOSE.items() if p is None or p in before}
        newly_covered = {c for c, p in CHANNEL_PURPOSE.items() if p in after - before}
        preferences.channels = [c for c in CHANNEL_PURPOSE if c in patient.market.channels and (
            (c in preferences.channels and c in covered_before) or c in newly_covered)
            and (CHANNEL_PURPOSE[c] is None or CHANNEL_PURPOSE[c] in after)]
        preferences.save(update_fields=["channels", "updated_at"])
        dropped = before - after
        effects = consent_withdrawn.run(ConsentWithdrawn(
            patient=patient, purposes=frozenset(dropped), everything=False, actor=actor, at=now,
            via="portal" if actor.kind == "patient" else "nurse")) if dropped else []
        record_audit(actor=actor, action="consent.given", subject_type="patient", subject_id=patient.pseudonym,
                     program_id=patient.program_id, market=patient.market.country,
                     before={"record": old.pk, "version": old.version.number, "granted": sorted(before)},
                     after={"record": record.pk, "version": version.number, "locale": locale, "reconsent": True,
                            "method": signature.method, "granted": sorted(after), "stopped": sorted(dropped),
                            "effects": effects})
        return record
