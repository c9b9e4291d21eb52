"""Helpers the tracking tests share (and dialogue's): a touchpoint event, the need signals weighing on a
patient, and record_events in its two halves (prepared outside the write transaction, applied inside)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.tracking.services import events, ingestion

SYSTEM = Actor.system("test")


def signal_count(patient) -> int:
    """How many need signals weigh on the patient's needs now (told from the events: none is stored)."""
    from sojourn.tracking.models import Need
    from sojourn.tracking.scoring import signals_of

    codes = dict(Need.objects.filter(program_id=patient.program_id).values_list("pk", "code"))
    return sum(len(found) for found in signals_of(patient.pk, codes, timezone.now()).values())


def view(patient, client_id: str, *, ago: timedelta = timedelta(hours=1), **data):
    return {"client_id": client_id, "type": "content.viewed", "patient": patient.pseudonym,
            "occurred_at": (timezone.now() - ago).isoformat(), "data": {"content": "itch-tips", **data}}


def prepared(items, now=None):
    """The first half of record_events: checked and decided, nothing written."""
    now = now or timezone.now()
    result, checked, types = events.check_events(SYSTEM, items, now, False)
    return result, ingestion.prepare(ingestion.new_in_batch(checked, result), types, now, "test", False)


def applied(result, plan):
    with transaction.atomic():
        ingestion.apply(plan, result)
    return result
