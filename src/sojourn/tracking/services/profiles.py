"""Each patient's profile: need scores, engagement and journey stage, written (how a score is worked out
and explained is tracking/scoring.py).

Recording events (services/events.py) updates scores and engagement incrementally; a completed
questionnaire refreshes the whole profile in the same transaction. A score row keeps the explanation of
its answers only; the behaviour part is told from the signals themselves when someone reads it
(`scoring.behaviour_explained`), so an event rewrites a few numbers of the row and never its text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.db import (
    as_datetime,
    db_datetime,
    for_update,
    insert_rows,
    read_locked,
    rows_for_ids,
    select_rows,
    update_rows,
)
from sojourn.core.errors import InvalidInput
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.tracking.models import Event, EventType, Need, NeedMapping, NeedSignal, PatientNeed, PatientProfile, Stage
from sojourn.tracking.scoring import (
    DEFAULT_WEIGHTS,
    AnswerMapping,
    Answers,
    engagement_level,
    explicit_score,
    implicit_score,
    signals_of,
)


def refresh_profile(patient: Patient, now: datetime | None = None) -> list[PatientNeed]:
    """Recompute every need score and the engagement level of one patient (inside the caller's
    transaction). Plain SQL: this runs after every completed questionnaire, and the ORM's query
    building cost more than the eight reads and writes themselves."""
    now = now or timezone.now()
    needs = [Need(pk=pk, program_id=patient.program_id, code=code) for pk, code in select_rows(
        f"SELECT id, code FROM {Need._meta.db_table} WHERE program_id = %s ORDER BY position, code",
        [patient.program_id])]
    codes = {need.pk: need.code for need in needs}
    mappings: dict[int, list[AnswerMapping]] = {}
    for need_id, url, scale, scale_max in rows_for_ids(
            f"SELECT need_id, questionnaire_url, scale, scale_max FROM {NeedMapping._meta.db_table} "
            "WHERE need_id {ids} ORDER BY id", codes):
        mappings.setdefault(need_id, []).append(AnswerMapping(url, scale, scale_max))
    rows = []
    with transaction.atomic():
        # The patient held first, as ingestion holds it (core.db.read_locked): an event batch about
        # them waits, so its signals are either counted here or added to what this writes.
        read_locked(Patient, [patient.pk], ["id"])
        answers = Answers(patient.pk, {m.questionnaire_url for group in mappings.values() for m in group})
        signals = signals_of(patient.pk, codes, now)
        existing = dict(select_rows(f"SELECT need_id, id FROM {PatientNeed._meta.db_table} "
                                    f"WHERE patient_id = %s{for_update()}", [patient.pk]))
        fresh, changed = [], []
        for need in needs:
            explicit, freshness, explained = explicit_score(answers, mappings.get(need.pk, []), now)
            implicit, evidence, _behaviour = implicit_score(need.code, signals.get(need.pk, []), now)
            combined = min(max((explicit or 0.0) + implicit, 0.0), 1.0)
            confidence = min(1.0, 0.6 * freshness + 0.1 * evidence)
            row = PatientNeed(pk=existing.get(need.pk), patient=patient, need=need,
                              explicit=None if explicit is None else round(explicit, 4), implicit=round(implicit, 4),
                              combined=round(combined, 4), confidence=round(confidence, 4),
                              explanation=explained, updated_at=now)
            (changed if row.pk else fresh).append(row)
            rows.append(row)
        PatientNeed.objects.bulk_create(fresh)
        fields = ["explicit", "implicit", "combined", "confidence", "explanation", "updated_at"]
        update_rows(PatientNeed, fields, [[getattr(row, f) for f in fields] + [row.pk] for row in changed])
        _refresh_engagement(patient, now, needs={row.need.code: row.combined for row in rows})
    return rows


def _refresh_engagement(patient: Patient, now: datetime, needs: dict[str, float]) -> None:
    """Meaningful interactions: the patient's own touchpoint events, completed questionnaires among them
    (a completed questionnaire is recorded as an event right after this refresh, which counts it)."""
    from sojourn.tracking.event_types import BUILTIN

    meaningful = {code for code, spec in BUILTIN.items() if spec.meaningful}
    meaningful |= {code for (code,) in select_rows(
        f"SELECT code FROM {EventType._meta.db_table} WHERE program_id = %s AND meaningful",
        [patient.program_id])}
    [(last, recent)] = rows_for_ids(
        f"SELECT MAX(occurred_at), COUNT(CASE WHEN occurred_at >= %s THEN 1 END) FROM {Event._meta.db_table} "
        "WHERE patient_id = %s AND occurred_at <= %s AND type {ids}", sorted(meaningful),
        [db_datetime(now - timedelta(days=30)), patient.pk, db_datetime(now)])
    last = as_datetime(last)
    values = [engagement_level(now, last, recent), last, recent, now, needs]
    fields = ["engagement", "last_meaningful_at", "interactions_30d", "updated_at", "needs"]
    if select_rows(f"SELECT 1 FROM {PatientProfile._meta.db_table} WHERE patient_id = %s",
                   [patient.pk]):
        update_rows(PatientProfile, fields, [[*values, patient.pk]], key="patient", increment="revision")
    else:
        PatientProfile.objects.create(patient=patient, **dict(zip(fields, values, strict=True)))


def raise_revisions(patient_ids: set[int], now: datetime) -> None:
    """Say that what the rules read about these patients changed (`PatientProfile.revision`), in the
    transaction that changes it: a batch of events decided before it is stored decides about them
    again. A patient without a profile gets one as a new patient has it."""
    table = connection.ops.quote_name(PatientProfile._meta.db_table)
    insert_rows(PatientProfile, ["patient", "engagement", "interactions_30d", "needs", "updated_at", "revision"],
                [(pid, PatientProfile.Engagement.NEW, 0, {}, now, 1) for pid in sorted(patient_ids)],
                skip_conflicts_on="patient", conflict_update=f"revision = {table}.revision + 1")


def record_need_signal(*, patient: Patient, need_code: str, kind: str, occurred_at: datetime,
                       weight: float | None = None, detail: dict[str, Any] | None = None) -> NeedSignal | None:
    """Note behaviour that bears on a need and refresh the profile; unknown needs are ignored (a tag
    on content may name a need another program does not have)."""
    if kind not in NeedSignal.Kind.values:
        raise InvalidInput(_("%(kind)s is not a kind of need signal.") % {"kind": kind}, field="kind")
    need = Need.objects.filter(program_id=patient.program_id, code=need_code).first()
    if need is None:
        return None
    with transaction.atomic():
        signal = NeedSignal.objects.create(patient=patient, need=need, kind=kind,
                                           weight=DEFAULT_WEIGHTS[kind] if weight is None else weight,
                                           occurred_at=occurred_at, detail=detail or {})
        refresh_profile(patient)
        return signal


def set_journey_stage(*, actor: Actor, patient: Patient, stage_code: str, reason: str = "") -> None:
    """Move the patient to a stage of the journey (audited, and recorded as a stage.changed event)."""
    if actor.kind != "system":
        actor.require(Permission.PATIENT_MANAGE, patient.program_id, patient.market.country)
    stages = dict(select_rows(f"SELECT code, id FROM {Stage._meta.db_table} WHERE program_id = %s",
                              [patient.program_id]))
    if not isinstance(stage_code, str) or stage_code not in stages:
        raise InvalidInput(_("%(stage)s is not a stage of this program.") % {"stage": stage_code}, field="stage")
    codes = {pk: code for code, pk in stages.items()}
    now = timezone.now()
    with transaction.atomic():
        # The patient first, as every batch of events holds it (core.db.read_locked): the stage change
        # is recorded as an event in this transaction, which would otherwise lock in the other order.
        read_locked(Patient, [patient.pk], ["id"])
        # The profile's stage, locked (plain SQL: enrollment sets a stage for every patient).
        found = select_rows(f"SELECT stage_id FROM {PatientProfile._meta.db_table} "
                            f"WHERE patient_id = %s{for_update()}", [patient.pk])
        if not found:
            PatientProfile.objects.create(patient=patient, updated_at=now)
        before = codes.get(found[0][0]) if found and found[0][0] is not None else None
        if before != stage_code:
            update_rows(PatientProfile, ["stage", "stage_since", "updated_at"],
                        [[stages[stage_code], now, now, patient.pk]], key="patient", increment="revision")
            record_audit(actor=actor, action="stage.changed", subject_type="patient", subject_id=patient.pseudonym,
                         program_id=patient.program_id, market=patient.market.country, before={"stage": before},
                         after={"stage": stage_code, "reason": reason.strip()[:200]})
            from sojourn.tracking.services.events import record_events

            record_events(Actor.system("tracking"), [{
                "client_id": f"sojourn:stage:{patient.pk}:{now.timestamp()}", "type": "stage.changed",
                "patient": patient.pseudonym, "occurred_at": now,
                "data": {"stage": stage_code, **({"previous": before} if before else {})}}],
                source="platform", now=now, allow_internal=True)


def move_stages_by_rules(changes: list[tuple[Patient, str, str]], *, now: datetime) -> int:
    """Stage changes decided by dialogue rules, in bulk. The rule's decision records who and why, so
    these stay out of the audit chain (which keeps the changes staff make); each becomes a
    stage.changed event like any other."""
    from sojourn.tracking.services.events import record_events

    if not changes:
        return 0
    program_ids = {p.program_id for p, _code, _reason in changes}
    stages = {(s.program_id, s.code): s for s in Stage.objects.filter(program_id__in=program_ids)}
    profiles = {p.patient_id: p for p in PatientProfile.objects.filter(
        patient_id__in=[p.pk for p, _c, _r in changes]).select_related("stage")}
    moved, events, missing = [], [], []
    for patient, code, _reason in changes:
        stage = stages.get((patient.program_id, code))
        profile = profiles.get(patient.pk)
        before = profile.stage.code if profile and profile.stage else None
        if stage is None or before == code:
            continue
        if profile is None:
            missing.append(PatientProfile(patient=patient, stage=stage, stage_since=now, updated_at=now))
        else:
            moved.append((stage.pk, now, now, patient.pk))
        events.append({"client_id": f"sojourn:stage:{patient.pk}:{now.timestamp()}", "type": "stage.changed",
                       "patient": patient.pseudonym, "occurred_at": now,
                       "data": {"stage": code, **({"previous": before} if before else {})}})
    update_rows(PatientProfile, ["stage", "stage_since", "updated_at"], moved, key="patient", increment="revision")
    PatientProfile.objects.bulk_create(missing)
    record_events(Actor.system("dialogue"), events, source="platform", now=now, allow_internal=True)
    return len(events)
