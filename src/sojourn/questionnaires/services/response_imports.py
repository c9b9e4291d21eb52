"""Import QuestionnaireResponses answered elsewhere (a partner's app, a paper form an agency typed in):
one resource or a Bundle of them, each matched to a patient of the program by pseudonym, checked
against the questionnaire version it names and scored again here, whatever total it carries. A score
it carries that differs from ours is reported, never kept. All or nothing: one bad entry and nothing
is imported. The same response imported again changes nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from sojourn.consent.errors import NotConsented
from sojourn.consent.queries import granted_purposes
from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.questionnaires.answers import calculated_answers, check_response, read_answers, response_items
from sojourn.questionnaires.definition import MAX_DEPTH, too_deep
from sojourn.questionnaires.hooks import response_completed
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.scoring import raised_flags, score
from sojourn.questionnaires.services.definitions import definition

PSEUDONYM = "urn:sojourn:pseudonym"
# The scores a response carries, one extension per scale (Sojourn's export writes them): compared, not kept.
SCORES = "urn:sojourn:fhir:questionnaire-response-score"
MAX_ENTRIES = 5000
FINISHED = ("completed", "amended")
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class ScoreMismatch:
    entry: str  # "entry[3]", or "" for a single response
    what: str  # item[phq9-total] or scale[total]
    stored: str
    recomputed: str

    def as_dict(self) -> dict[str, str]:
        return {"entry": self.entry, "what": self.what, "stored": self.stored, "recomputed": self.recomputed}


@dataclass
class ResponseImport:
    imported: list[int] = field(default_factory=list)  # the new responses
    already: int = 0  # imported before: unchanged
    mismatches: list[ScoreMismatch] = field(default_factory=list)


@dataclass(frozen=True)
class _Prepared:
    where: str
    patient: Patient
    questionnaire: Questionnaire
    authored: datetime
    items: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    flags: list[str]
    source_key: str


def _entries(data: Any) -> list[tuple[str, Any]]:
    kind = data.get("resourceType") if isinstance(data, dict) else None
    if kind == "QuestionnaireResponse":
        return [("", data)]
    if kind != "Bundle":
        raise InvalidInput(_("Expected a FHIR QuestionnaireResponse or a Bundle of them."), field="resourceType")
    entries = data.get("entry")
    if not isinstance(entries, list) or not entries:
        raise InvalidInput(_("The Bundle has no entries."), field="entry")
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(_("A Bundle holds at most %(n)s responses.") % {"n": MAX_ENTRIES}, field="entry")
    return [(f"entry[{n}]", e.get("resource") if isinstance(e, dict) else None) for n, e in enumerate(entries)]


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _pseudonym(subject: Any) -> str:
    if not isinstance(subject, dict):
        return ""
    identifier = subject.get("identifier")
    if isinstance(identifier, dict) and identifier.get("system") == PSEUDONYM:
        return str(identifier.get("value") or "")
    reference = subject.get("reference")
    if isinstance(reference, str) and reference.startswith("Patient/"):
        return reference.removeprefix("Patient/")
    return ""


def _questionnaire(program: Program, canonical: Any, where: str,
                   cache: dict[str, Questionnaire | None]) -> Questionnaire:
    if not isinstance(canonical, str) or not canonical:
        raise InvalidInput(_("Name the questionnaire answered (its canonical URL)."),
                           field=_at(where, "questionnaire"))
    if canonical not in cache:
        url, _bar, version = canonical.partition("|")
        answerable = Questionnaire.objects.filter(program=program, url=url, status__in=["approved", "retired"])
        if version:
            found = answerable.filter(version=int(version)).first() if version.isdigit() else None
        else:
            found = answerable.filter(status="approved").first()
        cache[canonical] = found
    found = cache[canonical]
    if found is None:
        raise InvalidInput(_("The program has no approved questionnaire %(canonical)s.") % {"canonical": canonical},
                           field=_at(where, "questionnaire"))
    return found


def _authored(raw: Any, where: str, now: datetime) -> datetime:
    moment = parse_datetime(raw) if isinstance(raw, str) and "T" in raw else None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(_("Give when the answers were given as a date and time with its offset "
                             "(2026-03-01T09:30:00+01:00)."), field=_at(where, "authored"))
    if moment > now + CLOCK_SKEW:
        raise InvalidInput(_("The answers cannot be given in the future."), field=_at(where, "authored"))
    return moment


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")  # 15.00 → 15, 22.80 → 22.8


def _shown(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values) or "—"


def score_extensions(scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scores of a response as FHIR extensions (the export writes them; an import compares them)."""
    return [{"url": SCORES, "extension": [{"url": "scale", "valueString": s["scale"]},
                                          {"url": "value", "valueDecimal": s["value"]}]}
            for s in scores if s.get("value") is not None]


def _stored_scores(resource: dict[str, Any], where: str) -> dict[str, Decimal]:
    stored = {}
    for extension in resource.get("extension") or []:
        if not isinstance(extension, dict) or extension.get("url") != SCORES:
            continue
        parts = {e.get("url"): e for e in extension.get("extension") or [] if isinstance(e, dict)}
        scale = (parts.get("scale") or {}).get("valueString")
        value = (parts.get("value") or {}).get("valueDecimal")
        try:
            stored[str(scale)] = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise InvalidInput(_("A score the response carries needs a scale and a number."),
                               field=_at(where, "extension")) from None
    return stored


