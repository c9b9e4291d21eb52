"""API: a patient's profile (needs with explanations, engagement, stage)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from sojourn.people.queries import access_patient
from sojourn.tracking import queries

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
