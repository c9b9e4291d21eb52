"""Writing to the safety record: intakes as they arrive, a safety officer's decisions, cases and their
clocks. Every write is audited: an inspector asks when the program first knew and who decided what."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, DataErased, ErrorDetail, InvalidInput
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.people.services.patients import seal_for_patient, unseal_for_patient
from sojourn.safety.clocks import Clocks
from sojourn.safety.flagging import languages_for, possible_adverse_event
from sojourn.safety.models import Case, CaseForwarding, Intake
from sojourn.safety.reconciliation import as_csv, as_pdf, reconcile

WORDS = "safety_intake_words"
FLAGGED_REASON = gettext_noop("possible adverse event in the patient's words")
REPORTED_REASON = gettext_noop("side effect reported by the patient on the portal")
MAX_REPORT = 4000


def record_intake(*, actor: Actor, patient: Patient, source: str, reason: str, detail: dict[str, Any],
                  idempotency_key: str, day_zero: datetime, at: datetime | None = None,
                  words: str = "") -> Intake:
    """Idempotent: the same key (a rule firing on one event, one call) never opens a second intake.
    The forward clock runs from `day_zero`, when the program first received it, not from now.
    `words` are what the patient wrote, sealed with their key."""
    if actor.kind == "patient":  # a patient reports for themselves only
        if actor.label != patient.pseudonym:
            raise AccessDenied()
    elif actor.kind != "system":
        actor.require(Permission.SAFETY_REPORT, patient.program_id, patient.market.country)
    with transaction.atomic():
        intake, created = Intake.objects.get_or_create(
            idempotency_key=idempotency_key[:120],
            defaults={"program_id": patient.program_id, "patient": patient, "source": source[:40],
                      "reason": reason[:300], "detail": detail, "created_at": at or day_zero, "day_zero": day_zero,
                      "due_at": Clocks.for_pack(patient.market.pack).forward_due(day_zero),
                      "words_sealed": seal_for_patient(patient, WORDS, words) if words else None})
        if created:
            _audit(actor, "safety.intake_recorded", patient, intake=intake.pk, source=source, reason=reason[:300])
    return intake


def flag_patient_words(*, actor: Actor, patient: Patient, source: str, text: str, idempotency_key: str,
                       day_zero: datetime) -> Intake | None:
    """A patient's free text (a text message, an email, a form) read against the term lists of their
    language and their market's; a possible adverse event becomes an intake with the words sealed,
    for a safety officer to decide. Nothing is flagged, nothing is written, when no term matches."""
    market = patient.market
    flags = possible_adverse_event(text, languages_for(patient.locale, market.pack.get("locales", [])),
                                   market.pack.get("regulatory", {}).get("adverse_events", {}).get("terms"))
    if not flags:
        return None
    kinds = sorted({f.kind for f in flags})
    return record_intake(actor=actor, patient=patient, source=source, reason=FLAGGED_REASON,
                         detail={"terms": sorted({f.term for f in flags})[:20], "kinds": kinds},
                         idempotency_key=idempotency_key, day_zero=day_zero, words=text)


def report_side_effect(*, actor: Actor, patient: Patient, text: str, onset: date | None, token: str,
                       at: datetime) -> Intake:
    """A patient's own report from the portal: always an intake, whatever words it uses (the term lists
    only show the reviewer what they noticed). `token` comes with the form: sent twice, one intake."""
    text = text.strip()
    problems = []
    if not text:
        problems.append(ErrorDetail(_("Tell us what happened."), field="text"))
    elif len(text) > MAX_REPORT:
        problems.append(ErrorDetail(_("Write at most %(n)d characters.") % {"n": MAX_REPORT}, field="text"))
    if onset is not None and onset > timezone.localtime(at, ZoneInfo(patient.time_zone)).date():
        problems.append(ErrorDetail(_("The day it started cannot be in the future."), field="onset"))
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        problems.append(ErrorDetail(_("The form has expired: open it again."), field="token"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    market = patient.market
    flags = possible_adverse_event(text, languages_for(patient.locale, market.pack.get("locales", [])),
                                   market.pack.get("regulatory", {}).get("adverse_events", {}).get("terms"))
    return record_intake(actor=actor, patient=patient, source="portal form", reason=REPORTED_REASON,
                         detail={"terms": sorted({f.term for f in flags})[:20],
                                 "onset": onset.isoformat() if onset else None},
                         idempotency_key=f"portal-report:{token}", day_zero=at, words=text)


def read_intake_words(*, actor: Actor, intake: Intake) -> str | None:
    """The patient's own words, for a safety officer; audited. None when there are none, or after the
    patient's erasure made them unreadable."""
    actor.require(Permission.SAFETY_MANAGE, intake.program_id, intake.patient.market.country)
    if intake.words_sealed is None:
        return None
    try:
        words = unseal_for_patient(intake.patient, WORDS, bytes(intake.words_sealed))
    except DataErased:
        return None  # the patient's key is destroyed: the words went with the identity
    _audit(actor, "safety.words_read", intake.patient, intake=intake.pk)
    return words


