"""Apps above questionnaires react in the same transaction: to a completed response (tracking,
dialogue), and to an approved instrument (programs: the needs its definition says it measures)."""

from __future__ import annotations

from sojourn.core.hooks import Hook
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse

response_completed: Hook[[QuestionnaireResponse], None] = Hook("questionnaire response completed")
questionnaire_approved: Hook[[Questionnaire], None] = Hook("questionnaire approved")
