"""`questionnaire completed`: apps above questionnaires (tracking, dialogue) react in the same transaction."""

from __future__ import annotations

from collections.abc import Callable

from sojourn.questionnaires.models import QuestionnaireResponse

CompletionEffect = Callable[[QuestionnaireResponse], None]
_effects: dict[str, CompletionEffect] = {}


def on_response_completed(effect: CompletionEffect) -> CompletionEffect:
    _effects[f"{effect.__module__}.{effect.__qualname__}"] = effect
    return effect


def run_completion_effects(response: QuestionnaireResponse) -> list[str]:
    for effect in _effects.values():
        effect(response)
    return list(_effects)
