"""Writing to the safety record: intakes as they arrive, a safety officer's decisions, cases and their
clocks. Every write is audited: an inspector asks when the program first knew and who decided what."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sojourn.consent.purposes import action_refusal
from sojourn.consent.queries import granted_purposes
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, DataErased, ErrorDetail, InvalidInput, NotFound
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Hcp, Patient
from sojourn.people.services.hcps import seal_for_hcp, unseal_for_hcp
from sojourn.people.services.patients import seal_for_patient, unseal_for_patient
from sojourn.safety.clocks import Clocks
from sojourn.safety.e2b.ack import read_ack
from sojourn.safety.e2b.check import check_icsr
from sojourn.safety.e2b.csv_line import line_list
from sojourn.safety.e2b.icsr import build_icsr
from sojourn.safety.export import (
    CAUSALITY,
    CRITERIA,
    file_name,
    icsr_case,
    language_of,
    message_number,
    safety_report_id,
    snapshot,
)
from sojourn.safety.flagging import languages_for, possible_adverse_event
from sojourn.safety.hooks import follow_up_closed, follow_up_requested
from sojourn.safety.models import Case, CaseForwarding, FollowUp, Intake, Reaction, Screening, Term
from sojourn.safety.queries import latest_terms
from sojourn.safety.reconciliation import as_csv, as_pdf, reconcile

WORDS = "safety_intake_words"
FLAGGED_REASON = gettext_noop("possible adverse event in the patient's words")
REPORTED_REASON = gettext_noop("side effect reported by the patient on the portal")
FOLLOW_UP_REASON = gettext_noop("the patient's answer to drug safety's follow-up question")
DOCTOR_REASON = gettext_noop("side effect reported by a doctor on the portal")
SCREENED_REASON = gettext_noop("possible adverse event a person found in a message the term lists did not flag")
SEXES = {"male": "1", "female": "2"}  # E2B D.5
NOTICE_CHANNELS = ("email", "sms")  # what may tell a patient that drug safety asked on their page
MAX_FOLLOW_UP_DAYS = 30
MAX_REPORT = 4000
NARRATIVE = "safety_case_narrative"
MAX_NARRATIVE = 20000
MAX_REACTIONS = 20
EXPECTEDNESS = ("expected", "unexpected", "unknown")
OUTCOMES = {name.lower(): value for name, value in Reaction.Outcome.__members__.items()}
MEDDRA_VERSION = re.compile(r"\d{1,2}\.\d{1,2}")
MEDDRA_CODE = re.compile(r"\d{8}")
MAX_TERMS = 100_000


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
    return _new_intake(actor, patient, source=source, reason=reason, detail=detail, idempotency_key=idempotency_key,
                       day_zero=day_zero, at=at, words=words)


def _new_intake(actor: Actor, subject: Patient | Hcp, *, source: str, reason: str, detail: dict[str, Any],
                idempotency_key: str, day_zero: datetime, at: datetime | None, words: str) -> Intake:
    """The intake of a patient's report (or one about them), or of a doctor's (`subject` the doctor)."""
    doctor = isinstance(subject, Hcp)
    with transaction.atomic():
        intake, created = Intake.objects.get_or_create(
            idempotency_key=idempotency_key[:120],
            defaults={"program_id": subject.program_id, "market_id": subject.market_id,
                      "patient": None if doctor else subject, "hcp": subject if doctor else None,
                      "source": source[:40], "reason": reason[:300], "detail": detail, "created_at": at or day_zero,
                      "day_zero": day_zero, "due_at": Clocks.for_pack(subject.market.pack,
                                                                           subject.program.safety_deadlines)
                      .forward_due(day_zero),
                      "words_sealed": _seal(subject, WORDS, words) if words else None})
        if created:
            _audit(actor, "safety.intake_recorded", subject, intake=intake.pk, source=source, reason=reason[:300])
    return intake


def flag_patient_words(*, actor: Actor, patient: Patient, source: str, text: str, idempotency_key: str,
                       day_zero: datetime, screen: bool = True) -> Intake | None:
    """A patient's free text (a text message, an email, a form) read against the term lists of their
    language and their market's; a possible adverse event becomes an intake with the words sealed,
    for a safety officer to decide. Unflagged free text (`screen`: not a keyword nor a questionnaire
    answer) waits for a person to read it by the same deadline (Screening): the lists miss words."""
    market = patient.market
    flags = possible_adverse_event(text, languages_for(patient.locale, market.pack.get("locales", [])),
                                   market.pack.get("regulatory", {}).get("adverse_events", {}).get("terms"))
    if not flags:
        if screen and text.strip():
            _to_screen(actor, patient, source=source, text=text, idempotency_key=idempotency_key, at=day_zero)
        return None
    kinds = sorted({f.kind for f in flags})
    return record_intake(actor=actor, patient=patient, source=source, reason=FLAGGED_REASON,
                         detail={"terms": sorted({f.term for f in flags})[:20], "kinds": kinds},
                         idempotency_key=idempotency_key, day_zero=day_zero, words=text)


def _to_screen(actor: Actor, patient: Patient, *, source: str, text: str, idempotency_key: str,
               at: datetime) -> None:
    clocks = Clocks.for_pack(patient.market.pack, patient.program.safety_deadlines)
    with transaction.atomic():
        screening, created = Screening.objects.get_or_create(
            idempotency_key=idempotency_key[:120],
            defaults={"program_id": patient.program_id, "market_id": patient.market_id, "patient": patient,
                      "source": source[:40], "words_sealed": seal_for_patient(patient, WORDS, text),
                      "received_at": at, "due_at": clocks.forward_due(at)})
        if created:
            _audit(actor, "safety.screening_recorded", patient, screening=screening.pk, source=source)


def read_screening_words(*, actor: Actor, screening: Screening) -> str | None:
    """The message to read, for a safety officer; audited. None once cleared, or after an erasure."""
    actor.require(Permission.SAFETY_MANAGE, screening.program_id, screening.market.country)
    return _read_sealed(actor, screening.patient, WORDS, screening.words_sealed, "safety.words_read",
                        screening=screening.pk)


def clear_screenings(*, actor: Actor, screenings: Sequence[Screening], at: datetime) -> int:
    """A person read these messages and found no adverse event in them: each is closed, and its words,
    which nothing needs now, are dropped. Those already screened are left as they are."""
    for screening in screenings:
        actor.require(Permission.SAFETY_MANAGE, screening.program_id, screening.market.country)
    cleared = 0
    with transaction.atomic():
        for screening in Screening.objects.select_for_update(of=("self",)).select_related("patient__market").filter(
                pk__in=[s.pk for s in screenings], status=Screening.Status.OPEN).order_by("pk"):
            screening.status, screening.words_sealed = Screening.Status.CLEAR, None
            screening.screened_by_id, screening.screened_at = actor.user_id, at
            screening.save(update_fields=["status", "words_sealed", "screened_by", "screened_at"])
            _audit(actor, "safety.screening_cleared", screening.patient, screening=screening.pk)
            cleared += 1
    return cleared


def raise_intake(*, actor: Actor, screening: Screening, at: datetime) -> Intake:
    """A person read a message the term lists missed and it may hold an adverse event: an intake, its day
    zero the message's arrival (the clock ran from then), for the usual decision."""
    actor.require(Permission.SAFETY_MANAGE, screening.program_id, screening.market.country)
    with transaction.atomic():
        locked = Screening.objects.select_for_update(of=("self",)).select_related("patient__market").get(
            pk=screening.pk)
        if locked.status != Screening.Status.OPEN:
            raise Conflict(_("This message has been screened already."), field="status")
        intake = record_intake(actor=actor, patient=locked.patient, source=locked.source, reason=SCREENED_REASON,
                               detail={"screening": locked.pk}, idempotency_key=f"screening:{locked.pk}",
                               day_zero=locked.received_at, at=at)
        # The same words under the same key and field: the intake keeps them as they were sealed.
        Intake.objects.filter(pk=intake.pk).update(words_sealed=locked.words_sealed)
        locked.status, locked.intake, locked.screened_by_id, locked.screened_at = (
            Screening.Status.RAISED, intake, actor.user_id, at)
        locked.save(update_fields=["status", "intake", "screened_by", "screened_at"])
        _audit(actor, "safety.screening_raised", locked.patient, screening=locked.pk, intake=intake.pk)
    intake.refresh_from_db()
    return intake


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


