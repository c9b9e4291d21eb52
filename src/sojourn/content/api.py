"""API: move a content version through review (submit, approve with the job code, return, withdraw)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from sojourn.content.services.review import WORKFLOW, approve, return_to_author, submit_for_review, withdraw
from sojourn.core.actors import Actor
from sojourn.core.review_api import CommentIn, ReviewedVersionOut, reviewed

router = Router(tags=["content"])


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class ApprovalIn(Schema):
    approval_code: str = Field(max_length=60, description="The MLR job code printed on the material")
    expires_on: date = Field(description="The last day the version may be used (at most three years ahead)")


class ReasonIn(Schema):
    reason: str = Field(max_length=300, description="Why it is withdrawn (required)")


@router.post("/content-versions/{version_id}/submission", response=ReviewedVersionOut,
             summary="Submit a draft for review")
def submit(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, submit_for_review(actor=actor, version=WORKFLOW.access(actor, version_id)))


@router.post("/content-versions/{version_id}/approval", response=ReviewedVersionOut,
             summary="Approve a version in review (not by whoever wrote or submitted it); the previous one is "
                     "superseded")
def approval(request: HttpRequest, version_id: int, payload: ApprovalIn) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, approve(actor=actor, version=WORKFLOW.access(actor, version_id),
                                      approval_code=payload.approval_code, expires_on=payload.expires_on))


@router.post("/content-versions/{version_id}/return", response=ReviewedVersionOut,
             summary="Return a version in review to its author with a comment")
def send_back(request: HttpRequest, version_id: int, payload: CommentIn) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, return_to_author(actor=actor, version=WORKFLOW.access(actor, version_id),
                                               text=payload.comment))


@router.post("/content-versions/{version_id}/retirement", response=ReviewedVersionOut,
             summary="Withdraw a version (an approved one at once, or abandon a draft): it reaches no patient")
def retirement(request: HttpRequest, version_id: int, payload: ReasonIn) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, withdraw(actor=actor, version=WORKFLOW.access(actor, version_id),
                                       reason=payload.reason))
