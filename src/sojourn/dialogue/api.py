"""API: move a rule set version through review (submit, approve to put it live, return, retire)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from sojourn.core.actors import Actor
from sojourn.core.review_api import CommentIn, ReviewedVersionOut, reviewed
from sojourn.dialogue.services.rulesets import WORKFLOW, approve, retire, return_to_draft, submit_for_review

router = Router(tags=["rules"])


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


@router.post("/rule-set-versions/{version_id}/submission", response=ReviewedVersionOut,
             summary="Submit a draft for review (its rules are checked again)")
def submit(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, submit_for_review(actor=actor, version=WORKFLOW.access(actor, version_id)))


@router.post("/rule-set-versions/{version_id}/approval", response=ReviewedVersionOut,
             summary="Approve a version in review (not by its author): it goes live and the live one retires")
def approval(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, approve(actor=actor, version=WORKFLOW.access(actor, version_id)))


@router.post("/rule-set-versions/{version_id}/return", response=ReviewedVersionOut,
             summary="Return a version in review to its author with a comment")
def send_back(request: HttpRequest, version_id: int, payload: CommentIn) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, return_to_draft(actor=actor, version=WORKFLOW.access(actor, version_id),
                                              comment=payload.comment))


@router.post("/rule-set-versions/{version_id}/retirement", response=ReviewedVersionOut,
             summary="Retire the live version: nothing fires any more and its planned steps are cancelled")
def retirement(request: HttpRequest, version_id: int) -> Any:
    actor = _actor(request)
    return reviewed(WORKFLOW, retire(actor=actor, version=WORKFLOW.access(actor, version_id)))
