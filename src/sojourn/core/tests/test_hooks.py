"""The one extension mechanism: what connects, in what order, and what the caller gets back."""

from __future__ import annotations

import pytest

from sojourn.consent import hooks as consent_hooks
from sojourn.core.hooks import Hook
from sojourn.questionnaires.hooks import response_completed
from sojourn.tracking.hooks import events_recorded


def test_effects_run_in_the_order_they_connected_and_are_named_for_the_audit():
    hook: Hook[[list[str]], None] = Hook("test")

    @hook.connect
    def first(seen: list[str]) -> None:
        seen.append("first")

    @hook.connect
    def second(seen: list[str]) -> None:
        seen.append("second")

    seen: list[str] = []
    names = hook.run(seen)
    assert seen == ["first", "second"]
    assert names == [f"{__name__}.{n}" for n in (
        "test_effects_run_in_the_order_they_connected_and_are_named_for_the_audit.<locals>.first",
        "test_effects_run_in_the_order_they_connected_and_are_named_for_the_audit.<locals>.second")]


def test_connecting_the_same_effect_twice_runs_it_once():
    hook: Hook[[list[int]], None] = Hook("test")

    def effect(seen: list[int]) -> None:
        seen.append(1)

    hook.connect(effect)
    hook.connect(effect)
    seen: list[int] = []
    hook.run(seen)
    assert seen == [1]


def test_an_effect_that_raises_stops_the_caller():
    hook: Hook[[], None] = Hook("test")
    ran: list[str] = []

    @hook.connect
    def broken() -> None:
        raise RuntimeError("effect failed")

    @hook.connect
    def later() -> None:
        ran.append("later")

    with pytest.raises(RuntimeError):
        hook.run()
    assert ran == []


def test_results_keep_what_each_effect_returned():
    hook: Hook[[int], int] = Hook("test")
    hook.connect(lambda n: n + 1)
    assert list(hook.results(1).values()) == [2]


def test_every_app_above_connects_its_effects_once_the_apps_are_loaded():
    """Discovery is what makes a withdrawal stop the dialogue: an effect left unconnected fails silently."""
    assert consent_hooks.consent_withdrawn.effects() == [
        "sojourn.consent.subscriptions.narrow_contact_preferences",
        "sojourn.consent.subscriptions.cancel_pending_codes_and_requests",
        "sojourn.tracking.subscriptions.record_withdrawal",
        "sojourn.channels.subscriptions.cancel_messages",
        "sojourn.dialogue.subscriptions.cancel_planned_steps",
    ]
    assert consent_hooks.patient_activated.effects() == ["sojourn.tracking.subscriptions.record_enrollment"]
    assert consent_hooks.patient_erased.effects() == ["sojourn.channels.subscriptions.remove_written_copies"]
    assert consent_hooks.erasure_held.effects() == ["sojourn.safety.subscriptions.open_reports_keep_their_reporter"]
    assert sorted(name.rpartition(".")[2] for name in consent_hooks.patient_export.effects()) == [
        "decisions", "events", "messages", "needs", "questionnaire_responses"]
    assert response_completed.effects() == ["sojourn.tracking.subscriptions.refresh_needs_after_answers",
                                            "sojourn.channels.subscriptions.call_for_urgent_answers"]
    assert [name.rpartition(".")[0] for name in events_recorded.effects()] == ["sojourn.dialogue.subscriptions"]
