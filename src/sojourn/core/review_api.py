"""What the review endpoints of every noun take and answer (see core/review.py and docs/api.md)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

from sojourn.core.review import State, Workflow


class CommentIn(Schema):
    comment: str = Field(max_length=2000, description="What must change (required)")


class ReviewedVersionOut(Schema):
    id: int
    number: int
    status: str = Field(description="The noun's own word for the state (a rule set is live when approved)")
    state: State = Field(description="The review state: draft, in_review, approved or retired")


def reviewed(workflow: Workflow[Any], version: Any) -> dict[str, Any]:
    return {"id": version.pk, "number": workflow.number(version), "status": version.status,
            "state": workflow.state(version)}
