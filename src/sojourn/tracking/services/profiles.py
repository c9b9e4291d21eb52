"""Each patient's profile: need scores that explain themselves, engagement, journey stage.

explicit  = the latest answer to a mapped questionnaire scale, over the scale's highest value (0–1);
implicit  = the sum of behaviour signals, each halved every 14 days, kept within ±0.5;
combined  = explicit (or nothing) + implicit, kept within 0–1;
confidence rises with a recent needs analysis (halved every 180 days) and with recent signals.

Recording events (services/events.py) updates scores and engagement incrementally; a completed
questionnaire refreshes the whole profile in the same transaction. A score row keeps the explanation of
its answers only; the behaviour part is told from the signals themselves when someone reads it
(`behaviour_explained`), so an event rewrites a few numbers of the row and never its text.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.db import (
    as_datetime,
    as_json,
    db_datetime,
    for_update,
    read_locked,
    rows_for_ids,
    select_rows,
    update_rows,
)
from sojourn.core.errors import InvalidInput
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient
from sojourn.questionnaires.definition import Definition
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.services.definitions import definition_of
from sojourn.tracking.models import Event, EventType, Need, NeedMapping, NeedSignal, PatientNeed, PatientProfile, Stage

SIGNAL_HALF_LIFE_DAYS = 14.0
ANSWER_HALF_LIFE_DAYS = 180.0
IMPLICIT_BOUND = 0.5
DEFAULT_WEIGHTS = {"content_viewed": 0.03, "content_clicked": 0.04, "content_rated": 0.06, "call_note": 0.15}
SIGNAL_WORDS = {"content_viewed": "viewed", "content_clicked": "opened", "content_rated": "rated helpful",
                "call_note": "raised in a call"}


def _decay(age: timedelta, half_life_days: float) -> float:
    return math.pow(0.5, max(age.total_seconds(), 0) / 86400 / half_life_days)


def _answer_texts(answered: list[dict[str, Any]], parsed: Definition, link_ids: list[str]) -> str:
    """"na-itch = All the time", for the items of a scale, in English (the staff-facing explanation)."""
    items = parsed.by_link_id()
    shown = []
    for raw in _flatten(answered):
        if raw.get("linkId") in link_ids and raw.get("answer"):
            item = items[raw["linkId"]]
            answer = raw["answer"][0]
            code = answer.get("valueCoding", {}).get("code") if "valueCoding" in answer else next(
                (v for k, v in answer.items() if k.startswith("value")), "")
            option = item.option(code) if item.options else None
            shown.append(f"{item.link_id} = {option.label('en') if option else code}")
    return "; ".join(shown)


def _flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for raw in items:
        out.append(raw)
        out.extend(_flatten(raw.get("item", [])))
        for answer in raw.get("answer", []):
            out.extend(_flatten(answer.get("item", [])))
    return out


class _Latest(NamedTuple):
    """A patient's latest completed response to one questionnaire, as much of it as scoring reads."""

    questionnaire_id: int
    sha256: str
    title: str
    scoring: dict[str, Any]
    completed_at: datetime
    scores: list[dict[str, Any]]
    items: list[dict[str, Any]]


class _Mapping(NamedTuple):
    questionnaire_url: str
    scale: str
    scale_max: float


class _Signal(NamedTuple):
    kind: str
    weight: float
    occurred_at: datetime


class _Answers:
    """The patient's latest completed response to each questionnaire mapped onto a need, read once
    for all needs (a profile is refreshed after every completed questionnaire). Plain SQL, and only the
    latest response of each questionnaire has its answers decoded."""

    def __init__(self, patient_id: int, urls: set[str]) -> None:
        self.latest: dict[str, _Latest] = {}
        response, questionnaire = QuestionnaireResponse._meta.db_table, Questionnaire._meta.db_table
        for url, qid, sha256, title, scoring, completed_at, scores, items in rows_for_ids(
                f"SELECT q.url, q.id, q.sha256, q.title, q.scoring, r.completed_at, r.scores, r.items "  # noqa: S608
                f"FROM {response} r JOIN {questionnaire} q ON q.id = r.questionnaire_id "
                "WHERE r.patient_id = %s AND r.status = 'completed' AND q.url {ids} "
                "ORDER BY r.completed_at DESC, r.id DESC", urls, [patient_id]):
            if url not in self.latest:
                self.latest[url] = _Latest(qid, sha256, title, as_json(scoring), as_datetime(completed_at),
                                           as_json(scores), as_json(items))
        self.parsed: dict[int, Definition] = {}

    def definition(self, response: _Latest) -> Definition:
        if response.questionnaire_id not in self.parsed:
            self.parsed[response.questionnaire_id] = definition_of(response.questionnaire_id, response.sha256)
        return self.parsed[response.questionnaire_id]


