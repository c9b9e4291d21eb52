"""What tracking does when other parts of the platform report something."""

from __future__ import annotations

from sojourn.questionnaires.hooks import on_response_completed
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.tracking.services.profiles import refresh_profile


@on_response_completed
def refresh_needs_after_answers(response: QuestionnaireResponse) -> None:
    refresh_profile(response.patient, response.completed_at)
