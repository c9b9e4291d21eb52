"""Two senders at once about the same patient, as two web workers on PostgreSQL serve them: each batch
sees what the other wrote, so counters add up and a cap of one text a day sends one text a day.

On SQLite one transaction writes at a time (the write lock is taken when it begins), so this cannot
happen there; the test database of the SQLite leg is in memory, which other connections cannot open.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection

from sojourn.channels.adapters import RECORDING
from sojourn.channels.models import OutboxMessage
from sojourn.dialogue.models import Decision
from sojourn.dialogue.tests.factories import DAY, SYSTEM, live_rules, rule, viewed
from sojourn.tracking.models import PatientNeed, PatientProfile
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.profiles import refresh_profile

pytestmark = [
    pytest.mark.skipif(os.environ.get("SOJOURN_DATABASE_URL", "").split(":")[0] not in {"postgres", "postgresql"},
                       reason="two connections writing at once need a database they can both open: "
                              "runs on the PostgreSQL leg"),
    pytest.mark.django_db(transaction=True),
]
SENDERS = 2
ROUNDS = 12


@pytest.fixture(autouse=True)
def _recording_channels(settings):
    settings.SOJOURN_CHANNEL_ADAPTERS = {"email": RECORDING, "sms": RECORDING}


def _at_once(work) -> list[BaseException]:
    """Run work(sender) in SENDERS threads released together; each thread has its own connection."""
    start = threading.Barrier(SENDERS)
    errors: list[BaseException] = []

    def run(sender: int) -> None:
        try:
            start.wait(timeout=30)
            work(sender)
        except BaseException as error:  # reported by the test, whatever it is
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_senders_at_once_keep_one_text_a_day_and_lose_no_count(program_needs, active_patient):
    live_rules(program_needs, [
        rule("sms", {"events": ["content.viewed"]}, [{"do": "send", "channel": "sms", "content": "tip"}],
             caps={"sms": {"day": 1}}),
    ])

    def send(sender: int) -> None:
        for day in range(ROUNDS):  # each round a new day, so the cap allows one more text
            now = DAY + timedelta(days=day)
            record_events(SYSTEM, [viewed(active_patient, f"s{sender}-d{day}-{n}", now - timedelta(minutes=n + 1))
                                   for n in range(3)], source="test", now=now)

    assert _at_once(send) == []
    texts = OutboxMessage.objects.filter(patient=active_patient, channel="sms")
    assert texts.count() == ROUNDS  # one a day, not one per sender
    assert Decision.objects.filter(patient=active_patient).count() == SENDERS * ROUNDS * 3
    skipped = [o for d in Decision.objects.filter(patient=active_patient) for o in d.outcomes
               if o["result"] == "skipped"]
    assert len(skipped) == (SENDERS * 3 - 1) * ROUNDS and {o["reason"] for o in skipped} == {"cap: 1 sms a day"}
    # Every event counted once: no batch wrote over the other's profile or need score.
    profile = PatientProfile.objects.get(patient=active_patient)
    meaningful_last_30_days = SENDERS * 3 * ROUNDS
    assert profile.interactions_30d == meaningful_last_30_days
    # The score the rules read from the profile is the need row's own (both written by the last batch),
    # and a full recount from the events on the last day sent agrees with it.
    assert profile.needs["itch"] == PatientNeed.objects.get(patient=active_patient, need__code="itch").combined
    refresh_profile(active_patient, DAY + timedelta(days=ROUNDS - 1))
    assert PatientProfile.objects.get(patient=active_patient).needs["itch"] == pytest.approx(
        profile.needs["itch"], abs=0.002)
