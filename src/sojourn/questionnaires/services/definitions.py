"""Import, review, retire and export questionnaires. A version is answered only once a content
reviewer other than the importer approved it; approved versions never change."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput, NotFound
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.review import Step, Workflow, comment_text
from sojourn.core.services.audit import record_audit
from sojourn.questionnaires.answers import calculated_answers, initial_answers
from sojourn.questionnaires.definition import (
    SCORING,
    Definition,
    load_json,
    read_bundle,
    read_questionnaire,
    value_set_references,
    within,
)
from sojourn.questionnaires.hooks import questionnaire_approved
from sojourn.questionnaires.models import Questionnaire
from sojourn.questionnaires.scoring import require_valid_scoring
from sojourn.questionnaires.services.value_sets import (
    index_value_sets,
    program_value_sets,
    store_value_set,
    unsaved_value_set,
)

# How our review status reads in FHIR's Questionnaire.status.
FHIR_STATUS = {"draft": "draft", "in_review": "draft", "approved": "active", "retired": "retired"}


def _digest(resource: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(resource, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _require_scoring_outside_repeating_groups(definition: Definition, scoring: dict[str, Any]) -> None:
    """Scales and flags read one answer per item: refuse those naming an item answered once per group instance."""
    inside = definition.in_repeating_group()
    named = [link_id for scale in scoring.get("scales") or [] for link_id in scale.get("items") or []]
    named += [condition.get("item") for flag in scoring.get("flags") or [] for condition in flag.get("when") or []]
    problems = [ErrorDetail(_("%(item)s is inside a repeating group, answered once per instance: scales and "
                              "flags cannot read it.") % {"item": link_id}, field=f"item[{link_id}]")
                for link_id in dict.fromkeys(named) if link_id in inside]
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)


def import_questionnaire(*, actor: Actor, program: Program, resource: str | bytes | dict[str, Any],
                         scoring: dict[str, Any] | None = None) -> Questionnaire:
    """Read FHIR JSON into a new draft version of its instrument (by canonical URL).

    The JSON is a Questionnaire, or a Bundle of a Questionnaire and the ValueSets it names, all imported
    or none. answerValueSet resolves to a contained value set first, then to the program's imported ones."""
    actor.require(Permission.CONTENT_EDIT, program.pk)
    data = load_json(resource)
    bundled: list[dict[str, Any]] = []
    entry: int | None = None
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        data, bundled, entry = read_bundle(data)
    known = program_value_sets(program, value_set_references(data) if isinstance(data, dict) else set())
    saved = {(row.url, row.version, row.sha256) for row in known}
    coming = [row for row in (unsaved_value_set(program, v) for v in bundled)
              if (row.url, row.version, row.sha256) not in saved]
    lookup = {key: row.resource for key, row in index_value_sets([*known, *coming]).items()}
    try:
        data, definition = read_questionnaire(data, lookup)
    except InvalidInput as error:
        raise (within(f"entry[{entry}].resource", error) if entry is not None else error) from None
    # Work the expressions out once on an empty response: one that cannot run is refused now, by item,
    # rather than met by a patient.
    calculated_answers(definition, {})
    initial_answers(definition, {})
    declared = scoring if scoring is not None else definition.scoring
    require_valid_scoring(definition, declared)
    _require_scoring_outside_repeating_groups(definition, declared)
    url = definition.url or f"urn:sojourn:questionnaire:{data.get('name') or _digest(data)[:12]}"
    # The slug the portal's addresses use: the last part of the canonical URL (…/phq-9 → phq-9).
    name = slugify(url.rsplit(":", 1)[-1].rsplit("/", 1)[-1]) or slugify(str(data.get("name", ""))) or "questionnaire"
    with transaction.atomic(durable=True):
        stored = [store_value_set(actor=actor, program=program, data=value_set) for value_set in bundled]
        resolved = index_value_sets([*known, *stored])
        latest = (Questionnaire.objects.select_for_update().filter(program=program, url=url)
                  .aggregate(n=Max("version"))["n"] or 0)
        questionnaire = Questionnaire.objects.create(
            program=program, url=url, version=latest + 1, name=name,
            title=(definition.title or name)[:300], resource=data, scoring=declared,
            languages=sorted(definition.languages()), sha256=_digest(data), created_by_id=actor.user_id)
        pinned = {resolved[reference] for reference in definition.value_sets}
        questionnaire.value_sets.set(pinned)
        record_audit(actor=actor, action="questionnaire.imported", subject_type="questionnaire",
                     subject_id=questionnaire.pk, program_id=program.pk,
                     after={"url": url, "version": questionnaire.version, "items": len(definition.questions()),
                            "value_sets": sorted(str(v) for v in pinned)})
        return questionnaire


