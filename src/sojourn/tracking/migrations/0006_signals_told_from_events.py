"""Need signals that copied an event's facts (written by ingestion until 2026-12-04, each with the event's
id in its detail) are dropped: they are told from the events themselves now (scoring.event_signals).
Signals recorded on their own stay. Going back writes them again from the events."""

from django.db import migrations

# As ingestion wrote them when this migration was made.
KINDS = {"content.viewed": "content_viewed", "content.completed": "content_viewed",
         "content.rated": "content_rated", "email.clicked": "content_clicked", "call.completed": "call_note"}
WEIGHTS = {"content_viewed": 0.03, "content_clicked": 0.04, "content_rated": 0.06, "call_note": 0.15}
BATCH = 2000


def drop_copies(apps, schema_editor):
    apps.get_model("tracking", "NeedSignal").objects.filter(detail__has_key="event").delete()


def write_copies(apps, schema_editor):
    Event = apps.get_model("tracking", "Event")
    Need = apps.get_model("tracking", "Need")
    NeedSignal = apps.get_model("tracking", "NeedSignal")
    needs = {(program_id, code): pk for pk, program_id, code in Need.objects.values_list("pk", "program_id", "code")}
    rows = []
    for pk, program_id, patient_id, kind, occurred_at, data in Event.objects.filter(type__in=list(KINDS)) \
            .values_list("pk", "program_id", "patient_id", "type", "occurred_at", "data").iterator(chunk_size=BATCH):
        data = data or {}
        if not data.get("needs") or (kind == "call.completed" and data.get("outcome") != "reached"):
            continue
        weight = WEIGHTS[KINDS[kind]] * (-1 if kind == "content.rated" and not data.get("helpful") else 1)
        for code in data["needs"]:
            if (program_id, code) in needs:
                rows.append(NeedSignal(patient_id=patient_id, need_id=needs[(program_id, code)], kind=KINDS[kind],
                                       weight=weight, occurred_at=occurred_at,
                                       detail={"event": pk, "content": data.get("content", "")}))
        if len(rows) >= BATCH:
            NeedSignal.objects.bulk_create(rows)
            rows = []
    NeedSignal.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0005_profile_revision")]
    operations = [migrations.RunPython(drop_copies, write_copies)]
