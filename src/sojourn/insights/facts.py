"""Each patient's journey facts computed from their data, a batch of patients at a time (a handful of
queries a batch, whatever its size). Definitions are in `queries.py`; this module only derives the
per-patient parts that the KPI aggregates need."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, Max, Q

from sojourn.channels.models import OutboxMessage, PrintCopy
from sojourn.content.models import ContentItem
from sojourn.core.models import Program
from sojourn.people.models import Patient
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.tracking.event_types import BUILTIN
from sojourn.tracking.models import Event, EventType, NeedMapping, PatientProfile

WHO5 = "who-5"
REACH_CHANNELS = ("web", "email", "sms")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PDC_HORIZON = timedelta(days=180)


def day_number(at: datetime) -> float:
    return (at - EPOCH).total_seconds() / 86400


def meaningful_types(program: Program) -> set[str]:
    return {code for code, spec in BUILTIN.items() if spec.meaningful} | set(
        EventType.objects.filter(program=program, meaningful=True).values_list("code", flat=True))


def refill_coverage(fills: Sequence[tuple[datetime, int]]) -> tuple[datetime, float, datetime]:
    """From the first fill: the days covered within 180 days (supply of an early refill carried over,
    no day counted twice) and the end of the last covered stretch."""
    ordered = sorted(fills)
    start = ordered[0][0]
    horizon = start + PDC_HORIZON
    covered_until, covered = start, 0.0
    for at, supply in ordered:
        begin = max(at, covered_until)
        stop = min(begin + timedelta(days=supply), horizon)
        if stop > begin:
            covered += (stop - begin).total_seconds() / 86400
        covered_until = max(covered_until, begin + timedelta(days=supply))
    return start, covered, covered_until


def proportion_of_days_covered(fills: Sequence[tuple[datetime, int]], now: datetime) -> float | None:
    """Days with medicine on hand over the days since the first fill (at most 180) as of `now` (no fill
    after it); None when that period is shorter than 8 weeks. The same arithmetic as the adherence KPI
    does in SQL over the stored coverage."""
    if not fills:
        return None
    start, covered, until = refill_coverage(fills)
    period = (min(now, start + PDC_HORIZON) - start).total_seconds() / 86400
    if period < 56:
        return None
    # From the last fill on, coverage is one unbroken stretch; what of it lies after `now` is not yet had.
    ahead = max(0.0, (min(until, start + PDC_HORIZON) - now).total_seconds() / 86400)
    return min((covered - ahead) / period, 1.0)


def _score(scores: Any, scale: str) -> float | None:
    for item in scores or []:
        if isinstance(item, dict) and item.get("scale") == scale and isinstance(item.get("value"), int | float):
            return float(item["value"])
    return None


def compute_journey_facts(program: Program, patient_ids: Sequence[int],
                          now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of `JourneyFacts` and `StageStay` for these patients, as column → value."""
    ids = list(patient_ids)
    patients = _rows(Patient.objects.filter(program=program, pk__in=ids)
                     .values_list("pk", "market_id", "status", "created_at", "verified_at"), "---dd")
    stages = dict(PatientProfile.objects.filter(patient_id__in=ids).values_list("patient_id", "stage_id"))
    meaningful = meaningful_types(program)
    last_meaningful = dict(_rows(Event.objects.filter(patient_id__in=ids, type__in=meaningful)
                                 .values("patient_id").annotate(last=Max("occurred_at"))
                                 .values_list("patient_id", "last"), "-d"))
    late_active = set(Event.objects.filter(
        patient_id__in=ids, type__in=meaningful,
        occurred_at__gt=F("patient__verified_at") + timedelta(days=15),
        occurred_at__lte=F("patient__verified_at") + timedelta(days=30)).values_list("patient_id", flat=True)
        .distinct())

    withdrew: dict[int, datetime] = {}
    fills: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    changes: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    # Sorted here: asked to ORDER BY time, SQLite walks the whole event table in time order instead.
    for at, _pk, patient_id, kind, data in sorted(_rows(Event.objects.filter(
            patient_id__in=ids, type__in=["consent.withdrawn", "medication.refilled", "stage.changed"])
            .values_list("occurred_at", "pk", "patient_id", "type", "data"), "d---j"), key=lambda r: (r[0], r[1])):
        if kind == "consent.withdrawn" and data.get("everything"):
            withdrew.setdefault(patient_id, at)
        elif kind == "medication.refilled":
            supply = data.get("days_supply")
            fills[patient_id].append((at, supply if isinstance(supply, int) and supply > 0 else 0))
        elif kind == "stage.changed":
            changes[patient_id].append((at, str(data.get("stage", ""))))

    mappings = list(NeedMapping.objects.filter(need__program=program).select_related("need"))
    urls = {m.questionnaire_url for m in mappings}
    first_analysis: dict[int, tuple[datetime, str]] = {}
    who5: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for _at, _pk, patient_id, url, name, at, scores in sorted(_rows(QuestionnaireResponse.objects.filter(
            Q(questionnaire__url__in=urls) | Q(questionnaire__name=WHO5), patient_id__in=ids, status="completed",
            completed_at__isnull=False).values_list("completed_at", "pk", "patient_id", "questionnaire__url",
                                                    "questionnaire__name", "completed_at", "scores"), "d----dj"),
            key=lambda r: (r[0], r[1])):
        if url in urls and patient_id not in first_analysis:
            scored = [(value / m.scale_max, -m.need.position, m.need.code) for m in mappings
                      if m.questionnaire_url == url and (value := _score(scores, m.scale)) is not None]
            first_analysis[patient_id] = (at, max(scored)[2] if scored else "")
        if name == WHO5 and (value := _score(scores, "wellbeing")) is not None:
            who5[patient_id].append((at, value))

    tagged: dict[str, set[str]] = defaultdict(set)
    for code, needs in ContentItem.objects.filter(program=program).values_list("code", "needs"):
        for need in needs:
            tagged[need].add(code)
    wanting = {p: (at, need) for p, (at, need) in first_analysis.items() if need}
    reached: dict[tuple[int, str], datetime] = {}
    served = set()
    # Every message of these patients, the delivered ones picked here: asked for status = 'done' as
    # well, SQLite reads every delivered message of the program through the status index instead.
    for patient_id, channel, kind, status, payload, at in _rows(OutboxMessage.objects.filter(
            patient_id__in=ids).values_list("patient_id", "channel", "kind", "status", "payload", "finished_at"),
            "----jd"):
        if status != "done" or at is None:
            continue
        if channel in REACH_CHANNELS and at > reached.get((patient_id, channel), EPOCH):
            reached[patient_id, channel] = at
        if kind == "content" and patient_id in wanting:
            since, need = wanting[patient_id]
            content = payload.get("content") if isinstance(payload, dict) else None
            if content in tagged[need] and since <= at <= since + timedelta(days=14):
                served.add(patient_id)
    for patient_id, at in _rows(PrintCopy.objects.filter(patient_id__in=ids, delivered_at__isnull=False)
                                .values_list("patient_id", "delivered_at"), "-d"):
        if at > reached.get((patient_id, "print"), EPOCH):
            reached[patient_id, "print"] = at

    facts, stays = [], []
    for pk, market_id, status, created_at, verified_at in patients:
        active_30 = (verified_at is not None and pk in late_active
                     and not (pk in withdrew and withdrew[pk] <= verified_at + timedelta(days=30)))
        analysis = first_analysis.get(pk)
        coverage = refill_coverage(fills[pk]) if fills.get(pk) else None
        facts.append({
            "patient_id": pk, "program_id": program.pk, "market_id": market_id, "status": status,
            "stage_id": stages.get(pk), "consented_at": created_at, "confirmed_at": verified_at,
            "active_at_30_days": active_30, "last_meaningful_at": last_meaningful.get(pk),
            "needs_done_at": analysis[0] if analysis else None, "top_need": analysis[1] if analysis else "",
            "top_need_served": pk in served, "reached_web_at": reached.get((pk, "web")),
            "reached_email_at": reached.get((pk, "email")), "reached_sms_at": reached.get((pk, "sms")),
            "reached_print_at": reached.get((pk, "print")),
            "who5_change": _who5_change(who5.get(pk, [])),
            "first_refill_day": day_number(coverage[0]) if coverage else None,
            "covered_days": round(coverage[1], 6) if coverage else None,
            "covered_until_day": day_number(coverage[2]) if coverage else None, "refreshed_at": now})
        moves = changes.get(pk, [])
        for (entered, stage), (left, _next) in pairwise(moves):
            stays.append({"patient_id": pk, "program_id": program.pk, "market_id": market_id, "stage": stage,
                          "entered_at": entered, "left_at": left, "days": (left - entered).total_seconds() / 86400})
    return facts, stays


def _who5_change(answers: list[tuple[datetime, float]]) -> float | None:
    if not answers:
        return None
    base_at, base = answers[0]
    later = next((v for at, v in answers[1:] if timedelta(days=70) <= at - base_at <= timedelta(days=98)), None)
    return None if later is None else later - base


def _rows(queryset: Any, kinds: str) -> list[tuple]:
    """The rows of a values_list query without Django's per-value converters, the costliest part of a
    rebuild on SQLite: `kinds` has a letter a column, d for a time, j for JSON, - as it comes."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # an empty IN (…): nothing to ask the database
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    convert = [_as_datetime if kind == "d" else _as_json if kind == "j" else None for kind in kinds]
    return [tuple(c(v) if c is not None and v is not None else v for c, v in zip(convert, row, strict=True))
            for row in rows]


def _as_datetime(value: Any) -> datetime:
    # SQLite holds UTC times as text (parsed to naive datetimes for a declared column, left as text for
    # an aggregate); PostgreSQL hands back aware datetimes.
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