def access_questionnaire(actor: Actor, questionnaire_id: int, permission: Permission = Permission.PROGRAM_VIEW
                         ) -> Questionnaire:
    found = Questionnaire.objects.select_related("program").filter(pk=questionnaire_id).first()
    if found is None or not actor.can(permission, found.program_id):
        raise NotFound()
    return found


WORKFLOW: Workflow[Questionnaire] = Workflow(
    model=Questionnaire, subject_type="questionnaire", edit=Permission.CONTENT_EDIT, review=Permission.CONTENT_REVIEW,
    scope=lambda q: (q.program_id, None), subject_id=lambda q: q.pk, number=lambda q: q.version,
    authors=lambda q: {q.created_by_id})


def submit_questionnaire(*, actor: Actor, questionnaire: Questionnaire) -> Questionnaire:
    WORKFLOW.check(actor, questionnaire, Step.SUBMIT)
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, questionnaire, Step.SUBMIT, submitted_at=timezone.now())


def approve_questionnaire(*, actor: Actor, questionnaire: Questionnaire) -> Questionnaire:
    """Approve (four eyes) and retire the version it replaces."""
    WORKFLOW.check(actor, questionnaire, Step.APPROVE)
    now = timezone.now()
    with transaction.atomic(durable=True):
        for older in Questionnaire.objects.select_for_update().filter(
                program_id=questionnaire.program_id, url=questionnaire.url, status="approved").exclude(
                pk=questionnaire.pk):
            WORKFLOW.move(actor, older, Step.RETIRE, after={"replaced_by": questionnaire.version}, retired_at=now)
        approved = WORKFLOW.move(actor, questionnaire, Step.APPROVE, approved_by_id=actor.user_id, approved_at=now)
        questionnaire_approved.run(approved)
        return approved


def return_questionnaire(*, actor: Actor, questionnaire: Questionnaire, comment: str) -> Questionnaire:
    WORKFLOW.check(actor, questionnaire, Step.RETURN, comment=comment)
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, questionnaire, Step.RETURN, after={"comment": comment_text(comment)})


def retire_questionnaire(*, actor: Actor, questionnaire: Questionnaire) -> Questionnaire:
    WORKFLOW.check(actor, questionnaire, Step.RETIRE)
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, questionnaire, Step.RETIRE, retired_at=timezone.now())


def _loads_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def export_questionnaire(questionnaire: Questionnaire) -> dict[str, Any]:
    """The FHIR JSON as imported, with our version, status and scoring declaration."""
    resource = json.loads(json.dumps(questionnaire.resource))
    resource["version"] = str(questionnaire.version)
    resource["status"] = FHIR_STATUS[questionnaire.status]
    resource["url"] = questionnaire.url
    others = [e for e in resource.get("extension", []) if e.get("url") != SCORING]
    if questionnaire.scoring:
        # Keep the imported text when it says the same (PostgreSQL's jsonb reorders the keys we store).
        imported = next((e.get("valueString") for e in resource.get("extension", []) if e.get("url") == SCORING), None)
        same = imported is not None and _loads_or_none(imported) == questionnaire.scoring
        others.append({"url": SCORING, "valueString": imported if same else
                       json.dumps(questionnaire.scoring, ensure_ascii=False)})
    if others:
        resource["extension"] = others
    else:
        resource.pop("extension", None)
    return resource


_definitions: dict[tuple[int, str], Definition] = {}


def definition(questionnaire: Questionnaire) -> Definition:
    """The parsed definition, read once per version and process (approved versions never change)."""
    key = (questionnaire.pk, questionnaire.sha256)
    if key not in _definitions:
        # The imported value sets it was resolved against at import, never a newer version since.
        pinned = (index_value_sets(questionnaire.value_sets.all())
                  if value_set_references(questionnaire.resource) else {})
        _definitions[key] = read_questionnaire(questionnaire.resource, {k: v.resource for k, v in pinned.items()})[1]
    return _definitions[key]


def definition_of(questionnaire_id: int, sha256: str) -> Definition:
    """The same, from a read that did not build the Questionnaire (its resource is read only the first
    time in the process)."""
    found = _definitions.get((questionnaire_id, sha256))
    if found is not None:
        return found
    return definition(Questionnaire.objects.only("id", "sha256", "resource").get(pk=questionnaire_id))


def approved_questionnaire(program: Program, name: str) -> Questionnaire | None:
    return Questionnaire.objects.filter(program=program, name=name, status="approved").first()