def report_by_doctor(*, actor: Actor, hcp: Hcp, text: str, product: str, onset: date | None, age: int | None,
                     sex: str, token: str, at: datetime) -> Intake:
    """An enrolled doctor's report of a side effect in a patient of theirs, who may not be in the program:
    always an intake, day zero now. The patient is named only as drug safety needs to tell them apart
    (age, sex); the doctor's words are sealed with the doctor's key. `token` comes with the form."""
    if actor.kind != "hcp" or actor.label != hcp.pseudonym or hcp.status != Hcp.Status.ACTIVE:
        raise AccessDenied()
    text, product = text.strip(), product.strip()
    problems = []
    if not text:
        problems.append(ErrorDetail(_("Tell us what happened."), field="text"))
    elif len(text) > MAX_REPORT:
        problems.append(ErrorDetail(_("Write at most %(n)d characters.") % {"n": MAX_REPORT}, field="text"))
    if not product:
        problems.append(ErrorDetail(_("Name the product the patient was taking."), field="product"))
    elif len(product) > 250:
        problems.append(ErrorDetail(_("Write at most %(n)d characters.") % {"n": 250}, field="product"))
    if onset is not None and onset > timezone.localtime(at, ZoneInfo(hcp.time_zone)).date():
        problems.append(ErrorDetail(_("The day it started cannot be in the future."), field="onset"))
    if age is not None and not 0 <= age <= 120:
        problems.append(ErrorDetail(_("Give the age in years, from 0 to 120."), field="age"))
    if sex not in ("", *SEXES):
        problems.append(ErrorDetail(_("Choose female, male or not stated."), field="sex"))
    elif age is None and not sex:
        # One of the minimum criteria of a valid case: drug safety must be able to tell the patient apart.
        problems.append(ErrorDetail(_("Give the patient's age or sex, so drug safety can tell the patient apart."),
                                    field="age"))
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        problems.append(ErrorDetail(_("The form has expired: open it again."), field="token"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    market = hcp.market
    flags = possible_adverse_event(text, languages_for(hcp.locale, market.pack.get("locales", [])),
                                   market.pack.get("regulatory", {}).get("adverse_events", {}).get("terms"))
    return _new_intake(actor, hcp, source="doctor's form", reason=DOCTOR_REASON,
                       detail={"terms": sorted({f.term for f in flags})[:20], "product": product, "age": age,
                               "sex": sex, "onset": onset.isoformat() if onset else None},
                       idempotency_key=f"doctor-report:{token}", day_zero=at, at=at, words=text)


def read_intake_words(*, actor: Actor, intake: Intake) -> str | None:
    """The patient's own words, for a safety officer; audited. None when there are none, or after the
    patient's erasure made them unreadable."""
    actor.require(Permission.SAFETY_MANAGE, intake.program_id, intake.market.country)
    return _read_sealed(actor, intake.subject, WORDS, intake.words_sealed, "safety.words_read", intake=intake.pk)


def decide_intake(*, actor: Actor, intake: Intake, kind: str | None, reason: str, at: datetime,
                  follow_up_of: Case | None = None) -> Intake:
    """A safety officer's decision on an intake: `kind` (adverse event, special situation, product
    complaint) opens a case, or adds to `follow_up_of` as its next version; None says it is not an
    adverse event, which needs the reason."""
    actor.require(Permission.SAFETY_MANAGE, intake.program_id, intake.market.country)
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
        _audit(actor, "safety.intake_decided", intake.subject, intake=locked.pk, kind=kind or "not_ae",
               case=case.number if case else "", version=case.version if case else None)
    return locked


def mark_duplicate(*, actor: Actor, intake: Intake, case: Case, reason: str, at: datetime) -> Intake:
    """The same report as one `case` already holds (the patient texted, then told the nurse): linked to
    the case, which keeps its version, and counted once in the reconciliation and the KPI."""
    actor.require(Permission.SAFETY_MANAGE, intake.program_id, intake.market.country)
    with transaction.atomic():
        locked = Intake.objects.select_for_update().get(pk=intake.pk)
        if locked.status != Intake.Status.OPEN:
            raise Conflict(_("This intake has been decided already."), field="status")
        if not _same_subject(case, locked):
            raise InvalidInput(_("A duplicate belongs to a case of the same patient."), field="case")
        if case.status == Case.Status.NULLIFIED:
            raise Conflict(_("This case was nullified; open a new one."), field="case")
        locked.status, locked.case, locked.case_version = Intake.Status.DUPLICATE, case, case.version
        locked.decision_reason, locked.decided_by_id, locked.decided_at = reason.strip()[:500], actor.user_id, at
        locked.save(update_fields=["status", "case", "case_version", "decision_reason", "decided_by", "decided_at"])
        _audit(actor, "safety.intake_decided", intake.subject, intake=locked.pk, kind="duplicate", case=case.number,
               version=case.version)
    return locked


def _open_case(intake: Intake, kind: str, at: datetime) -> Case:
    market = Market.objects.select_for_update().get(pk=intake.market_id)  # one number at a time per market
    prefix = f"{market.country}-{intake.day_zero.year}-"
    last = (Case.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
            .first())
    number = f"{prefix}{int(last.rsplit('-', 1)[1]) + 1 if last else 1:05d}"
    # A doctor's report names the patient by the age and sex the doctor gave (E2B D.2.2, D.5).
    age, sex = intake.detail.get("age"), intake.detail.get("sex", "")
    return Case.objects.create(number=number, program_id=intake.program_id, market=market, patient=intake.patient,
                               hcp=intake.hcp, patient_age=age if intake.hcp_id else None,
                               patient_sex=SEXES.get(sex, "") if intake.hcp_id else "", kind=kind,
                               day_zero=intake.day_zero, forward_due_at=intake.due_at,
                               created_at=at, updated_at=at)


def _follow_up(case: Case, intake: Intake, at: datetime) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not _same_subject(locked, intake):
        raise InvalidInput(_("A follow-up belongs to a case of the same patient."), field="case")
    if locked.status == Case.Status.NULLIFIED:
        raise Conflict(_("This case was nullified; open a new one."), field="case")
    locked.version += 1
    locked.updated_at = at
    locked.amendment_reason = ""  # the version carries new information: a follow-up, not an amendment
    # Drug safety must have the new information by its own deadline, from its own day zero.
    if locked.status == Case.Status.FORWARDED:
        locked.status, locked.forward_due_at = Case.Status.OPEN, intake.due_at
    else:
        locked.forward_due_at = min(locked.forward_due_at, intake.due_at)
    locked.save(update_fields=["version", "updated_at", "status", "forward_due_at", "amendment_reason"])
    return locked


@dataclass(frozen=True)
class ReactionIn:
    """One event as the safety officer assesses it."""

    verbatim: str
    meddra_code: str = ""
    onset: date | None = None
    outcome: str = "unknown"  # a name of Reaction.Outcome: recovered, recovering, not_recovered, …
    seriousness: tuple[str, ...] = ()  # ICH E2A criteria (safety.export.CRITERIA); none: not serious
    causality: str = "unknown"  # the reporter's opinion: related, not_related, unknown


def assess_case(*, actor: Actor, case: Case, reactions: Sequence[ReactionIn], suspect_product: str,
                expectedness: str, narrative: str, at: datetime, reason: str = "") -> Case:
    """The assessment: the events (each with its term from the program's term list when coded, onset,
    outcome, seriousness criteria and the reporter's causality), the suspect product, expectedness and
    the narrative (sealed with the patient's key). Seriousness sets the authority clock, from day zero.

    Drug safety has what was forwarded: correcting a forwarded assessment makes the case's next version,
    an amendment (E2B C.1.11), which needs the `reason` and is forwarded by the market's deadline from
    now. Every problem is named by its field; nothing is written unless all is well."""
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    subject = case.subject
    today = timezone.localtime(at, ZoneInfo(subject.time_zone)).date()
    problems: list[ErrorDetail] = []
    suspect_product, narrative = suspect_product.strip(), narrative.strip()
    if not reactions:
        problems.append(ErrorDetail(_("Name at least one event."), field="reactions"))
    if len(reactions) > MAX_REACTIONS:
        problems.append(ErrorDetail(_("A case holds at most %(n)d events.") % {"n": MAX_REACTIONS},
                                    field="reactions"))
    terms = latest_terms(case.program_id)
    for i, reaction in enumerate(reactions[:MAX_REACTIONS]):
        problems += _reaction_problems(f"reactions.{i}", reaction, terms, today)
    if not suspect_product:
        problems.append(ErrorDetail(_("Name the suspect product as the reporter named it."), field="suspect_product"))
    elif len(suspect_product) > 250:
        problems.append(ErrorDetail(_("Write at most %(n)d characters.") % {"n": 250}, field="suspect_product"))
    if expectedness not in EXPECTEDNESS:
        problems.append(ErrorDetail(_("Choose expected, unexpected or unknown."), field="expectedness"))
    if not narrative:
        problems.append(ErrorDetail(_("Write the narrative: what happened, and its course since."), field="narrative"))
    elif len(narrative) > MAX_NARRATIVE:
        problems.append(ErrorDetail(_("Write at most %(n)d characters.") % {"n": MAX_NARRATIVE}, field="narrative"))
    reason = reason.strip()
    if len(reason) > 300:
        problems.append(ErrorDetail(_("Write at most %(n)d characters.") % {"n": 300}, field="reason"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    serious = any(r.seriousness for r in reactions)
    version = terms[0] if terms else ""
    with transaction.atomic():
        locked = _open_for_change(case)
        clocks = Clocks.for_pack(locked.market.pack, locked.program.safety_deadlines)
        if locked.status == Case.Status.FORWARDED:
            if not reason:
                raise InvalidInput(_("Say why the forwarded assessment is corrected: drug safety receives the "
                                     "correction as an amendment."), field="reason")
            # An amendment has no new information, so no day zero of its own: its deadline runs from now.
            locked.version, locked.status, locked.forward_due_at = locked.version + 1, Case.Status.OPEN, \
                clocks.forward_due(at)
            locked.amendment_reason = reason
        elif locked.amendment_reason and reason:
            locked.amendment_reason = reason  # the amendment not yet forwarded, its reason restated
        locked.reactions.all().delete()
        Reaction.objects.bulk_create([
            Reaction(case=locked, position=i, verbatim=r.verbatim.strip(), language=language_of(subject.locale),
                     meddra_code=r.meddra_code.strip(), meddra_version=version if r.meddra_code.strip() else "",
                     onset=r.onset, outcome=OUTCOMES[r.outcome], seriousness=sorted(set(r.seriousness)),
                     causality=r.causality)
            for i, r in enumerate(reactions)])
        locked.serious, locked.expectedness, locked.suspect_product = serious, expectedness, suspect_product
        locked.narrative_sealed = _seal(subject, NARRATIVE, narrative)
        # Expedited reporting to the authority: serious cases; in the US, serious and unexpected ones.
        expedited = serious and (expectedness != "expected" or not clocks.expedites_only_unexpected)
        locked.authority_due_at = clocks.authority_due(locked.day_zero, serious=expedited)
        locked.assessed_at = locked.updated_at = at
        locked.save(update_fields=["serious", "expectedness", "suspect_product", "narrative_sealed",
                                   "authority_due_at", "assessed_at", "updated_at", "version", "status",
                                   "forward_due_at", "amendment_reason"])
        _audit(actor, "safety.case_assessed", subject, case=locked.number, version=locked.version, serious=serious,
               amendment=locked.amendment_reason,
               expectedness=expectedness, events=[{"code": r.meddra_code.strip(), "seriousness": sorted(r.seriousness),
                                                   "outcome": r.outcome} for r in reactions])
    return locked


def assessment_input(data: Any) -> dict[str, Any]:
    """An assessment written as JSON (the CLI's file): the keyword arguments of assess_case but actor,
    case and time. Its shape is checked here, naming the field; assess_case checks the values."""
    if not isinstance(data, dict):
        raise InvalidInput(_("Give the assessment as a JSON object."), field="assessment")
    unknown = sorted(set(data) - {"reactions", "suspect_product", "expectedness", "narrative", "reason"})
    if unknown:
        raise InvalidInput(_("%(field)s is not part of an assessment.") % {"field": unknown[0]}, field=unknown[0])
    reactions = data.get("reactions")
    if not isinstance(reactions, list) or not all(isinstance(r, dict) for r in reactions):
        raise InvalidInput(_("Give the events as a list of objects."), field="reactions")
    parsed = []
    for i, item in enumerate(reactions):
        extra = sorted(set(item) - set(ReactionIn.__dataclass_fields__))
        if extra:
            raise InvalidInput(_("%(field)s is not part of an event.") % {"field": extra[0]},
                               field=f"reactions.{i}.{extra[0]}")
        texts = {k: item.get(k, "") for k in ("verbatim", "meddra_code", "outcome", "causality")}
        for key, value in texts.items():
            if not isinstance(value, str):
                raise InvalidInput(_("Give text."), field=f"reactions.{i}.{key}")
        onset = item.get("onset")
        try:
            onset = date.fromisoformat(onset) if onset else None
        except (TypeError, ValueError):
            raise InvalidInput(_("Give a date as YYYY-MM-DD."), field=f"reactions.{i}.onset") from None
        seriousness = item.get("seriousness", [])
        if not isinstance(seriousness, list) or not all(isinstance(c, str) for c in seriousness):
            raise InvalidInput(_("Give the seriousness criteria as a list."), field=f"reactions.{i}.seriousness")
        parsed.append(ReactionIn(verbatim=texts["verbatim"], meddra_code=texts["meddra_code"], onset=onset,
                                 outcome=texts["outcome"] or "unknown", seriousness=tuple(seriousness),
                                 causality=texts["causality"] or "unknown"))
    fields = {k: data.get(k, "") for k in ("suspect_product", "expectedness", "narrative", "reason")}
    for key, value in fields.items():
        if not isinstance(value, str):
            raise InvalidInput(_("Give text."), field=key)
    return {"reactions": parsed, **fields}


def _reaction_problems(where: str, reaction: ReactionIn, terms: tuple[str, dict[str, str]] | None,
                       today: date) -> list[ErrorDetail]:
    problems = []
    verbatim, code = reaction.verbatim.strip(), reaction.meddra_code.strip()
    if not verbatim:
        problems.append(ErrorDetail(_("Write the event as the reporter described it."), field=f"{where}.verbatim"))
    elif len(verbatim) > 250:
        problems.append(ErrorDetail(_("Write at most %(n)d characters.") % {"n": 250}, field=f"{where}.verbatim"))
    if code and terms is None:
        problems.append(ErrorDetail(_("The program has no term list yet: import the sponsor's MedDRA terms first."),
                                    field=f"{where}.meddra_code"))
    elif code and terms is not None and code not in terms[1]:
        problems.append(ErrorDetail(_("%(code)s is not a term of the program's list (MedDRA %(version)s).")
                                    % {"code": code, "version": terms[0]}, field=f"{where}.meddra_code"))
    if reaction.onset is not None and reaction.onset > today:
        problems.append(ErrorDetail(_("The day it started cannot be in the future."), field=f"{where}.onset"))
    if reaction.outcome not in OUTCOMES:
        problems.append(ErrorDetail(_("Choose an outcome from the list."), field=f"{where}.outcome"))
    unknown = [c for c in reaction.seriousness if c not in CRITERIA]
    if unknown:
        problems.append(ErrorDetail(_("%(value)s is not a seriousness criterion.") % {"value": unknown[0]},
                                    field=f"{where}.seriousness"))
    if reaction.causality not in CAUSALITY:
        problems.append(ErrorDetail(_("Choose related, not related or unknown."), field=f"{where}.causality"))
    return problems


def read_narrative(*, actor: Actor, case: Case) -> str | None:
    """The case's narrative, for a safety officer; audited. None before the assessment, or after the
    patient's erasure made it unreadable."""
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    return _read_sealed(actor, case.subject, NARRATIVE, case.narrative_sealed, "safety.narrative_read",
                        case=case.number)


def forward_case(*, actor: Actor, case: Case, at: datetime) -> Case:
    """Drug safety has the case: its forward clock stops. The version must meet the minimum criteria
    of a valid case (an identifiable patient and reporter, which the program always has, a suspect
    product and an event), and its coded facts are kept as sent."""
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    with transaction.atomic():
        locked = _open_for_change(case)
        if locked.status == Case.Status.FORWARDED:
            raise Conflict(_("This case was forwarded already."), field="status")
        if locked.assessed_at is None or not locked.suspect_product:
            raise InvalidInput(_("Assess the case first: drug safety needs the event and the suspect product."),
                               field="assessment")
        newest = locked.intakes.order_by("-day_zero").values_list("day_zero", flat=True).first() or locked.day_zero
        facts = snapshot(locked, most_recent=newest)
        if locked.amendment_reason:
            facts["correction"] = {"kind": "amendment", "reason": locked.amendment_reason}
        locked.status, locked.forwarded_at, locked.updated_at = Case.Status.FORWARDED, at, at
        locked.amendment_reason = ""
        locked.save(update_fields=["status", "forwarded_at", "updated_at", "amendment_reason"])
        CaseForwarding.objects.create(case=locked, version=locked.version, due_at=locked.forward_due_at,
                                      forwarded_at=at, forwarded_by_id=actor.user_id, facts=facts,
                                      narrative_sealed=locked.narrative_sealed)
        _audit(actor, "safety.case_forwarded", locked.subject, case=locked.number, version=locked.version,
               on_time=at <= locked.forward_due_at, correction=facts.get("correction", {}).get("kind", ""))
    return locked


def request_follow_up(*, actor: Actor, case: Case, question: str, due_at: datetime | None,
                      at: datetime, channel: str = FollowUp.Channel.CALL) -> FollowUp:
    """Drug safety needs to know more, by `due_at`. The question goes by `channel`: a nurse's call, the
    patient's own page (an approved notice by email or text tells them; they answer there), or, for a
    doctor's report, the doctor's page (the doctor is emailed). The channels make the call or send the
    notice, in this transaction (safety.hooks.follow_up_requested). Refused when the patient (or
    doctor) has not agreed to be reached that way: that consent is theirs to give."""
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    question = question.strip()
    problems = []
    if not question:
        problems.append(ErrorDetail(_("Say what drug safety needs to know."), field="question"))
    elif len(question) > 180:
        problems.append(ErrorDetail(_("Write at most %(n)d characters.") % {"n": 180}, field="question"))
    if due_at is None or due_at <= at:
        problems.append(ErrorDetail(_("Give a due date in the future."), field="due_at"))
    elif due_at > at + timedelta(days=MAX_FOLLOW_UP_DAYS):
        problems.append(ErrorDetail(_("Give a due date within %(n)d days.") % {"n": MAX_FOLLOW_UP_DAYS},
                                    field="due_at"))
    refusal = _follow_up_refusal(case, channel)
    if refusal:
        problems.append(ErrorDetail(refusal, field="channel"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    with transaction.atomic():
        locked = _open_for_change(case)
        follow_up = FollowUp.objects.create(case=locked, channel=channel, question=question, asked_by_id=actor.user_id,
                                            asked_at=at, due_at=due_at)
        effects = follow_up_requested.run(follow_up)
        _audit(actor, "safety.follow_up_requested", locked.subject, case=locked.number, follow_up=follow_up.pk,
               channel=channel, due_at=due_at.isoformat(), effects=effects)
    return follow_up


def _follow_up_refusal(case: Case, channel: str) -> str:
    """Why the question cannot go by `channel`, or ""."""
    if channel not in FollowUp.Channel.values:
        return _("Choose a nurse's call, the patient's page or the doctor.")
    if channel == FollowUp.Channel.DOCTOR:
        hcp = case.hcp
        if hcp is None:
            return _("Only a case a doctor reported can be followed up with the doctor.")
        if hcp.status != Hcp.Status.ACTIVE or "contact_email" not in granted_purposes(hcp):
            return _("The doctor has not agreed to emails from the program.")
        return ""
    patient = case.patient
    if patient is None:  # the doctor's patient is not the program's to reach
        return _("A doctor reported this case: drug safety follows it up with the doctor.")
    granted = granted_purposes(patient) if patient.status == Patient.Status.ACTIVE else set()
    if channel == FollowUp.Channel.CALL and action_refusal("nurse_task", granted, "phone"):
        return _("The patient has not agreed to calls from the program's nurses: drug safety must follow up "
                 "another way.")
    if channel == FollowUp.Channel.PORTAL and all(action_refusal("send", granted, c) for c in NOTICE_CHANNELS):
        return _("The patient has agreed to no email or text message that could tell them of the question.")
    return ""


def close_follow_up(*, actor: Actor, follow_up: FollowUp, reason: str, at: datetime) -> FollowUp:
    """A question that will not be answered (the patient could not be reached again, the doctor does not
    reply) is closed with the reason: lost to follow-up, as drug safety records it. Its call or notice not
    yet made is withdrawn."""
    case = follow_up.case
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the question is closed unanswered."), field="reason")
    if len(reason) > 300:
        raise InvalidInput(_("Write at most %(n)d characters.") % {"n": 300}, field="reason")
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update(of=("self",)).select_related("case").get(pk=follow_up.pk)
        if locked.status != FollowUp.Status.OPEN:
            raise Conflict(_("This question is no longer open."), field="status")
        locked.status, locked.closed_reason = FollowUp.Status.UNANSWERED, reason
        locked.save(update_fields=["status", "closed_reason"])
        effects = follow_up_closed.run(locked)
        _audit(actor, "safety.follow_up_closed", case.subject, case=case.number, follow_up=locked.pk,
               effects=effects)
    return locked


def answer_follow_up(*, actor: Actor, follow_up_id: int, patient: Patient, words: str, answers: list[str],
                     at: datetime) -> Intake | None:
    """What the patient said on the follow-up call: an intake naming the case (day zero now), for the
    safety officer to add to it; the request is answered. None if the request is no longer open."""
    with transaction.atomic():
        follow_up = (FollowUp.objects.select_for_update().select_related("case")
                     .filter(pk=follow_up_id, case__patient=patient, channel=FollowUp.Channel.CALL,
                             status=FollowUp.Status.OPEN).first())
        if follow_up is None:
            return None
        if actor.kind != "system":  # the nurse who made the call
            actor.require(Permission.SAFETY_REPORT, patient.program_id, patient.market.country)
        return _answered(actor, follow_up, patient, source="follow-up call", words=words, answers=answers, at=at)


def answer_in_writing(*, actor: Actor, follow_up: FollowUp, subject: Patient | Hcp, text: str, at: datetime
                      ) -> Intake:
    """The patient's answer on their page, or the doctor's on theirs: an intake naming the case, day
    zero now. Only the one asked may answer, once, while the question is open."""
    if actor.kind not in ("patient", "hcp") or actor.label != subject.pseudonym:
        raise AccessDenied()
    text = text.strip()
    if not text:
        raise InvalidInput(_("Write your answer."), field="answer")
    if len(text) > MAX_REPORT:
        raise InvalidInput(_("Write at most %(n)d characters.") % {"n": MAX_REPORT}, field="answer")
    whose = ({"case__hcp": subject, "channel": FollowUp.Channel.DOCTOR} if isinstance(subject, Hcp) else
             {"case__patient": subject, "channel": FollowUp.Channel.PORTAL})
    with transaction.atomic():
        locked = (FollowUp.objects.select_for_update(of=("self",)).select_related("case")
                  .filter(pk=follow_up.pk, **whose).first())
        if locked is None:
            raise NotFound()
        if locked.status != FollowUp.Status.OPEN:
            raise Conflict(_("This question was answered already."), field="answer")
        source = "doctor's answer" if isinstance(subject, Hcp) else "patient's answer"
        return _answered(actor, locked, subject, source=source, words=text, answers=[], at=at)


def _answered(actor: Actor, follow_up: FollowUp, subject: Patient | Hcp, *, source: str, words: str,
              answers: list[str], at: datetime) -> Intake:
    intake = _new_intake(actor, subject, source=source, reason=FOLLOW_UP_REASON,
                         detail={"follow_up": follow_up.pk, "case": follow_up.case.number, "answers": answers},
                         idempotency_key=f"follow-up:{follow_up.pk}", day_zero=at, at=at, words=words)
    follow_up.status, follow_up.answered_at, follow_up.intake = FollowUp.Status.ANSWERED, at, intake
    follow_up.save(update_fields=["status", "answered_at", "intake"])
    _audit(actor, "safety.follow_up_answered", subject, case=follow_up.case.number, follow_up=follow_up.pk,
           intake=intake.pk)
    return intake


def nullify_case(*, actor: Actor, case: Case, reason: str, at: datetime) -> Case:
    """A case opened in error stays on record, nullified with the reason. If drug safety has a version
    of it, the nullification is the notice it receives (E2B C.1.11, "nullification"): the case's next
    version, on record as sent now, with the facts of the last version sent and the reason."""
    actor.require(Permission.SAFETY_MANAGE, case.program_id, case.market.country)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the case is nullified."), field="reason")
    if len(reason) > 300:
        raise InvalidInput(_("Write at most %(n)d characters.") % {"n": 300}, field="reason")
    with transaction.atomic():
        locked = _open_for_change(case)
        sent = locked.forwardings.order_by("-version").first()
        locked.status, locked.nullified_reason, locked.updated_at = Case.Status.NULLIFIED, reason, at
        locked.amendment_reason = ""
        if sent is not None:
            # A version drug safety never received is not sent now: the nullification takes its number.
            locked.version += sent.version == locked.version
            locked.forwarded_at = at
            zone = ZoneInfo(locked.subject.time_zone)
            facts = {**sent.facts, "most_recent": at.astimezone(zone).date().isoformat(),
                     "correction": {"kind": "nullification", "reason": reason}}
            CaseForwarding.objects.create(case=locked, version=locked.version, due_at=at, forwarded_at=at,
                                          forwarded_by_id=actor.user_id, facts=facts,
                                          narrative_sealed=sent.narrative_sealed)
        locked.save(update_fields=["status", "nullified_reason", "updated_at", "amendment_reason", "version",
                                   "forwarded_at"])
        for follow_up in locked.follow_ups.filter(status=FollowUp.Status.OPEN).select_related("case"):
            follow_up.status = FollowUp.Status.CANCELLED
            follow_up.save(update_fields=["status"])
            follow_up_closed.run(follow_up)
        _audit(actor, "safety.case_nullified", locked.subject, case=locked.number,
               version=locked.version if sent is not None else None)
    return locked


def _open_for_change(case: Case) -> Case:
    locked = Case.objects.select_for_update(of=("self",)).select_related("market", "patient", "hcp").get(pk=case.pk)
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


def import_terms(*, actor: Actor, program: Program, version: str, text: str, at: datetime) -> int:
    """The sponsor's MedDRA term list for the program (CSV: code, term; a header row is allowed), as one
    version. Every bad line is named; nothing is imported unless every line is good. Importing the same
    version again replaces it."""
    actor.require(Permission.SAFETY_MANAGE, program.pk)
    if not MEDDRA_VERSION.fullmatch(version or ""):
        raise InvalidInput(_("Give the MedDRA version as two numbers, e.g. 27.1."), field="version")
    problems: list[ErrorDetail] = []
    terms: dict[str, str] = {}
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        code, name = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
        if line == 1 and not code.isdigit():
            continue  # the header
        if not MEDDRA_CODE.fullmatch(code):
            problems.append(ErrorDetail(_("Line %(line)d: a MedDRA code has eight digits.") % {"line": line},
                                        field="code", line=line))
        elif code in terms:
            problems.append(ErrorDetail(_("Line %(line)d: %(code)s is listed twice.") % {"line": line, "code": code},
                                        field="code", line=line))
        elif not name or len(name) > 250:
            problems.append(ErrorDetail(_("Line %(line)d: give the term's name, at most 250 characters.")
                                        % {"line": line}, field="term", line=line))
        else:
            terms[code] = name
        if len(problems) >= 20 or len(terms) > MAX_TERMS:
            break
    if not problems and not terms:
        problems.append(ErrorDetail(_("The file holds no terms."), field="file"))
    if len(terms) > MAX_TERMS:
        problems.append(ErrorDetail(_("A term list holds at most %(n)d terms.") % {"n": MAX_TERMS}, field="file"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    with transaction.atomic():
        Term.objects.filter(program=program, version=version).delete()
        Term.objects.bulk_create([Term(program=program, version=version, code=code, name=name, imported_at=at)
                                  for code, name in terms.items()], batch_size=2000)
        record_audit(actor=actor, action="safety.terms_imported", subject_type="program", subject_id=program.slug,
                     program_id=program.pk, after={"version": version, "terms": len(terms),
                                                   "sha256": hashlib.sha256(text.encode()).hexdigest()})
    return len(terms)


def export_versions(*, actor: Actor, program: Program, fmt: str, numbers: Sequence[str] | None,
                    at: datetime, version: int | None = None) -> list[tuple[str, bytes]]:
    """Forwarded case versions as drug safety received them: one E2B(R3) ICSR file per version, or
    the PV line list (CSV) of them all. `numbers` None: every forwarded version of the markets the
    actor manages; `version` keeps only that version. Each ICSR is checked before it leaves; if any
    fails, nothing is exported and every problem is named by case, version and data element. Audited."""
    if fmt not in ("e2b", "csv"):
        raise InvalidInput(_("Choose e2b or csv."), field="format")
    markets = [c for c in program.program_markets.values_list("market__country", flat=True)
               if actor.can(Permission.SAFETY_MANAGE, program.pk, c)]
    if not markets:
        actor.require(Permission.SAFETY_MANAGE, program.pk)
    forwardings = (CaseForwarding.objects.filter(case__program=program, case__market__country__in=markets)
                   .select_related("case__patient", "case__hcp", "case__market").order_by("case__number", "version"))
    if numbers is not None:
        found = set(forwardings.filter(case__number__in=numbers).values_list("case__number", flat=True))
        missing = [n for n in numbers if n not in found]
        if missing:
            raise InvalidInput(_("No forwarded case %(number)s in your markets.") % {"number": missing[0]},
                               field="case")
        forwardings = forwardings.filter(case__number__in=numbers)
    if version is not None:  # one version of the named cases, as a download asks for it
        forwardings = forwardings.filter(version=version)
    if fmt == "e2b":
        # A product complaint without an adverse event is no ICSR: drug safety has it in the line list.
        complaints = [f.case.number for f in forwardings if f.case.kind == Case.Kind.PRODUCT_COMPLAINT]
        if numbers is not None and complaints:
            raise InvalidInput(_("%(number)s is a product complaint, not an adverse event: export it in the line "
                                 "list.") % {"number": complaints[0]}, field="case")
        forwardings = forwardings.exclude(case__kind=Case.Kind.PRODUCT_COMPLAINT)
    cases = []
    for forwarding in forwardings:
        case = forwarding.case
        narrative = None
        if forwarding.narrative_sealed is not None:
            try:
                narrative = _unseal(case.subject, NARRATIVE, bytes(forwarding.narrative_sealed))
            except DataErased:
                narrative = None  # erased with the patient's identity; drug safety has it
        cases.append((forwarding, icsr_case(forwarding, narrative)))
    files: list[tuple[str, bytes]] = []
    problems: list[ErrorDetail] = []
    if fmt == "csv":
        files.append((f"safety-line-list-{program.slug}.csv", line_list(c for _f, c in cases).encode()))
    for forwarding, icsr in cases if fmt == "e2b" else ():
        xml = build_icsr(icsr)
        found_problems = check_icsr(xml)
        problems += [ErrorDetail(f"{forwarding.case.number} v{forwarding.version}: {p.message}", field=p.element)
                     for p in found_problems]
        files.append((file_name(forwarding, "e2b"), xml))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems[:50])
    with transaction.atomic():
        record_audit(actor=actor, action="safety.cases_exported", subject_type="program", subject_id=program.slug,
                     program_id=program.pk, after={"format": fmt, "versions": [
                         f"{f.case.number} v{f.version}" for f, _c in cases][:500], "count": len(cases)})
    return files


def import_ack(*, actor: Actor, program: Program, data: bytes, at: datetime) -> list[CaseForwarding]:
    """Drug safety's E2B(R3) acknowledgement: each ICSR it names is marked accepted or rejected (with
    the reasons it gives). An acknowledgement naming a report Sojourn did not send is refused whole."""
    ack = read_ack(data)
    forwardings = {message_number(f): f for f in CaseForwarding.objects.filter(case__program=program)
                   .select_related("case__market", "case__patient", "case__hcp")
                   if actor.can(Permission.SAFETY_MANAGE, program.pk, f.case.market.country)}
    if not forwardings:
        actor.require(Permission.SAFETY_MANAGE, program.pk)
    matched: list[tuple[CaseForwarding, Any]] = []
    for report in ack.reports:
        # FDA names a report by its message number (N.2.r.1) and safety report id (C.1.1); C.1.1 alone
        # is every version of the case, and then the latest one is meant.
        forwarding = next((f for number, f in forwardings.items() if report.refers_to(number)), None)
        if forwarding is None:
            versions = [f for f in forwardings.values() if report.refers_to(safety_report_id(f))]
            forwarding = max(versions, key=lambda f: f.version) if versions else None
        if forwarding is None:
            raise InvalidInput(_("The acknowledgement names a report this program did not send: %(id)s.")
                               % {"id": " ".join(report.icsr_message_ids)[:200]}, field="ACK.B.r.1")
        matched.append((forwarding, report))
    if not matched:
        raise InvalidInput(_("The acknowledgement names no report."), field="ACK.B.r.1")
    with transaction.atomic():
        for forwarding, report in matched:
            locked = CaseForwarding.objects.select_for_update().get(pk=forwarding.pk)
            locked.ack = "accepted" if report.accepted else "rejected"
            locked.ack_details, locked.acked_at = list(report.details)[:20], at
            locked.save(update_fields=["ack", "ack_details", "acked_at"])
            forwarding.ack, forwarding.ack_details, forwarding.acked_at = locked.ack, locked.ack_details, at
            _audit(actor, "safety.ack_imported", forwarding.case.subject, case=forwarding.case.number,
                   version=forwarding.version, ack=locked.ack, batch=ack.number)
    return [f for f, _r in matched]


def _same_subject(case: Case, intake: Intake) -> bool:
    return (case.patient_id, case.hcp_id) == (intake.patient_id, intake.hcp_id)


def _seal(subject: Patient | Hcp, field: str, value: str) -> bytes:
    if isinstance(subject, Hcp):
        return seal_for_hcp(subject, field, value)
    return seal_for_patient(subject, field, value)


def _unseal(subject: Patient | Hcp, field: str, sealed: bytes) -> str:
    if isinstance(subject, Hcp):
        return unseal_for_hcp(subject, field, sealed)
    return unseal_for_patient(subject, field, sealed)


def _read_sealed(actor: Actor, subject: Patient | Hcp, field: str, sealed: bytes | memoryview | None, action: str,
                 **after: Any) -> str | None:
    """Words sealed with the patient's (or doctor's) key, for a safety officer, the reading audited. None
    when there are none, or when an erasure destroyed the key: the words went with the identity."""
    if sealed is None:
        return None
    try:
        words = _unseal(subject, field, bytes(sealed))
    except DataErased:
        return None
    _audit(actor, action, subject, **after)
    return words


def _audit(actor: Actor, action: str, subject: Patient | Hcp, **after: Any) -> None:
    """On the record of whose case it is: the patient, or the doctor who reported."""
    record_audit(actor=actor, action=action, subject_type="hcp" if isinstance(subject, Hcp) else "patient",
                 subject_id=subject.pseudonym, program_id=subject.program_id, market=subject.market.country,
                 after=after)