def _explicit(answers: _Answers, mappings: list[_Mapping], now: datetime
              ) -> tuple[float | None, float, list[dict[str, Any]]]:
    """The latest answer to any scale mapped onto the need: (score, freshness, explanation)."""
    best: tuple[datetime, float, dict[str, Any]] | None = None
    for mapping in mappings:
        response = answers.latest.get(mapping.questionnaire_url)
        if response is None:
            continue
        scored = next((s for s in response.scores if s["scale"] == mapping.scale and s["value"] is not None), None)
        if scored is None:
            continue
        value = min(max(scored["value"] / mapping.scale_max, 0.0), 1.0)
        scale = next(s for s in response.scoring["scales"] if s["id"] == mapping.scale)
        detail = _answer_texts(response.items, answers.definition(response), scale["items"])
        explained = {"source": response.title, "detail": detail, "value": round(value, 2),
                     "at": response.completed_at.isoformat()}
        if best is None or response.completed_at > best[0]:
            best = (response.completed_at, value, explained)
    if best is None:
        return None, 0.0, []
    return best[1], _decay(now - best[0], ANSWER_HALF_LIFE_DAYS), [best[2]]


def _implicit(code: str, signals: list[_Signal], now: datetime) -> tuple[float, float, list[dict[str, Any]]]:
    total, evidence = 0.0, 0.0
    by_kind: dict[str, list[float]] = {}
    for signal in signals:
        decay = _decay(now - signal.occurred_at, SIGNAL_HALF_LIFE_DAYS)
        total += signal.weight * decay
        evidence += decay
        if now - signal.occurred_at <= timedelta(days=SIGNAL_HALF_LIFE_DAYS):
            by_kind.setdefault(signal.kind, []).append(signal.weight * decay)
    bounded = min(max(total, -IMPLICIT_BOUND), IMPLICIT_BOUND)
    explained = [{"source": "behaviour", "detail": f"{len(values)} × {code} content {SIGNAL_WORDS[kind]}"
                  if kind != "call_note" else f"{len(values)} × {code} {SIGNAL_WORDS[kind]}",
                  "value": round(sum(values), 2), "window_days": int(SIGNAL_HALF_LIFE_DAYS), "kind": kind,
                  "count": len(values)}
                 for kind, values in sorted(by_kind.items())]
    if total and not by_kind:
        explained.append({"source": "behaviour", "detail": "older signals", "value": round(total, 2)})
    return bounded, evidence, explained


def explain(need_label: str, combined: float, explanation: list[dict[str, Any]]) -> str:
    """'itch 0.72: Your needs (na-itch = Often) 0.60; 3 × itch content viewed in 14 days +0.12'"""
    parts = []
    for part in explanation:
        if part["source"] == "behaviour":
            parts.append(f"{part['detail']} in the last {part.get('window_days', 14)} days ({part['value']:+.2f})")
        else:
            parts.append(f"{part['source']}: {part['detail']} ({part['value']:.2f})")
    return f"{need_label} {combined:.2f}: " + ("; ".join(parts) or "no evidence yet")


def _signals_of(patient_id: int, codes: dict[int, str], now: datetime) -> dict[int, list[_Signal]]:
    """The signals that still weigh on each need (eight half-lives, beyond which they are below 0.4 %)."""
    signals: dict[int, list[_Signal]] = {}
    for need_id, kind, weight, occurred_at in select_rows(
            f"SELECT need_id, kind, weight, occurred_at FROM {NeedSignal._meta.db_table} "  # noqa: S608
            "WHERE patient_id = %s AND occurred_at <= %s AND occurred_at >= %s ORDER BY occurred_at, id",
            [patient_id, db_datetime(now), db_datetime(now - timedelta(days=SIGNAL_HALF_LIFE_DAYS * 8))]):
        if need_id in codes:
            signals.setdefault(need_id, []).append(_Signal(kind, weight, as_datetime(occurred_at)))
    return signals


def behaviour_explained(patient_id: int, codes: dict[int, str], now: datetime | None = None
                        ) -> dict[int, list[dict[str, Any]]]:
    """For each need (by id), what the patient's behaviour of the last fourteen days says about it."""
    now = now or timezone.now()
    return {need_id: _implicit(codes[need_id], signals, now)[2]
            for need_id, signals in _signals_of(patient_id, codes, now).items()}


