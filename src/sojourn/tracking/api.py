"""API: touchpoint events in, a patient's profile (needs with explanations, engagement, stage) out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.renderers import JSONRenderer
from pydantic import Field, WithJsonSchema

from sojourn.core.queries import access_program
from sojourn.people.queries import access_patient
from sojourn.tracking import queries
from sojourn.tracking.event_types import BUILTIN, event_json_schema, sendable_event_json_schema
from sojourn.tracking.services.events import MAX_BATCH, event_types_for, record_events

router = Router(tags=["profiles"])


class NeedOut(Schema):
    code: str
    label: str
    combined: float
    explicit: float | None
    implicit: float
    confidence: float
    sentence: str
    explanation: list[dict[str, Any]]


class ProfileOut(Schema):
    pseudonym: str
    stage: str | None
    stage_since: datetime | None
    engagement: str
    last_meaningful_at: datetime | None
    needs: list[NeedOut]


@router.get("/patients/{pseudonym}/profile", response=ProfileOut,
            summary="Needs with the evidence behind each score, engagement and journey stage")
def patient_profile(request: HttpRequest, pseudonym: str) -> Any:
    patient = access_patient(request.actor, pseudonym)  # type: ignore[attr-defined]
    profile = queries.profile_of(patient)
    return {"pseudonym": patient.pseudonym, "stage": profile.stage.code if profile and profile.stage else None,
            "stage_since": profile.stage_since if profile else None,
            "engagement": profile.engagement if profile else "new",
            "last_meaningful_at": profile.last_meaningful_at if profile else None,
            "needs": queries.needs_of(patient)}


_RENDERER = JSONRenderer()


# The document declares each event precisely (event_types.sendable_event_json_schema, generated from the same
# declarations the service checks against), but the edge parses the list as plain JSON: each event is
# checked once, by record_events, so that a bad one is reported by its index and does not refuse the others.
EVENTS_DESCRIPTION = (
    "Up to 1,000 events, each of one of the types below. An event that does not match its schema does not "
    "refuse the request: it comes back rejected, with its index, the field and why, and the others are kept.")


class EventsIn(Schema):
    events: Annotated[list[Any], WithJsonSchema({
        "type": "array", "maxItems": MAX_BATCH, "items": sendable_event_json_schema(),
        "description": EVENTS_DESCRIPTION})] = Field(..., max_length=MAX_BATCH)


class EventResultOut(Schema):
    index: int
    status: str  # accepted, duplicate, rejected
    id: int | None = None
    field: str | None = None
    message: str | None = None


class EventsOut(Schema):
    accepted: int
    duplicates: int
    rejected: int
    results: list[EventResultOut]


@router.post("/events", response=EventsOut, tags=["events"],
             summary="Record touchpoint events: good ones are kept, each bad one is reported by index")
def post_events(request: HttpRequest, payload: EventsIn) -> Any:
    result = record_events(request.actor, payload.events, source="api")  # type: ignore[attr-defined]
    # Every key of EventResultOut in every result, as the schema would write it; rendered without
    # validating a thousand results we have just built (a twentieth of the request's time).
    results = [{"index": i, "status": "accepted", "id": pk, "field": None, "message": None}
               for i, pk in result.accepted]
    results += [{"index": i, "status": "duplicate", "id": None, "field": None, "message": None}
                for i in result.duplicates]
    results += [{"index": r.index, "status": "rejected", "id": None, "field": r.field or None, "message": r.message}
                for r in result.rejected]
    results.sort(key=lambda r: r["index"])
    body = {"accepted": len(result.accepted), "duplicates": len(result.duplicates), "rejected": len(result.rejected),
            "results": results}
    return HttpResponse(_RENDERER.render(request, body, response_status=200),
                        content_type=f"{_RENDERER.media_type}; charset={_RENDERER.charset}")


class EventTypeOut(Schema):
    code: str
    description: str
    built_in: bool
    meaningful: bool = Field(description="The patient did something: counts towards engagement")
    sendable: bool = Field(description="false: recorded by Sojourn itself, refused through the API")
    event_schema: dict[str, Any] = Field(description="An event of this type as JSON Schema, generated from the "
                                                     "declaration the events are checked against")


@router.get("/programs/{slug}/event-types", response=list[EventTypeOut], tags=["events"],
            summary="The event types of a program, built in and its own, each with the JSON Schema of its events")
def list_event_types(request: HttpRequest, slug: str) -> Any:
    program = access_program(request.actor, slug)  # type: ignore[attr-defined]
    types = event_types_for({program.pk})[program.pk]
    return [{"code": code, "description": spec.description, "built_in": code in BUILTIN,
             "meaningful": spec.meaningful, "sendable": not spec.internal, "event_schema": event_json_schema(spec)}
            for code, spec in sorted(types.items())]
