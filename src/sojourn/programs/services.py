"""Program definitions: validated, compared with what the program is, reviewed by a second person and
applied all at once.

A definition adds and changes; it never removes what patients, content or rules may refer to (a
stage, a need, a product, an event type, a market): leaving one out is refused with its path. A
need's questionnaire scales are mapped once the questionnaire is approved in the program, at once
if it is, otherwise when it is (`subscriptions.py`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.content.models import ContentItem
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, ErrorDetail, InvalidInput
from sojourn.core.models import Product, Program, Sponsor
from sojourn.core.packs import PACK_DIR, read_pack_file
from sojourn.core.permissions import Permission
from sojourn.core.review import Step, Workflow, comment_text
from sojourn.core.services.audit import record_audit
from sojourn.core.services.markets import open_market
from sojourn.core.services.programs import (
    define_product,
    describe_program,
    new_program,
    new_sponsor,
    set_definition_parts,
)
from sojourn.core.yaml_documents import DocumentReading
from sojourn.programs.definition import LANGUAGES, ProgramDefinition, read_definition_text
from sojourn.programs.models import DefinitionVersion
from sojourn.questionnaires.models import Questionnaire
from sojourn.tracking.models import EventType, Need, NeedMapping, Stage
from sojourn.tracking.services.events import declare_event_type
from sojourn.tracking.services.taxonomy import define_need, define_stage, map_scale_to_need

WORKFLOW: Workflow[DefinitionVersion] = Workflow(
    model=DefinitionVersion, subject_type="program_definition", edit=Permission.PROGRAM_MANAGE,
    review=Permission.PROGRAM_MANAGE, scope=lambda v: (v.program_id, None), subject_id=lambda v: v.program_id,
    number=lambda v: v.number, authors=lambda v: {v.author_id})

HEADER = ("# Program definition: read by `sojourn program validate | diff | apply`, written by\n"
          "# `sojourn program export`. Each field is described in docs/programs.md.\n")


# ---- reading and writing the file ---------------------------------------------------------------------

def refusal(reading: DocumentReading[ProgramDefinition]) -> InvalidInput:
    first = reading.problems[0]
    return InvalidInput(_("The definition has %(n)d problem(s); nothing was written.") % {"n": len(reading.problems)},
                        field=first.field or None, details=[p.as_detail() for p in reading.problems])


def read(text: str, path: str = "<definition>") -> ProgramDefinition:
    """The definition in `text`, or a refusal naming each problem's line and field."""
    reading = read_definition_text(text, path)
    if not reading.ok or reading.document is None:
        raise refusal(reading)
    return reading.document


def as_document(definition: ProgramDefinition) -> dict[str, Any]:
    """The definition as stored and compared: JSON, defaults left out, and every mapping in one order
    (labels by language, fields and KPIs by name), as PostgreSQL's jsonb keeps none of its own."""
    document = definition.model_dump(mode="json", exclude_defaults=True)
    for part in ("stages", "needs", "content_levels"):
        for item in document.get(part, []):
            item["labels"] = {lang: item["labels"][lang] for lang in LANGUAGES if lang in item["labels"]}
    for event_type in document.get("event_types", []):
        if "fields" in event_type:
            event_type["fields"] = dict(sorted(event_type["fields"].items()))
    if "kpis" in document:
        document["kpis"] = {code: {key: dict(sorted(value.items())) if isinstance(value, dict) else value
                                   for key, value in targets.items()}
                            for code, targets in sorted(document["kpis"].items())}
    return document


def as_yaml(document: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)


def current_version(program: Program) -> DefinitionVersion | None:
    return DefinitionVersion.objects.filter(program=program, status="approved").first()


