"""Every write to journeys, personas and the atlas: checked, permitted (journeys.edit) and audited.

A journey version is written once: a revision is a new version with its basis (hypothesis or
evidence), a note saying what changed and why, and the hypotheses whose verdicts led to it."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.insights.models import Hypothesis
from sojourn.journeys.documents import TEMPLATES, read_map
from sojourn.journeys.models import KIND_CODES, Journey, JourneyLink, JourneyVersion, Persona
from sojourn.tracking.models import Need, Stage

SLUG = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"


def _text(problems: list[ErrorDetail], name: str, value: Any, limit: int, *, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if (required and not text) or len(text) > limit or (value is not None and not isinstance(value, str)):
        problems.append(ErrorDetail(_("Write %(name)s in %(low)d to %(high)d characters.") % {
            "name": name, "low": 1 if required else 0, "high": limit}, field=name))
    return text


def _lines(problems: list[ErrorDetail], name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 20 or any(
            not isinstance(v, str) or not v.strip() or len(v) > 200 for v in value):
        problems.append(ErrorDetail(_("List up to 20 lines of 1 to 200 characters."), field=name))
        return []
    return [v.strip() for v in value]


def _fail(problems: list[ErrorDetail]) -> None:
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)


def save_persona(*, actor: Actor, program: Program, code: str, kind: str, name: str, summary: str = "",
                 goals: Any = (), needs: Any = None, frustrations: Any = (), health_literacy: str = "medium",
                 support: str = "", digital_habits: str = "", now: datetime | None = None) -> Persona:
    """Create the persona, or change the one with this code."""
    actor.require(Permission.JOURNEYS_EDIT, program.pk)
    problems: list[ErrorDetail] = []
    if not isinstance(code, str) or not re.match(SLUG, code) or len(code) > 60:
        problems.append(ErrorDetail(_("Give a code of lowercase letters, digits and dashes."), field="code"))
    if kind not in KIND_CODES:
        problems.append(ErrorDetail(_("Choose the kind among %(kinds)s.") % {"kinds": ", ".join(KIND_CODES)},
                                    field="kind"))
    name = _text(problems, "name", name, 120)
    summary = _text(problems, "summary", summary, 500, required=False)
    support = _text(problems, "support", support, 300, required=False)
    digital_habits = _text(problems, "digital_habits", digital_habits, 300, required=False)
    goals_list = _lines(problems, "goals", list(goals) if isinstance(goals, tuple) else goals)
    frustrations_list = _lines(problems, "frustrations",
                               list(frustrations) if isinstance(frustrations, tuple) else frustrations)
    if health_literacy not in Persona.Literacy.values:
        problems.append(ErrorDetail(_("Choose low, medium or high."), field="health_literacy"))
    known_needs = set(Need.objects.filter(program=program).values_list("code", flat=True))
    needs = needs or {}
    if not isinstance(needs, dict):
        problems.append(ErrorDetail(_("Give the needs as need code → weight from 0 to 1."), field="needs"))
        needs = {}
    for need, weight in needs.items():
        if need not in known_needs:
            problems.append(ErrorDetail(_("The program has no need %(need)s.") % {"need": need},
                                        field=f"needs.{need}"))
        elif isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) \
                or not 0 <= weight <= 1:
            problems.append(ErrorDetail(_("A need's weight lies from 0 to 1."), field=f"needs.{need}"))
    if needs and kind != "patient":
        problems.append(ErrorDetail(_("Only a patient persona is placed among the patients by needs."),
                                    field="needs"))
    _fail(problems)
    now = now or timezone.now()
    fields = {"kind": kind, "name": name, "summary": summary, "goals": goals_list,
              "needs": {k: float(v) for k, v in needs.items()}, "frustrations": frustrations_list,
              "health_literacy": health_literacy, "support": support, "digital_habits": digital_habits,
              "updated_at": now}
    with transaction.atomic():
        persona, created = Persona.objects.update_or_create(program=program, code=code, defaults=fields,
                                                            create_defaults={**fields, "created_at": now})
        record_audit(actor=actor, action="persona.created" if created else "persona.changed",
                     subject_type="persona", subject_id=persona.pk, program_id=program.pk)
    return persona


def create_journey(*, actor: Actor, program: Program, code: str, title: str, kind: str,
                   persona: Persona | None = None, markets: list[str] | None = None, template: bool = True,
                   now: datetime | None = None) -> Journey:
    """A new journey; its first version (a hypothesis) is the template of its kind unless `template`
    is off, in which case the first version is saved with `save_journey_version`."""
    actor.require(Permission.JOURNEYS_EDIT, program.pk)
    problems: list[ErrorDetail] = []
    if not isinstance(code, str) or not re.match(SLUG, code) or len(code) > 60:
        problems.append(ErrorDetail(_("Give a code of lowercase letters, digits and dashes."), field="code"))
    elif Journey.objects.filter(program=program, code=code).exists():
        problems.append(ErrorDetail(_("The program has a journey %(code)s already.") % {"code": code}, field="code"))
    title = _text(problems, "title", title, 200)
    if kind not in KIND_CODES:
        problems.append(ErrorDetail(_("Choose the kind among %(kinds)s.") % {"kinds": ", ".join(KIND_CODES)},
                                    field="kind"))
    if persona is not None and persona.program_id != program.pk:
        problems.append(ErrorDetail(_("Choose a persona of this program."), field="persona"))
    runs_in = set(Market.objects.filter(program_markets__program=program).values_list("country", flat=True))
    markets = sorted(set(markets or []))
    outside = [m for m in markets if m not in runs_in]
    if outside:
        problems.append(ErrorDetail(_("The program does not run in %(markets)s.") % {"markets": ", ".join(outside)},
                                    field="markets"))
    _fail(problems)
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                journey = Journey.objects.create(program=program, code=code, title=title, kind=kind, persona=persona,
                                                 markets=markets, created_at=now)
        except IntegrityError:
            raise InvalidInput(_("The program has a journey %(code)s already.") % {"code": code},
                               field="code") from None
        record_audit(actor=actor, action="journey.created", subject_type="journey", subject_id=journey.pk,
                     program_id=program.pk, after={"kind": kind})
        if template:
            document = _fit_template(program, TEMPLATES[kind])
            save_journey_version(actor=actor, journey=journey, document=document,
                                 basis=JourneyVersion.Basis.HYPOTHESIS,
                                 note=_("Started from the %(kind)s journey template.") % {"kind": kind}, now=now)
    return journey


def _fit_template(program: Program, document: dict[str, Any]) -> dict[str, Any]:
    """The template, keeping links to program stages only where the program has them."""
    stages = set(Stage.objects.filter(program=program).values_list("code", flat=True))
    return {"stages": [{**s, "program_stage": s.get("program_stage") if s.get("program_stage") in stages else None}
                       for s in document["stages"]]}


def save_journey_version(*, actor: Actor, journey: Journey, document: Any, basis: str, note: str = "",
                         evidence: list[int] | None = None, now: datetime | None = None) -> JourneyVersion:
    """Write the next version of the journey's map."""
    actor.require(Permission.JOURNEYS_EDIT, journey.program_id)
    problems: list[ErrorDetail] = []
    if basis not in JourneyVersion.Basis.values:
        problems.append(ErrorDetail(_("Say whether the version is a hypothesis or based on evidence."),
                                    field="basis"))
    note = _text(problems, "note", note, 2000, required=basis == JourneyVersion.Basis.EVIDENCE)
    evidence = list(evidence or [])
    # An id no database column can hold is no hypothesis of this program (and must not reach the query).
    plausible = [e for e in evidence if isinstance(e, int) and not isinstance(e, bool) and 0 < e < 2**62]
    hypotheses = list(Hypothesis.objects.filter(program_id=journey.program_id, pk__in=plausible))
    if len(plausible) != len(evidence) or len(hypotheses) != len(set(plausible)):
        problems.append(ErrorDetail(_("Cite hypotheses of this program as evidence."), field="evidence"))
    if basis == JourneyVersion.Basis.EVIDENCE and not evidence:
        problems.append(ErrorDetail(_("A revision based on evidence cites the hypotheses whose verdicts led to it."),
                                    field="evidence"))
    parsed = None
    try:
        parsed = read_map(document, set(Stage.objects.filter(program_id=journey.program_id)
                                        .values_list("code", flat=True)))
    except InvalidInput as error:
        problems.extend(error.details)
    _fail(problems)
    now = now or timezone.now()
    with transaction.atomic():
        # The journey's row lock numbers versions one at a time.
        Journey.objects.select_for_update().filter(pk=journey.pk).first()
        number = (journey.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = JourneyVersion.objects.create(journey=journey, number=number, basis=basis,
                                                map=parsed.model_dump(), note=note,  # type: ignore[union-attr]
                                                created_by_id=actor.user_id, created_at=now)
        version.evidence.set(hypotheses)
        record_audit(actor=actor, action="journey.version_saved", subject_type="journey", subject_id=journey.pk,
                     program_id=journey.program_id, after={"version": number, "basis": basis})
    return version


def set_journey_status(*, actor: Actor, journey: Journey, status: str) -> Journey:
    actor.require(Permission.JOURNEYS_EDIT, journey.program_id)
    if status not in Journey.Status.values:
        raise InvalidInput(_("Choose draft, in use or archived."), field="status")
    with transaction.atomic():
        before = journey.status
        journey.status = status
        journey.save(update_fields=["status"])
        record_audit(actor=actor, action="journey.status_changed", subject_type="journey", subject_id=journey.pk,
                     program_id=journey.program_id, before={"status": before}, after={"status": status})
    return journey


def link_journeys(*, actor: Actor, source: Journey, target: Journey, relation: str) -> JourneyLink:
    actor.require(Permission.JOURNEYS_EDIT, source.program_id)
    problems: list[ErrorDetail] = []
    if target.program_id != source.program_id:
        problems.append(ErrorDetail(_("Link journeys of the same program."), field="target"))
    elif target.pk == source.pk:
        problems.append(ErrorDetail(_("A journey is not linked to itself."), field="target"))
    relation = _text(problems, "relation", relation, 120)
    _fail(problems)
    with transaction.atomic():
        link, _created = JourneyLink.objects.update_or_create(source=source, target=target,
                                                              defaults={"relation": relation})
        record_audit(actor=actor, action="journey.linked", subject_type="journey", subject_id=source.pk,
                     program_id=source.program_id, after={"target": target.pk})
    return link