def decide_intake(*, actor: Actor, intake: Intake, kind: str | None, reason: str, at: datetime,
                  follow_up_of: Case | None = None) -> Intake:
    """A safety officer's decision on an intake: `kind` (adverse event, special situation, product
    complaint) opens a case, or adds to `follow_up_of` as its next version; None says it is not an
    adverse event, which needs the reason."""
    patient = intake.patient
    actor.require(Permission.SAFETY_MANAGE, intake.program_id, patient.market.country)
    reason = reason.strip()
    if kind is None and not reason:
        raise InvalidInput(_("Say why this is not an adverse event."), field="reason")
    if kind is not None and kind not in Case.Kind.values:
        raise InvalidInput(_("Choose adverse event, special situation or product complaint."), field="kind")
    with transaction.atomic():
        locked = Intake.objects.select_for_update().get(pk=intake.pk)
        if locked.status != Intake.Status.OPEN:
            raise Conflict(_("This intake has been decided already."), field="status")
        if kind is None:
            locked.status, case = Intake.Status.NOT_AE, None
        elif follow_up_of is not None:
            case = _follow_up(follow_up_of, locked, at)
        else:
            case = _open_case(locked, kind, at)
        if case is not None:
            locked.status = Intake.Status.CASE
        locked.case, locked.decision_reason = case, reason[:500]
        locked.case_version = case.version if case else None
        locked.decided_by_id, locked.decided_at = actor.user_id, at
        locked.save(update_fields=["status", "case", "decision_reason", "decided_by", "decided_at", "case_version"])
        _audit(actor, "safety.intake_decided", patient, intake=locked.pk, kind=kind or "not_ae",
               case=case.number if case else "", version=case.version if case else None)
    return locked


def _open_case(intake: Intake, kind: str, at: datetime) -> Case:
    patient = intake.patient
    market = Market.objects.select_for_update().get(pk=patient.market_id)  # one number at a time per market
    prefix = f"{market.country}-{intake.day_zero.year}-"
    last = (Case.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
            .first())
    number = f"{prefix}{int(last.rsplit('-', 1)[1]) + 1 if last else 1:05d}"
    return Case.objects.create(number=number, program_id=intake.program_id, market=market, patient=patient,
                               kind=kind, day_zero=intake.day_zero, forward_due_at=intake.due_at,
                               created_at=at, updated_at=at)


def _follow_up(case: Case, intake: Intake, at: datetime) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.patient_id != intake.patient_id:
        raise InvalidInput(_("A follow-up belongs to a case of the same patient."), field="case")
    if locked.status == Case.Status.NULLIFIED:
        raise Conflict(_("This case was nullified; open a new one."), field="case")
    locked.version += 1
    locked.updated_at = at
    # Drug safety must have the new information by its own deadline, from its own day zero.
    if locked.status == Case.Status.FORWARDED:
        locked.status, locked.forward_due_at = Case.Status.OPEN, intake.due_at
    else:
        locked.forward_due_at = min(locked.forward_due_at, intake.due_at)
    locked.save(update_fields=["version", "updated_at", "status", "forward_due_at"])
    return locked