def export_document(program: Program) -> dict[str, Any]:
    """What the program is, as a definition: `sojourn program export` and the base of every diff."""
    countries = sorted(program.program_markets.values_list("market__country", flat=True))
    mapped: dict[int, list[dict[str, str]]] = {}
    for need_id, url, scale in NeedMapping.objects.filter(need__program=program).order_by("pk").values_list(
            "need_id", "questionnaire_url", "scale"):
        mapped.setdefault(need_id, []).append({"questionnaire": url, "scale": scale})
    # Scales the approved definition names for instruments not approved yet: declared, not yet mapped.
    current = current_version(program)
    waiting = {need["code"]: [m for m in need.get("measured_by", []) if not Questionnaire.objects.filter(
        program=program, url=m["questionnaire"], status="approved").exists()]
        for need in (current.document.get("needs", []) if current else [])}
    raw = {
        "definition_format": 1,
        "program": {"slug": program.slug, "name": program.name, "indication": program.indication},
        "sponsor": {"slug": program.sponsor.slug, "name": program.sponsor.name},
        "markets": countries,
        "products": [{"code": p.code, "name": p.name, "strength": p.strength, "form": p.form, "route": p.route,
                      "atc": p.atc} for p in Product.objects.filter(program=program)],
        "stages": [{"code": s.code, "labels": s.labels} for s in Stage.objects.filter(program=program)
                   .order_by("position", "code")],
        "needs": [{"code": n.code, "labels": n.labels,
                   "measured_by": mapped.get(n.pk, []) + waiting.get(n.code, [])}
                  for n in Need.objects.filter(program=program).order_by("position", "code")],
        "event_types": [{"code": t.code, "description": t.description, "meaningful": t.meaningful,
                         "fields": t.fields} for t in EventType.objects.filter(program=program).order_by("code")],
        "kpis": program.kpi_targets or {},
        "content_levels": program.content_levels or [],
        "safety": program.safety_deadlines or {},
    }
    return as_document(ProgramDefinition.model_validate(raw))


def export_yaml(program: Program) -> str:
    return as_yaml(export_document(program))


# ---- comparing ------------------------------------------------------------------------------------------

def _keyed(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "code" in i for i in value)


def _nested(value: Any) -> bool:
    """A part told field by field when it comes or goes: a mapping, or a list of items with codes."""
    return (isinstance(value, dict) and bool(value)) or _keyed(value)


def _empty(value: Any) -> Any:
    return {} if isinstance(value, dict) else []