def answers_only(explanation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored part of an explanation (rows refreshed before 2026-12 also kept a behaviour part)."""
    return [part for part in explanation if part.get("source") != "behaviour"]


def refresh_profile(patient: Patient, now: datetime | None = None) -> list[PatientNeed]:
    """Recompute every need score and the engagement level of one patient (inside the caller's
    transaction). Plain SQL: this runs after every completed questionnaire, and the ORM's query
    building cost more than the eight reads and writes themselves."""
    now = now or timezone.now()
    needs = [Need(pk=pk, program_id=patient.program_id, code=code) for pk, code in select_rows(
        f"SELECT id, code FROM {Need._meta.db_table} WHERE program_id = %s ORDER BY position, code",  # noqa: S608
        [patient.program_id])]
    codes = {need.pk: need.code for need in needs}
    mappings: dict[int, list[_Mapping]] = {}
    for need_id, url, scale, scale_max in rows_for_ids(
            f"SELECT need_id, questionnaire_url, scale, scale_max FROM {NeedMapping._meta.db_table} "  # noqa: S608
            "WHERE need_id {ids} ORDER BY id", codes):
        mappings.setdefault(need_id, []).append(_Mapping(url, scale, scale_max))
    rows = []
    with transaction.atomic():
        # The patient held first, as ingestion holds it (core.db.read_locked): an event batch about
        # them waits, so its signals are either counted here or added to what this writes.
        read_locked(Patient, [patient.pk], ["id"])
        answers = _Answers(patient.pk, {m.questionnaire_url for group in mappings.values() for m in group})
        signals = _signals_of(patient.pk, codes, now)
        existing = dict(select_rows(f"SELECT need_id, id FROM {PatientNeed._meta.db_table} "  # noqa: S608
                                    f"WHERE patient_id = %s{for_update()}", [patient.pk]))
        fresh, changed = [], []
        for need in needs:
            explicit, freshness, explained = _explicit(answers, mappings.get(need.pk, []), now)
            implicit, evidence, _behaviour = _implicit(need.code, signals.get(need.pk, []), now)
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


_WEEK, _FORTNIGHT, _MONTH = timedelta(days=7), timedelta(days=14), timedelta(days=30)


def engagement_level(now: datetime, last: datetime | None, recent: int) -> str:
    """Engagement from recency and frequency of meaningful interactions."""
    if last is None:
        return PatientProfile.Engagement.NEW
    since = now - last
    if since <= _WEEK and recent >= 3:
        return PatientProfile.Engagement.HIGH
    if since <= _FORTNIGHT:
        return PatientProfile.Engagement.MEDIUM
    if since <= _MONTH:
        return PatientProfile.Engagement.LOW
    return PatientProfile.Engagement.LAPSED


def _refresh_engagement(patient: Patient, now: datetime, needs: dict[str, float]) -> None:
    """Meaningful interactions: the patient's own touchpoint events, completed questionnaires among them
    (a completed questionnaire is recorded as an event right after this refresh, which counts it)."""
    from sojourn.tracking.event_types import BUILTIN

    meaningful = {code for code, spec in BUILTIN.items() if spec.meaningful}
    meaningful |= {code for (code,) in select_rows(
        f"SELECT code FROM {EventType._meta.db_table} WHERE program_id = %s AND meaningful",  # noqa: S608
        [patient.program_id])}
    [(last, recent)] = rows_for_ids(
        f"SELECT MAX(occurred_at), COUNT(CASE WHEN occurred_at >= %s THEN 1 END) FROM {Event._meta.db_table} "  # noqa: S608
        "WHERE patient_id = %s AND occurred_at <= %s AND type {ids}", sorted(meaningful),
        [db_datetime(now - timedelta(days=30)), patient.pk, db_datetime(now)])
    last = as_datetime(last)
    values = [engagement_level(now, last, recent), last, recent, now, needs]
    fields = ["engagement", "last_meaningful_at", "interactions_30d", "updated_at", "needs"]
    if select_rows(f"SELECT 1 FROM {PatientProfile._meta.db_table} WHERE patient_id = %s",  # noqa: S608
                   [patient.pk]):
        update_rows(PatientProfile, fields, [[*values, patient.pk]], key="patient")
    else:
        PatientProfile.objects.create(patient=patient, **dict(zip(fields, values, strict=True)))


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
    stages = dict(select_rows(f"SELECT code, id FROM {Stage._meta.db_table} WHERE program_id = %s",  # noqa: S608
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
        found = select_rows(f"SELECT stage_id FROM {PatientProfile._meta.db_table} "  # noqa: S608
                            f"WHERE patient_id = %s{for_update()}", [patient.pk])
        if not found:
            PatientProfile.objects.create(patient=patient, updated_at=now)
        before = codes.get(found[0][0]) if found and found[0][0] is not None else None
        if before != stage_code:
            update_rows(PatientProfile, ["stage", "stage_since", "updated_at"],
                        [[stages[stage_code], now, now, patient.pk]], key="patient")
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
    update_rows(PatientProfile, ["stage", "stage_since", "updated_at"], moved, key="patient")
    PatientProfile.objects.bulk_create(missing)
    record_events(Actor.system("dialogue"), events, source="platform", now=now, allow_internal=True)
    return len(events)
