"""KPIs of a market, stage by stage of the journey, computed from events, answers, messages and calls.
Aggregates only: no identity is read, and a figure behind fewer than five patients is not shown.

Definitions (as of a moment, `now` by default):
- funnel: consented = patients who signed; confirmed = of those, verified their email; needs analysis
  done = of the confirmed, completed a questionnaire mapped onto needs; active at 30 days = of those
  confirmed at least 30 days ago, not withdrawn by day 30 and with a meaningful interaction in days
  16–30.
- weekly active: of the active patients now in the stage (confirmed at least 7 days ago), those with
  a meaningful interaction in the last 7 days.
- reach per channel: of the active patients, those to whom a message on the channel was delivered in
  the last 30 days.
- needs coverage: of the patients whose first needs analysis is at least 14 days old, those who were
  delivered content tagged with their top need within 14 days of it.
- nurse SLA: of the calls whose deadline passed in the last 90 days, those completed before it.
- WHO-5 change: the mean change of the well-being score from the first WHO-5 to the first one 10–14
  weeks later.
- adherence: of the patients with refills over at least 8 weeks, those whose refills covered 80 % or
  more of the days from the first refill (up to 180 days; supply carried over, never counted twice).
- time in stage: the median length of finished stays in the stage.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Min, Q
from django.utils import timezone

from sojourn.channels.models import NurseTask, OutboxMessage
from sojourn.content.models import ContentItem
from sojourn.core.models import Program
from sojourn.insights import kpis as k
from sojourn.insights.kpis import KpiValue
from sojourn.people.models import Patient
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.tracking.event_types import BUILTIN
from sojourn.tracking.models import Event, EventType, NeedMapping, PatientProfile, Stage

WHO5 = "who-5"
PLACED = {"funnel": "diagnosis", "care": "treatment_initiation", "outcomes": "daily_management"}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def meaningful_types(program: Program) -> set[str]:
    return {code for code, spec in BUILTIN.items() if spec.meaningful} | set(
        EventType.objects.filter(program=program, meaningful=True).values_list("code", flat=True))


class MarketKpis:
    """Every KPI of one market, computed from the data as of a moment."""

    def __init__(self, program: Program, country: str, now: datetime | None = None) -> None:
        self.program, self.country, self.now = program, country, now or timezone.now()
        self.patients = Patient.objects.filter(program=program, market__country=country, created_at__lte=self.now)
        self.meaningful = meaningful_types(program)

    def _active_ids(self, since: datetime, until: datetime, ids: Any) -> set[int]:
        return set(Event.objects.filter(patient__in=ids, type__in=self.meaningful, occurred_at__gt=since,
                                        occurred_at__lte=until).values_list("patient_id", flat=True).distinct())

    # ---- funnel ---------------------------------------------------------------------------------------

    def funnel(self) -> list[KpiValue]:
        consented = self.patients.count()
        verified = self.patients.filter(verified_at__lte=self.now)
        urls = set(NeedMapping.objects.filter(need__program=self.program).values_list("questionnaire_url", flat=True))
        needs_done = verified.filter(questionnaire_responses__status="completed",
                                     questionnaire_responses__questionnaire__url__in=urls,
                                     questionnaire_responses__completed_at__lte=self.now).distinct().count()
        month_old = list(verified.filter(verified_at__lte=self.now - timedelta(days=30))
                         .values_list("pk", "verified_at"))
        withdrew = dict(Event.objects.filter(patient_id__in=[pk for pk, _v in month_old], type="consent.withdrawn",
                                             data__everything=True).values_list("patient_id").annotate(at=Min("occurred_at")))
        # One query: meaningful events in days 16–30 after each patient's own confirmation.
        late = set(Event.objects.filter(
            patient_id__in=[pk for pk, _v in month_old], type__in=self.meaningful,
            occurred_at__gt=F("patient__verified_at") + timedelta(days=15),
            occurred_at__lte=F("patient__verified_at") + timedelta(days=30)).values_list("patient_id", flat=True))
        active = sum(1 for pk, verified_at in month_old if pk in late
                     and not (pk in withdrew and withdrew[pk] <= verified_at + timedelta(days=30)))
        n_verified = verified.count()
        return [KpiValue(k.FUNNEL_VERIFIED, PLACED["funnel"], _share(n_verified, consented), consented,
                         {"consented": consented, "confirmed": n_verified}),
                KpiValue(k.FUNNEL_NEEDS, PLACED["funnel"], _share(needs_done, n_verified), n_verified,
                         {"needs_analysis_done": needs_done}),
                KpiValue(k.FUNNEL_ACTIVE_30D, PLACED["funnel"], _share(active, len(month_old)), len(month_old),
                         {"active_at_30_days": active})]

    # ---- engagement -----------------------------------------------------------------------------------

    def weekly_active(self, stage: Stage) -> KpiValue:
        ids = list(PatientProfile.objects.filter(patient__in=self.patients.filter(
            status="active", verified_at__lte=self.now - timedelta(days=7)), stage=stage).values_list("patient_id",
                                                                                                   flat=True))
        active = self._active_ids(self.now - timedelta(days=7), self.now, ids)
        return KpiValue(k.WEEKLY_ACTIVE, stage.code, _share(len(active), len(ids)), len(ids))

    def reach(self) -> list[KpiValue]:
        ids = list(self.patients.filter(status="active", verified_at__lte=self.now).values_list("pk", flat=True))
        out = []
        for channel, kpi in k.REACH.items():
            reached = OutboxMessage.objects.filter(patient_id__in=ids, channel=channel, status="done",
                                                   finished_at__gt=self.now - timedelta(days=30),
                                                   finished_at__lte=self.now).values("patient_id").distinct().count()
            out.append(KpiValue(kpi, PLACED["outcomes"], _share(reached, len(ids)), len(ids)))
        return out

    # ---- care -----------------------------------------------------------------------------------------

    def needs_coverage(self) -> KpiValue:
        mappings = list(NeedMapping.objects.filter(need__program=self.program).select_related("need"))
        tagged: dict[str, set[str]] = defaultdict(set)
        for code, needs in ContentItem.objects.filter(program=self.program).values_list("code", "needs"):
            for need in needs:
                tagged[need].add(code)
        first: dict[int, QuestionnaireResponse] = {}
        for response in QuestionnaireResponse.objects.filter(
                patient__in=self.patients, status="completed", questionnaire__url__in={m.questionnaire_url
                                                                                       for m in mappings},
                completed_at__lte=self.now - timedelta(days=14)) \
                .select_related("questionnaire").only("patient_id", "completed_at", "scores", "questionnaire__url") \
                .order_by("completed_at"):
            first.setdefault(response.patient_id, response)
        delivered: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
        for patient_id, payload, at in OutboxMessage.objects.filter(
                patient_id__in=list(first), status="done", kind="content").values_list("patient_id", "payload",
                                                                                       "finished_at"):
            if at is not None and payload.get("content"):
                delivered[patient_id].append((payload["content"], at))
        covered = 0
        for patient_id, response in first.items():
            values = {s["scale"]: s["value"] for s in response.scores if s.get("value") is not None}
            scored = [(values[m.scale] / m.scale_max, -m.need.position, m.need.code) for m in mappings
                      if m.questionnaire_url == response.questionnaire.url and m.scale in values]
            if not scored:
                continue
            top = max(scored)[2]
            until = response.completed_at + timedelta(days=14)
            covered += any(code in tagged[top] and response.completed_at <= at <= until
                           for code, at in delivered.get(patient_id, []))
        return KpiValue(k.NEEDS_COVERAGE, PLACED["care"], _share(covered, len(first)), len(first))

    def nurse_sla(self) -> KpiValue:
        due = NurseTask.objects.filter(patient__in=self.patients, due_at__lte=self.now,
                                       due_at__gt=self.now - timedelta(days=90)).exclude(status="cancelled")
        met = due.filter(status="done", completed_at__lte=F("due_at")).count()
        total = due.count()
        return KpiValue(k.NURSE_SLA, PLACED["care"], _share(met, total), total,
                        {"overdue_open": due.filter(~Q(status="done")).count()})

    # ---- outcomes -------------------------------------------------------------------------------------

    def who5_change(self) -> KpiValue:
        scores: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
        for patient_id, at, values in QuestionnaireResponse.objects.filter(
                patient__in=self.patients, status="completed", questionnaire__name=WHO5,
                completed_at__lte=self.now).order_by("completed_at") \
                .values_list("patient_id", "completed_at", "scores"):
            value = next((s["value"] for s in values if s.get("scale") == "wellbeing" and s.get("value") is not None),
                         None)
            if value is not None:
                scores[patient_id].append((at, float(value)))
        changes = []
        for answers in scores.values():
            base_at, base = answers[0]
            later = next((v for at, v in answers[1:] if timedelta(days=70) <= at - base_at <= timedelta(days=98)), None)
            if later is not None:
                changes.append(later - base)
        value = round(statistics.fmean(changes), 2) if changes else None
        return KpiValue(k.WHO5_CHANGE, PLACED["outcomes"], value, len(changes))

    def adherence(self) -> KpiValue:
        refills: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        for patient_id, at, data in Event.objects.filter(patient__in=self.patients, type="medication.refilled",
                                                         occurred_at__lte=self.now).order_by("occurred_at") \
                .values_list("patient_id", "occurred_at", "data"):
            refills[patient_id].append((at, int(data.get("days_supply") or 0)))
        adherent = counted = 0
        for fills in refills.values():
            pdc = proportion_of_days_covered(fills, self.now)
            if pdc is None:
                continue
            counted += 1
            adherent += pdc >= 0.8
        return KpiValue(k.ADHERENCE, PLACED["outcomes"], _share(adherent, counted), counted)

    def time_in_stage(self, stages: list[Stage]) -> dict[str, KpiValue]:
        stays: dict[str, list[float]] = defaultdict(list)
        last: dict[int, tuple[str, datetime]] = {}
        for patient_id, at, data in Event.objects.filter(patient__in=self.patients, type="stage.changed",
                                                         occurred_at__lte=self.now) \
                .order_by("patient_id", "occurred_at") \
                .values_list("patient_id", "occurred_at", "data"):
            if patient_id in last:
                stage, since = last[patient_id]
                stays[stage].append((at - since).total_seconds() / 86400)
            last[patient_id] = (data.get("stage", ""), at)
        out = {}
        for stage in stages:
            kpi = k.TIME_IN_STAGE.get(stage.code, k.DEFAULT_TIME_IN_STAGE)
            found = stays.get(stage.code, [])
            median = round(statistics.median(found), 1) if found else None
            out[stage.code] = KpiValue(kpi, stage.code, median, len(found))
        return out

    # ---- the journey ----------------------------------------------------------------------------------

    def by_stage(self) -> dict[str, list[KpiValue]]:
        """The KPIs drawn at each stage, in the program's stage order (KPIs whose stage the program does
        not have go to its first stage; without stages, everything is under "")."""
        stages = list(Stage.objects.filter(program=self.program))
        codes = [s.code for s in stages] or [""]  # a program without stages: one column for all of it
        out: dict[str, list[KpiValue]] = {code: [] for code in codes}
        placed = [*self.funnel(), self.needs_coverage(), self.nurse_sla(), self.who5_change(), self.adherence(),
                  *self.reach()]
        for value in placed:
            out[value.stage if value.stage in out else codes[0]].append(value)
        stays = self.time_in_stage(stages)
        for stage in stages:
            out[stage.code] += [self.weekly_active(stage), stays[stage.code]]
        return out


def proportion_of_days_covered(fills: list[tuple[datetime, int]], now: datetime) -> float | None:
    """Days with medicine on hand over the days since the first fill (at most 180), supply carried
    over from early refills; None when the period is shorter than 8 weeks."""
    if not fills:
        return None
    start = fills[0][0]
    end = min(now, start + timedelta(days=180))
    period = (end - start).days
    if period < 56:
        return None
    covered_until = start
    covered = 0.0
    for at, supply in fills:
        begin = max(at, covered_until)
        stop = min(begin + timedelta(days=supply), end)
        if stop > begin:
            covered += (stop - begin).total_seconds() / 86400
        covered_until = max(covered_until, begin + timedelta(days=supply))
    return min(covered / period, 1.0)
