"""Data migrations of tracking, both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from sojourn.tracking.models import Event, NeedSignal
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.profiles import record_need_signal
from sojourn.tracking.tests.helpers import SYSTEM, signal_count, view

BEFORE = [("tracking", "0005_profile_revision")]
AFTER = [("tracking", "0006_signals_told_from_events")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_signals_copied_from_events_go_and_come_back_from_the_events(active_patient, itch):
    record_events(SYSTEM, [view(active_patient, "v-1", needs=["itch"]),
                           view(active_patient, "v-2", needs=["itch"], helpful=False) | {"type": "content.rated"},
                           view(active_patient, "v-3")], source="test")  # names no need: no signal
    record_need_signal(patient=active_patient, need_code="itch", kind="call_note",
                       occurred_at=timezone.now() - timedelta(hours=2))  # recorded on its own: stays
    assert signal_count(active_patient) == 3
    try:
        old = _migrate(BEFORE).get_model("tracking", "NeedSignal")
        copies = sorted(old.objects.filter(detail__has_key="event").values_list("detail", "kind", "weight"),
                        key=lambda row: row[0]["event"])
        viewed, rated = (Event.objects.get(client_id=c).pk for c in ("v-1", "v-2"))
        assert copies == [({"event": viewed, "content": "itch-tips"}, "content_viewed", 0.03),
                          ({"event": rated, "content": "itch-tips"}, "content_rated", -0.06)]
    finally:
        _migrate(AFTER)
    assert list(NeedSignal.objects.values_list("kind", flat=True)) == ["call_note"]
    assert signal_count(active_patient) == 3  # the same signals weigh on the need either way
