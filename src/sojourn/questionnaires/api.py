"""API: import and export FHIR questionnaires, review them, and submit and read responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sojourn.consent.purposes import require_export_purposes
from sojourn.core.actors import Actor
from sojourn.core.errors import NotFound
from sojourn.core.permissions import Permission
from sojourn.core.queries import access_program
from sojourn.core.review import State
from sojourn.core.review_api import CommentIn
from sojourn.people import queries as people_queries
from sojourn.questionnaires.definition import expand_value_set
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse, ValueSet
from sojourn.questionnaires.services.definitions import (
    WORKFLOW,
    access_questionnaire,
    approve_questionnaire,
    export_questionnaire,
    import_questionnaire,
    retire_questionnaire,
    return_questionnaire,
    submit_questionnaire,
)
from sojourn.questionnaires.services.response_imports import import_responses, score_extensions
from sojourn.questionnaires.services.responses import save_response
from sojourn.questionnaires.services.value_sets import import_value_set

router = Router(tags=["questionnaires"])


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class ImportIn(Schema):
    resource: dict[str, Any] = Field(description="A FHIR R4 Questionnaire, or a Bundle (collection or transaction) "
                                                 "of a Questionnaire and the ValueSets it names")
    scoring: dict[str, Any] | None = Field(default=None, description="Scales, reverse items, bands (optional)")


class QuestionnaireOut(Schema):
    id: int
    url: str
    version: int
    name: str
    title: str
    status: str
    state: State = Field(description="The review state: draft, in_review, approved or retired")
    languages: list[str]
    approved_at: datetime | None

    @staticmethod
    def resolve_state(questionnaire: Questionnaire) -> State:
        return WORKFLOW.state(questionnaire)


class ValueSetIn(Schema):
    resource: dict[str, Any] = Field(description="A FHIR R4 ValueSet with its url, and its expansion or the "
                                                 "concepts it lists (no filters: Sojourn has no terminology server)")


class ValueSetOut(Schema):
    id: int
    url: str
    version: str
    title: str
    codes: int = Field(description="How many codes a question drawing on it offers")
    sha256: str
    imported_at: datetime

    @staticmethod
    def resolve_title(value_set: ValueSet) -> str:
        return str(value_set.resource.get("title") or value_set.resource.get("name") or "")

    @staticmethod
    def resolve_codes(value_set: ValueSet) -> int:
        return len(expand_value_set(value_set.resource))


class ListQuery(Schema):
    status: Literal["draft", "in_review", "approved", "retired"] | None = None


class ResponseIn(Schema):
    questionnaire_id: int = Field(ge=1)
    status: Literal["in-progress", "completed"] = "completed"
    item: list[dict[str, Any]] = Field(default_factory=list, max_length=500,
                                       description="FHIR QuestionnaireResponse.item")
    source: Literal["api", "nurse"] = "api"


class ScoreOut(Schema):
    scale: str
    value: float | None
    band: str
    answered: int
    missing: int
    reason: str


class ResponseOut(Schema):
    id: int
    questionnaire_id: int
    questionnaire: str = Field(validation_alias="questionnaire.name")
    version: int = Field(validation_alias="questionnaire.version")
    status: str
    source: str
    scores: list[ScoreOut]
    flags: list[str] = Field(description="The clinical flags the answers raise (e.g. phq2_positive); an urgent "
                                         "one (self_harm_thoughts) also puts a task in the nurse queue at once")
    started_at: datetime
    completed_at: datetime | None


@router.post("/programs/{slug}/questionnaires", response={201: QuestionnaireOut},
             summary="Import a FHIR Questionnaire as a new draft version (unsupported features named by linkId)")
def import_fhir(request: HttpRequest, slug: str, payload: ImportIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    return Status(201, import_questionnaire(actor=actor, program=program, resource=payload.resource,
                                            scoring=payload.scoring))


@router.get("/programs/{slug}/questionnaires", response=list[QuestionnaireOut], summary="Questionnaire versions")
def list_questionnaires(request: HttpRequest, slug: str, query: Query[ListQuery]) -> Any:
    program = access_program(_actor(request), slug)
    found = Questionnaire.objects.filter(program=program)
    return list(found.filter(status=query.status) if query.status else found)


@router.post("/programs/{slug}/value-sets", response={201: ValueSetOut},
             summary="Import a FHIR ValueSet for answerValueSet (the same url, version and content again: "
                     "nothing changes)")
def import_value_set_fhir(request: HttpRequest, slug: str, payload: ValueSetIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    return Status(201, import_value_set(actor=actor, program=program, resource=payload.resource))


@router.get("/programs/{slug}/value-sets", response=list[ValueSetOut], summary="The program's imported value sets")
def list_value_sets(request: HttpRequest, slug: str) -> Any:
    program = access_program(_actor(request), slug)
    return list(ValueSet.objects.filter(program=program).order_by("url", "version"))


@router.get("/questionnaires/{questionnaire_id}/fhir", response=dict[str, Any],
            summary="Export a questionnaire version as FHIR R4 JSON")
def export_fhir(request: HttpRequest, questionnaire_id: int) -> Any:
    return export_questionnaire(access_questionnaire(_actor(request), questionnaire_id))


@router.post("/questionnaires/{questionnaire_id}/submission", response=QuestionnaireOut,
             summary="Submit a draft for review")
def submit(request: HttpRequest, questionnaire_id: int) -> Any:
    actor = _actor(request)
    return submit_questionnaire(actor=actor, questionnaire=access_questionnaire(actor, questionnaire_id))


@router.post("/questionnaires/{questionnaire_id}/approval", response=QuestionnaireOut,
             summary="Approve a version in review (not by its importer); the previous version retires")
def approve(request: HttpRequest, questionnaire_id: int) -> Any:
    actor = _actor(request)
    return approve_questionnaire(actor=actor, questionnaire=access_questionnaire(actor, questionnaire_id))


@router.post("/questionnaires/{questionnaire_id}/return", response=QuestionnaireOut,
             summary="Return a version in review to its author with a comment")
def send_back(request: HttpRequest, questionnaire_id: int, payload: CommentIn) -> Any:
    actor = _actor(request)
    return return_questionnaire(actor=actor, questionnaire=access_questionnaire(actor, questionnaire_id),
                                comment=payload.comment)


@router.post("/questionnaires/{questionnaire_id}/retirement", response=QuestionnaireOut,
             summary="Retire an approved version: it is no longer answered")
def retire(request: HttpRequest, questionnaire_id: int) -> Any:
    actor = _actor(request)
    return retire_questionnaire(actor=actor, questionnaire=access_questionnaire(actor, questionnaire_id))


@router.post("/patients/{pseudonym}/questionnaire-responses", response={201: ResponseOut},
             summary="Save answers (in progress) or complete a response, which scores it")
def submit_response(request: HttpRequest, pseudonym: str, payload: ResponseIn) -> Any:
    actor = _actor(request)
    patient = people_queries.access_patient(actor, pseudonym, Permission.PATIENT_MANAGE)
    questionnaire = Questionnaire.objects.filter(pk=payload.questionnaire_id, program_id=patient.program_id).first()
    if questionnaire is None:
        raise NotFound(field="questionnaire_id")
    response = save_response(actor=actor, patient=patient, questionnaire=questionnaire, items=payload.item,
                             source=payload.source, complete=payload.status == "completed")
    return Status(201, response)


class ResponsesIn(Schema):
    resource: dict[str, Any] = Field(description="A FHIR R4 QuestionnaireResponse, or a Bundle of them")


class MismatchOut(Schema):
    entry: str = Field(description="entry[n] of the Bundle; empty for a single response")
    what: str = Field(description="item[linkId] (a calculated answer) or scale[id] (a score the response carried)")
    stored: str
    recomputed: str


class ResponseImportOut(Schema):
    imported: int
    already: int = Field(description="Responses imported before: unchanged")
    mismatches: list[MismatchOut] = Field(description="Scores the file carried that differ from Sojourn's: "
                                                      "Sojourn's are kept")
    responses: list[int]


@router.post("/programs/{slug}/questionnaire-responses", response={201: ResponseImportOut},
             summary="Import FHIR QuestionnaireResponses answered elsewhere (one, or a Bundle): each matched to a "
                     "patient by pseudonym, checked against its questionnaire and scored here; all or nothing")
def import_fhir_responses(request: HttpRequest, slug: str, payload: ResponsesIn) -> Any:
    actor = _actor(request)
    program = access_program(actor, slug)
    result = import_responses(actor=actor, program=program, resource=payload.resource)
    return Status(201, {"imported": len(result.imported), "already": result.already,
                        "mismatches": [m.as_dict() for m in result.mismatches], "responses": result.imported})


@router.get("/patients/{pseudonym}/questionnaire-responses", response=list[ResponseOut],
            summary="The patient's responses with their scores, newest first")
def list_responses(request: HttpRequest, pseudonym: str) -> Any:
    patient = people_queries.access_patient(_actor(request), pseudonym)
    return list(QuestionnaireResponse.objects.filter(patient=patient).select_related("questionnaire")
                .order_by("-started_at")[:500])


@router.get("/questionnaire-responses/{response_id}/fhir", response=dict[str, Any],
            summary="One response as a FHIR R4 QuestionnaireResponse (the subject by pseudonym)")
def response_fhir(request: HttpRequest, response_id: int) -> Any:
    found = (QuestionnaireResponse.objects.select_related("questionnaire", "patient__market")
             .filter(pk=response_id).first())
    if found is None:
        raise NotFound()
    people_queries.access_patient(_actor(request), found.patient.pseudonym)
    require_export_purposes("api-v1:response_fhir", found.patient)
    return {"resourceType": "QuestionnaireResponse", "id": str(found.pk),
            "questionnaire": f"{found.questionnaire.url}|{found.questionnaire.version}", "status": found.status,
            "subject": {"identifier": {"system": "urn:sojourn:pseudonym", "value": found.patient.pseudonym}},
            "authored": (found.completed_at or found.updated_at).isoformat(), "item": found.items,
            **({"extension": score_extensions(found.scores)} if found.scores else {})}
