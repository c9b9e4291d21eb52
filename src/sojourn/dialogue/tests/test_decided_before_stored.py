"""Rules meet a batch before it is stored (tracking/services/ingestion.py): what another batch decided
about the same patient in between (a capped text, a flag) is seen when this one is written, even when
neither event changed the patient's profile."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.dialogue.models import Decision, DialogueState
from sojourn.dialogue.tests.factories import DAY, SYSTEM, live_rules, rule
from sojourn.tracking.models import Event
from sojourn.tracking.services.events import record_events
from sojourn.tracking.tests.helpers import applied, prepared


def delivered(patient, client_id: str):
    """A text-message delivery report: not something the patient did, so their profile is not written."""
    return {"client_id": client_id, "type": "sms.delivered", "patient": patient.pseudonym,
            "occurred_at": DAY.isoformat(), "data": {"message": client_id}}


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    time_machine.move_to(DAY, tick=False)  # texts are not sent in quiet hours


def test_a_capped_text_queued_by_a_batch_in_between_counts_against_the_cap(program_needs, active_patient):
    live_rules(program_needs, [rule("thanks", {"events": ["sms.delivered"]},
                                    [{"do": "send", "channel": "sms", "content": "thanks-1"}],
                                    caps={"sms": {"day": 1}})])
    result, plan = prepared([delivered(active_patient, "mine")], now=timezone.now())
    record_events(SYSTEM, [delivered(active_patient, "theirs")], source="test")  # queues the day's one text
    applied(result, plan)
    assert OutboxMessage.objects.filter(patient=active_patient, channel="sms").count() == 1
    mine = Decision.objects.get(event_id=Event.objects.get(client_id="mine").pk)
    assert mine.outcomes[0]["result"] == "skipped" and "cap" in mine.outcomes[0]["reason"]


def test_a_flag_set_by_a_batch_in_between_is_seen(program_needs, active_patient):
    live_rules(program_needs, [
        rule("note", {"events": ["sms.delivered"]}, [{"do": "set_flag", "flag": "texted"}],
             condition="!('texted' in patient.flags)"),
        rule("level", {"events": ["sms.delivered"]}, [{"do": "unlock_level", "level": 2}]),
    ])
    record_events(SYSTEM, [delivered(active_patient, "earlier")], source="test")  # the patient's state row
    DialogueState.objects.filter(patient=active_patient).update(flags=[], content_level=1)
    result, plan = prepared([delivered(active_patient, "mine")], now=timezone.now())
    record_events(SYSTEM, [delivered(active_patient, "theirs")], source="test")
    applied(result, plan)
    state = DialogueState.objects.get(patient=active_patient)
    assert state.flags == ["texted"] and state.content_level == 2
    # The flag was set by the other batch, so this one's condition no longer held (decided on what was
    # read before, it would have set the flag again: a decision that changed something, kept); the
    # level was unlocked already, a decision that changed nothing, not kept.
    assert not Decision.objects.filter(event_id=Event.objects.get(client_id="mine").pk).exists()