def _prepare(actor: Actor, program: Program, where: str, resource: Any, now: datetime,
             cache: dict[str, Questionnaire | None], mismatches: list[ScoreMismatch]) -> _Prepared:
    if not isinstance(resource, dict) or resource.get("resourceType") != "QuestionnaireResponse":
        raise InvalidInput(_("Each entry is a QuestionnaireResponse."), field=_at(where, "resource"))
    if resource.get("status") not in FINISHED:
        raise InvalidInput(_("Only finished answers are imported (status completed or amended)."),
                           field=_at(where, "status"))
    questionnaire = _questionnaire(program, resource.get("questionnaire"), where, cache)
    pseudonym = _pseudonym(resource.get("subject"))
    patient = (Patient.objects.select_related("market").filter(program=program, pseudonym=pseudonym).first()
               if pseudonym else None)
    if patient is None:
        raise InvalidInput(_("The subject is no patient of this program (give their pseudonym as the identifier "
                             "%(system)s).") % {"system": PSEUDONYM}, field=_at(where, "subject"))
    actor.require(Permission.PATIENT_MANAGE, program.pk, patient.market.country)
    authored = _authored(resource.get("authored"), where, now)
    parsed = definition(questionnaire)
    try:
        given, problems = read_answers(parsed, resource.get("item") or [])
        if problems:
            raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
        # A calculated answer (a total the other system worked out) is worked out again: a different
        # one is reported, and ours is kept.
        answers = calculated_answers(parsed, given)
        for item in parsed.walk():
            if item.calculated and item.link_id in given and _shown(given[item.link_id]) != \
                    _shown(answers.get(item.link_id, [])):
                mismatches.append(ScoreMismatch(where, f"item[{item.link_id}]", _shown(given[item.link_id]),
                                                _shown(answers.get(item.link_id, []))))
        items = response_items(parsed, answers)
        answers = check_response(parsed, {"resourceType": "QuestionnaireResponse", "status": "completed",
                                          "item": items}, complete=True)
    except InvalidInput as error:
        raise _located(error, where) from None
    scales = score(parsed, answers, questionnaire.scoring)
    for scale, stored in _stored_scores(resource, where).items():
        ours = next((s.value for s in scales if s.scale == scale), None)
        if ours != stored:
            mismatches.append(ScoreMismatch(where, f"scale[{scale}]", _number(stored),
                                            "—" if ours is None else _number(ours)))
    canonical = json.dumps({k: v for k, v in resource.items() if k not in {"id", "meta"}}, sort_keys=True,
                           ensure_ascii=False)
    identifier = resource.get("identifier")
    key = (f"{identifier.get('system', '')}|{identifier.get('value', '')}" if isinstance(identifier, dict)
           and identifier.get("value") else "sha256:" + hashlib.sha256(canonical.encode()).hexdigest())
    return _Prepared(where, patient, questionnaire, authored, items, [s.as_dict() for s in scales],
                     raised_flags(parsed, answers, scales, questionnaire.scoring), key[:200])


def _located(error: InvalidInput, where: str) -> InvalidInput:
    """The same refusal with every field inside the entry it came from."""
    if not where:
        return error
    details = [ErrorDetail(d.message, field=_at(where, d.field or "resource"), line=d.line) for d in error.details] \
        or [ErrorDetail(error.message, field=_at(where, error.field or "resource"))]
    return InvalidInput(details[0].message, field=details[0].field, details=details)


def _read(resource: str | bytes | dict[str, Any]) -> Any:
    if isinstance(resource, (str, bytes)):
        try:
            resource = json.loads(resource)
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(_("This is not valid JSON: %(why)s") % {"why": str(exc)[:200]},
                               field="resource") from exc
    if too_deep(resource):
        raise InvalidInput(_("The JSON nests deeper than %(n)s levels.") % {"n": MAX_DEPTH}, field="item")
    return resource


def import_responses(*, actor: Actor, program: Program, resource: str | bytes | dict[str, Any]) -> ResponseImport:
    """Check every response first, then write them all in one transaction (or nothing)."""
    data = _read(resource)
    now = timezone.now()
    result = ResponseImport()
    cache: dict[str, Questionnaire | None] = {}
    prepared = [_prepare(actor, program, where, entry, now, cache, result.mismatches)
                for where, entry in _entries(data)]
    with transaction.atomic(durable=True):
        for entry in prepared:
            patient = entry.patient
            status = list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("status", flat=True))
            if status != [Patient.Status.ACTIVE] or "program_participation" not in granted_purposes(patient):
                raise NotConsented(_("Answers are taken only while the patient takes part in the program."),
                                   field=_at(entry.where, "subject"))
            if QuestionnaireResponse.objects.filter(patient=patient, source_key=entry.source_key).exists():
                result.already += 1
                continue
            response = QuestionnaireResponse.objects.create(
                patient=patient, questionnaire=entry.questionnaire, status=QuestionnaireResponse.Status.COMPLETED,
                source=QuestionnaireResponse.Source.IMPORT, source_key=entry.source_key, items=entry.items,
                scores=entry.scores, flags=entry.flags, locale=patient.locale, started_at=entry.authored,
                completed_at=entry.authored, entered_by_id=actor.user_id if actor.kind == "staff" else None)
            effects = response_completed.run(response)
            record_audit(actor=actor, action="questionnaire.completed", subject_type="patient",
                         subject_id=patient.pseudonym, program_id=program.pk, market=patient.market.country,
                         after={"questionnaire": entry.questionnaire.name, "version": entry.questionnaire.version,
                                "response": response.pk, "source": "import", "effects": effects})
            result.imported.append(response.pk)
    return result