def _short(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict | list):
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip()
    else:
        text = json.dumps(value)  # 0.95, true, null
    return text if len(text) <= 80 else text[:77] + "…"


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """What changes from `before` to `after`, one line per change: `+ path: new`, `- path: removed`,
    `~ path: old → new`; items of a list with codes are compared by code, and a new order is told."""
    if (_keyed(before) or _keyed(after)) and isinstance(before, list) and isinstance(after, list):
        old = {i["code"]: {k: v for k, v in i.items() if k != "code"} for i in before}
        new = {i["code"]: {k: v for k, v in i.items() if k != "code"} for i in after}
        lines = []  # an item that comes or goes is one line; one that stays, a line per change
        for code in [*old, *(c for c in new if c not in old)]:
            if code not in new:
                lines.append(f"- {path}.{code}")
            elif code not in old:
                lines.append(f"+ {path}.{code}: {_short(new[code])}")
            else:
                lines.extend(differences(old[code], new[code], f"{path}.{code}"))
        kept = [code for code in old if code in new]
        if kept != [code for code in new if code in old]:
            lines.append(f"~ {path}: order {', '.join(kept)} → {', '.join(c for c in new if c in old)}")
        return lines
    if isinstance(before, dict) and isinstance(after, dict):
        lines: list[str] = []
        for key in [*before, *(k for k in after if k not in before)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in after:
                gone = before[key]
                lines.extend(differences(gone, _empty(gone), where) if _nested(gone)
                             else [f"- {where}: {_short(gone)}"])
            elif key not in before:
                new = after[key]
                lines.extend(differences(_empty(new), new, where) if _nested(new)
                             else [f"+ {where}: {_short(new)}"])
            else:
                lines.extend(differences(before[key], after[key], where))
        return lines
    return [] if before == after else [f"~ {path}: {_short(before)} → {_short(after)}"]


def _removals(program: Program, definition: ProgramDefinition) -> list[ErrorDetail]:
    """What the program has and the definition leaves out: refused, since something may refer to it."""
    problems = []
    listed = {
        "markets": set(definition.markets),
        "products": {p.code for p in definition.products},
        "stages": {s.code for s in definition.stages},
        "needs": {n.code for n in definition.needs},
        "event_types": {t.code for t in definition.event_types},
    }
    present = {
        "markets": set(program.program_markets.values_list("market__country", flat=True)),
        "products": set(Product.objects.filter(program=program).values_list("code", flat=True)),
        "stages": set(Stage.objects.filter(program=program).values_list("code", flat=True)),
        "needs": set(Need.objects.filter(program=program).values_list("code", flat=True)),
        "event_types": set(EventType.objects.filter(program=program).values_list("code", flat=True)),
    }
    for part, codes in present.items():
        for code in sorted(codes - listed[part]):
            problems.append(ErrorDetail(
                _("%(code)s is part of the program and missing here: a definition adds and changes, it does not "
                  "remove what patients, content and rules may refer to.") % {"code": code}, field=part))
    if definition.content_levels:
        # Names may go, numbers stay: content and rules refer to a level by its number.
        named = len(definition.content_levels)
        used = ContentItem.objects.filter(program=program, level__gt=named).order_by("-level").first()
        if used is not None:
            problems.append(ErrorDetail(
                _("Content item %(code)s is at level %(level)d: name every level up to %(level)d.")
                % {"code": used.code, "level": used.level}, field="content_levels"))
    if definition.sponsor.slug != program.sponsor.slug:
        problems.append(ErrorDetail(_("The program belongs to the sponsor %(slug)s.") % {"slug": program.sponsor.slug},
                                    field="sponsor.slug"))
    if definition.program.slug != program.slug:
        problems.append(ErrorDetail(_("This is the definition of %(slug)s, not of this program.")
                                    % {"slug": definition.program.slug}, field="program.slug"))
    return problems


def check_against(program: Program | None, definition: ProgramDefinition) -> None:
    """Refuse, before anything is written, what applying would have to refuse: removals, another
    sponsor, markets without a valid shipped pack."""
    problems = _removals(program, definition) if program is not None else []
    active = set(program.program_markets.values_list("market__country", flat=True)) if program else set()
    for i, country in enumerate(definition.markets):
        if country in active:
            continue
        if not read_pack_file(PACK_DIR / f"{country.lower()}.yaml").ok:
            problems.append(ErrorDetail(
                _("%(country)s has no market pack Sojourn ships: activate the market from its pack first "
                  "(sojourn market activate PACK --program SLUG).") % {"country": country}, field=f"markets[{i}]"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)


def diff(program: Program | None, definition: ProgramDefinition) -> list[str]:
    before = export_document(program) if program is not None else {}
    return differences(before, as_document(definition))


# ---- applying -------------------------------------------------------------------------------------------

def _apply(actor: Actor, program: Program, definition: ProgramDefinition) -> None:
    """Write the definition into the program, inside the caller's transaction."""
    describe_program(actor=actor, program=program, name=definition.program.name,
                     indication=definition.program.indication)
    active = set(program.program_markets.values_list("market__country", flat=True))
    for country in definition.markets:
        if country not in active:
            actor.require(Permission.MARKET_ACTIVATE, program.pk)
            open_market(actor=actor, reading=read_pack_file(PACK_DIR / f"{country.lower()}.yaml"), program=program)
    for position, product in enumerate(definition.products):
        define_product(actor=actor, program=program, code=product.code, position=position,
                       **product.model_dump(exclude={"code"}))
    for position, stage in enumerate(definition.stages):
        define_stage(actor=actor, program=program, code=stage.code, labels=stage.labels, position=position)
    for position, need_part in enumerate(definition.needs):
        need = define_need(actor=actor, program=program, code=need_part.code, labels=need_part.labels,
                           position=position)
        wanted = {(m.questionnaire, m.scale) for m in need_part.measured_by}
        for mapping in NeedMapping.objects.filter(need=need):
            if (mapping.questionnaire_url, mapping.scale) not in wanted:
                mapping.delete()
                record_audit(actor=actor, action="need.unmapped", subject_type="need", subject_id=need.pk,
                             program_id=program.pk, before={"questionnaire": mapping.questionnaire_url,
                                                            "scale": mapping.scale})
        for j, measured in enumerate(need_part.measured_by):
            questionnaire = Questionnaire.objects.filter(program=program, url=measured.questionnaire,
                                                         status="approved").first()
            if questionnaire is not None:
                try:
                    map_scale_to_need(actor=actor, need=need, questionnaire=questionnaire, scale=measured.scale)
                except InvalidInput as exc:
                    raise InvalidInput(exc.message, field=f"needs[{position}].measured_by[{j}].scale") from exc
    for event_type in definition.event_types:
        declare_event_type(actor=actor, program=program, code=event_type.code, meaningful=event_type.meaningful,
                           description=event_type.description,
                           fields={n: f.model_dump() for n, f in event_type.fields.items()})
    document = as_document(definition)
    set_definition_parts(actor=actor, program=program, kpi_targets=document.get("kpis", {}),
                         content_levels=document.get("content_levels", []),
                         safety_deadlines=document.get("safety", {}))


def _approve_in(actor: Actor, version: DefinitionVersion, definition: ProgramDefinition) -> DefinitionVersion:
    """Retire the approved version, approve this one and apply it (inside the caller's transaction)."""
    now = timezone.now()
    previous = DefinitionVersion.objects.select_for_update().filter(program=version.program,
                                                                    status="approved").first()
    if previous is not None:
        WORKFLOW.move(actor, previous, Step.RETIRE, after={"replaced_by": version.number}, retired_at=now)
    _apply(actor, version.program, definition)
    return WORKFLOW.move(actor, version, Step.APPROVE, after={"sha256": version.sha256}, approved_at=now,
                         reviewer_id=actor.user_id)


def apply_definition(*, actor: Actor, text: str, path: str = "<definition>") -> DefinitionVersion:
    """The operator's way (`sojourn program apply`): read, check, and apply the definition at once,
    creating the sponsor and program if they do not exist. Only the platform itself (the command
    line) may: people draft, submit and approve (four eyes)."""
    if not actor.is_privileged:
        raise AccessDenied()
    definition = read(text, path)
    program = Program.objects.filter(slug=definition.program.slug).select_related("sponsor").first()
    check_against(program, definition)
    document = as_document(definition)
    with transaction.atomic(durable=True):
        if program is None:
            sponsor = Sponsor.objects.filter(slug=definition.sponsor.slug).first() or new_sponsor(
                actor=actor, slug=definition.sponsor.slug, name=definition.sponsor.name)
            program = new_program(actor=actor, sponsor=sponsor, slug=definition.program.slug,
                                  name=definition.program.name, indication=definition.program.indication)
        current = current_version(program)
        if current is not None and current.document == document and export_document(program) == document:
            return current  # applied already: nothing changes, nothing is recorded
        version = DefinitionVersion.objects.create(
            program=program, number=_next_number(program), status="in_review", text=text, document=document,
            sha256=_sha(text), created_at=timezone.now(), submitted_at=timezone.now())
        record_audit(actor=actor, action="program_definition.applied", subject_type="program_definition",
                     subject_id=program.pk, program_id=program.pk, after={"version": version.number,
                                                                           "sha256": version.sha256})
        return _approve_in(actor, version, definition)


def _next_number(program: Program) -> int:
    last = DefinitionVersion.objects.filter(program=program).order_by("-number").first()
    return last.number + 1 if last else 1


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- the review -----------------------------------------------------------------------------------------

def save_draft(*, actor: Actor, program: Program, text: str) -> DefinitionVersion:
    """Create or replace the program's draft definition; refused with every problem if it would not apply."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    definition = read(text)
    check_against(program, definition)
    with transaction.atomic(durable=True):
        Program.objects.select_for_update().get(pk=program.pk)
        draft = DefinitionVersion.objects.filter(program=program, status="draft").first()
        if draft is None:
            draft = DefinitionVersion(program=program, number=_next_number(program), created_at=timezone.now())
        draft.text, draft.document, draft.sha256 = text, as_document(definition), _sha(text)
        draft.author_id = actor.user_id
        draft.save()
        record_audit(actor=actor, action="program_definition.draft_saved", subject_type="program_definition",
                     subject_id=program.pk, program_id=program.pk,
                     after={"version": draft.number, "sha256": draft.sha256})
    return draft


def submit(*, actor: Actor, version: DefinitionVersion) -> DefinitionVersion:
    WORKFLOW.check(actor, version, Step.SUBMIT)
    check_against(version.program, read(version.text))  # the program may have changed since the draft
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, version, Step.SUBMIT, after={"sha256": version.sha256},
                             submitted_at=timezone.now())


def return_to_draft(*, actor: Actor, version: DefinitionVersion, comment: str) -> DefinitionVersion:
    WORKFLOW.check(actor, version, Step.RETURN, comment=comment)
    with transaction.atomic(durable=True):
        if DefinitionVersion.objects.filter(program=version.program, status="draft").exists():
            raise Conflict(_("There is already a draft of this definition."), field="status")
        return WORKFLOW.move(actor, version, Step.RETURN, after={"comment": comment_text(comment)},
                             review_comment=comment_text(comment))


def approve(*, actor: Actor, version: DefinitionVersion) -> DefinitionVersion:
    """Four eyes: whoever wrote the version does not approve it. Approving applies it."""
    WORKFLOW.check(actor, version, Step.APPROVE)
    definition = read(version.text)
    check_against(version.program, definition)
    with transaction.atomic(durable=True):
        locked = DefinitionVersion.objects.select_for_update().get(pk=version.pk)
        if locked.sha256 != _sha(locked.text):
            raise Conflict(_("The definition changed after submission."), field="text")
        return _approve_in(actor, locked, definition)