def assess_seriousness(*, actor: Actor, case: Case, serious: bool, at: datetime) -> Case:
    """Seriousness (ICH E2A) sets the authority clock, from day zero."""
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    with transaction.atomic():
        locked = _open_for_change(case)
        locked.serious = serious
        locked.authority_due_at = Clocks.for_pack(locked.market.pack).authority_due(locked.day_zero, serious=serious)
        locked.updated_at = at
        locked.save(update_fields=["serious", "authority_due_at", "updated_at"])
        _audit(actor, "safety.case_assessed", locked.patient, case=locked.number, serious=serious)
    return locked


def forward_case(*, actor: Actor, case: Case, at: datetime) -> Case:
    """Drug safety has the case: its forward clock stops."""
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    with transaction.atomic():
        locked = _open_for_change(case)
        if locked.status == Case.Status.FORWARDED:
            raise Conflict(_("This case was forwarded already."), field="status")
        locked.status, locked.forwarded_at, locked.updated_at = Case.Status.FORWARDED, at, at
        locked.save(update_fields=["status", "forwarded_at", "updated_at"])
        CaseForwarding.objects.create(case=locked, version=locked.version, due_at=locked.forward_due_at,
                                      forwarded_at=at, forwarded_by_id=actor.user_id)
        _audit(actor, "safety.case_forwarded", locked.patient, case=locked.number, version=locked.version,
               on_time=at <= locked.forward_due_at)
    return locked


def nullify_case(*, actor: Actor, case: Case, reason: str, at: datetime) -> Case:
    """A case opened in error stays on record, nullified with the reason."""
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    if not reason.strip():
        raise InvalidInput(_("Say why the case is nullified."), field="reason")
    with transaction.atomic():
        locked = _open_for_change(case)
        locked.status, locked.nullified_reason, locked.updated_at = Case.Status.NULLIFIED, reason.strip()[:300], at
        locked.save(update_fields=["status", "nullified_reason", "updated_at"])
        _audit(actor, "safety.case_nullified", locked.patient, case=locked.number)
    return locked


def _open_for_change(case: Case) -> Case:
    locked = Case.objects.select_for_update().select_related("market", "patient").get(pk=case.pk)
    if locked.status == Case.Status.NULLIFIED:
        raise Conflict(_("This case was nullified."), field="status")
    return locked


def export_reconciliation(*, actor: Actor, program: Program, month: date, fmt: str, language: str,
                          at: datetime, market: str | None = None) -> tuple[bytes, str, str]:
    """The month's reconciliation as CSV or PDF: (content, file name, media type); audited, since it
    lists every intake of the month by pseudonym."""
    if fmt not in ("csv", "pdf"):
        raise InvalidInput(_("Choose csv or pdf."), field="format")
    report = reconcile(actor, program, month, at, market=market)
    content = as_csv(report).encode() if fmt == "csv" else as_pdf(report, language)
    with transaction.atomic():
        record_audit(actor=actor, action="safety.reconciliation_exported", subject_type="program",
                     subject_id=program.slug, program_id=program.pk, market=market or "",
                     after={"month": month.strftime("%Y-%m"), "format": fmt, "intakes": len(report.lines),
                            "discrepancies": len(report.discrepancies)})
    name = f"safety-reconciliation-{program.slug}-{month:%Y-%m}{f'-{market}' if market else ''}.{fmt}"
    return content, name, "text/csv; charset=utf-8" if fmt == "csv" else "application/pdf"


def _audit(actor: Actor, action: str, patient: Patient, **after: Any) -> None:
    record_audit(actor=actor, action=action, subject_type="patient", subject_id=patient.pseudonym,
                 program_id=patient.program_id, market=patient.market.country, after=after)
