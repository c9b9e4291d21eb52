"""`questionnaire completed`: apps above questionnaires (tracking, dialogue) react in the same transaction."""

from __future__ import annotations

from sojourn.core.hooks import Hook
from sojourn.questionnaires.models import QuestionnaireResponse

response_completed: Hook[[QuestionnaireResponse], None] = Hook("questionnaire response completed")
