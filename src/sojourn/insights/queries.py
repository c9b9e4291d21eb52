"""KPIs of a market, stage by stage of the journey: aggregates over the journey facts derived from
events, answers and messages (`facts.py`, kept current by `services.facts.refresh_journey_facts`) and over
the nurse calls. No identity is read, and a figure behind fewer than five patients is not shown.

Definitions (as of a moment, `now` by default):
- funnel: invited = invitation cards handed out at least 30 days ago, of which those used to enroll;
  consented = patients who signed; confirmed = of those, verified their email; needs analysis
  done = of the confirmed, completed a questionnaire mapped onto needs; active at 30 days = of those
  confirmed at least 30 days ago, not withdrawn by day 30 and with a meaningful interaction in days
  16–30.
- weekly active: of the active patients now in the stage (confirmed at least 7 days ago), those with
  a meaningful interaction in the last 7 days.
- reach per channel: of the active patients, those to whom a message on the channel was delivered in
  the last 30 days (for the printed magazine: a copy the print house delivered in the last 100 days).
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

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Greatest, Least
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from sojourn.channels.models import NurseTask
from sojourn.consent.queries import patients_granting
from sojourn.core.models import Market, Program
from sojourn.insights import kpis as k
from sojourn.insights.facts import day_number
from sojourn.insights.kpis import KpiValue
from sojourn.insights.models import FactsMark, JourneyFacts, StageStay
from sojourn.people.models import Invitation
from sojourn.safety.models import CaseForwarding, Intake
from sojourn.tracking.models import Stage


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def facts_as_of(program: Program) -> datetime | None:
    """When the journey facts were last brought up to date."""
    return FactsMark.objects.filter(program=program).values_list("refreshed_at", flat=True).first()


class MarketKpis:
    """Every KPI of one market as of a moment (now by default, and never before the facts' last refresh:
    the facts hold the latest state of each patient)."""

    def __init__(self, program: Program, country: str, now: datetime | None = None, *,
                 purposes: tuple[str, ...] = ()) -> None:
        """`purposes`: count only patients who granted them (an export's, consent.purposes.EXPORT_PURPOSES)."""
        self.program, self.country, self.now = program, country, now or timezone.now()
        market = Market.objects.filter(country=country).values_list("pk", flat=True).first()
        self.facts = JourneyFacts.objects.filter(program=program, market_id=market, consented_at__lte=self.now)
        if purposes:
            self.facts = self.facts.filter(patient_id__in=patients_granting(purposes))
        self.market_id = market
        self.targets = program.kpi_targets or {}
        self._stages: list[str] | None = None
        self._by_stage: dict[int | None, dict[str, Any]] | None = None

    # ---- one pass over the facts -------------------------------------------------------------------

    def _counted(self) -> dict[int | None, dict[str, Any]]:
        """Every count the facts give, per stage, in one pass over the market's rows (each further
        pass over a large market costs as much again)."""
        if self._by_stage is not None:
            return self._by_stage
        now, week_ago, month_ago = self.now, self.now - timedelta(days=7), self.now - timedelta(days=30)
        today = day_number(now)
        horizon = F("first_refill_day") + 180
        # Days covered as of now: the stored coverage less what of its last stretch is still ahead.
        had = F("covered_days") - Greatest(Value(0.0), Least(F("covered_until_day"), horizon) - Value(today))
        period = Least(Value(today), horizon) - F("first_refill_day")
        refilled_long_enough = LessThanOrEqual(F("first_refill_day"), Value(today - 56))
        active_now = Q(status="active", confirmed_at__lte=now)
        counts = {
            "consented": Count("pk"), "confirmed": Count("pk", filter=Q(confirmed_at__lte=now)),
            "needs_done": Count("pk", filter=Q(confirmed_at__lte=now, needs_done_at__lte=now)),
            "month_old": Count("pk", filter=Q(confirmed_at__lte=month_ago)),
            "active_30": Count("pk", filter=Q(confirmed_at__lte=month_ago, active_at_30_days=True)),
            "week_old": Count("pk", filter=Q(status="active", confirmed_at__lte=week_ago)),
            "weekly_active": Count("pk", filter=Q(status="active", confirmed_at__lte=week_ago,
                                                  last_meaningful_at__gt=week_ago, last_meaningful_at__lte=now)),
            "active": Count("pk", filter=active_now),
            **{f"reached_{c}": Count("pk", filter=active_now & Q(**{
                f"reached_{c}_at__gt": now - timedelta(days=k.REACH_DAYS[c]), f"reached_{c}_at__lte": now}))
               for c in k.REACH},
            "analysed": Count("pk", filter=Q(needs_done_at__lte=now - timedelta(days=14)) & ~Q(top_need="")),
            "served": Count("pk", filter=Q(needs_done_at__lte=now - timedelta(days=14), top_need_served=True)
                            & ~Q(top_need="")),
            "who5_n": Count("who5_change"), "who5_sum": Sum("who5_change"),
            "refilling": Count("pk", filter=refilled_long_enough),
            "adherent": Count("pk", filter=refilled_long_enough & GreaterThanOrEqual(had, period * 0.8)),
        }
        self._by_stage = {row["stage_id"]: row for row in self.facts.values("stage_id").annotate(**counts)
                          .order_by()}
        return self._by_stage

    def _value(self, kpi: k.Kpi, stage: str, value: float | None, n: int,
               detail: dict[str, Any] | None = None) -> KpiValue:
        """The KPI's value, judged against the target the program's definition sets for it here."""
        return KpiValue(k.targeted(kpi, self.targets, stage, self.country), stage, value, n, detail or {})

    def _placed_value(self, kpi: k.Kpi, value: float | None, n: int,
                      detail: dict[str, Any] | None = None) -> KpiValue:
        """A KPI measured across the journey, at the stage it sits at (kpis.placed)."""
        if self._stages is None:
            self._stages = list(Stage.objects.filter(program=self.program).order_by("position", "code")
                                .values_list("code", flat=True))
        return self._value(kpi, k.placed(kpi, self.targets, self._stages), value, n, detail)

    def _total(self, name: str) -> Any:
        return sum(row[name] or 0 for row in self._counted().values())

    # ---- funnel ---------------------------------------------------------------------------------------

    def funnel(self) -> list[KpiValue]:
        month_ago = self.now - timedelta(days=30)
        cards = Invitation.objects.filter(program=self.program, market_id=self.market_id,
                                          issued_at__lte=month_ago).aggregate(
            n=Count("pk"), used=Count("pk", filter=Q(accepted_at__lte=self.now)))
        consented, confirmed, needs_done = (self._total(n) for n in ("consented", "confirmed", "needs_done"))
        month_old, active = self._total("month_old"), self._total("active_30")
        return [self._placed_value(k.FUNNEL_INVITED, _share(cards["used"], cards["n"]), cards["n"],
                                   {"invited": cards["n"], "enrolled": cards["used"]}),
                self._placed_value(k.FUNNEL_VERIFIED, _share(confirmed, consented), consented,
                                   {"consented": consented, "confirmed": confirmed}),
                self._placed_value(k.FUNNEL_NEEDS, _share(needs_done, confirmed), confirmed,
                                   {"needs_analysis_done": needs_done}),
                self._placed_value(k.FUNNEL_ACTIVE_30D, _share(active, month_old), month_old,
                                   {"active_at_30_days": active})]

    # ---- engagement -----------------------------------------------------------------------------------

    def weekly_active(self, stage: Stage) -> KpiValue:
        row = self._counted().get(stage.pk, {})
        n = row.get("week_old", 0)
        return self._value(k.WEEKLY_ACTIVE, stage.code, _share(row.get("weekly_active", 0), n), n)

    def reach(self) -> list[KpiValue]:
        n = self._total("active")
        return [self._placed_value(kpi, _share(self._total(f"reached_{channel}"), n), n)
                for channel, kpi in k.REACH.items()]

    # ---- care -----------------------------------------------------------------------------------------

    def needs_coverage(self) -> KpiValue:
        n = self._total("analysed")
        return self._placed_value(k.NEEDS_COVERAGE, _share(self._total("served"), n), n)

    def nurse_sla(self) -> KpiValue:
        f = NurseTask.objects.filter(program=self.program, patient__market_id=self.market_id, due_at__lte=self.now,
                                     due_at__gt=self.now - timedelta(days=90)).exclude(status="cancelled").aggregate(
            n=Count("pk"), met=Count("pk", filter=Q(status="done", completed_at__lte=F("due_at"))),
            overdue_open=Count("pk", filter=~Q(status="done")))
        return self._placed_value(k.NURSE_SLA, _share(f["met"], f["n"]), f["n"],
                                  {"overdue_open": f["overdue_open"]})

    def ae_forwarded(self) -> KpiValue:
        """Intakes whose deadline passed in the last 90 days, except those a person found not to be an
        adverse event, duplicates of a case's report (counted once, with it) and those whose case was
        nullified: the share whose case version reached drug safety in time (an undecided one counts
        against)."""
        in_time = CaseForwarding.objects.filter(case=OuterRef("case"), version__gte=OuterRef("case_version"),
                                                forwarded_at__lte=OuterRef("due_at"))
        f = (Intake.objects.filter(program=self.program, market_id=self.market_id, due_at__lte=self.now,
                                   due_at__gt=self.now - timedelta(days=90))
             .exclude(status__in=[Intake.Status.NOT_AE, Intake.Status.DUPLICATE])
             .filter(Q(case__isnull=True) | ~Q(case__status="nullified"))
             .aggregate(n=Count("pk"), met=Count("pk", filter=Exists(in_time)),
                        undecided=Count("pk", filter=Q(status=Intake.Status.OPEN))))
        return self._placed_value(k.AE_FORWARDED, _share(f["met"], f["n"]), f["n"],
                                  {"undecided": f["undecided"]})

    # ---- outcomes -------------------------------------------------------------------------------------

    def who5_change(self) -> KpiValue:
        n = self._total("who5_n")
        return self._placed_value(k.WHO5_CHANGE, round(self._total("who5_sum") / n, 2) if n else None, n)

    def adherence(self) -> KpiValue:
        n = self._total("refilling")
        return self._placed_value(k.ADHERENCE, _share(self._total("adherent"), n), n)

    def time_in_stage(self, stages: list[Stage]) -> dict[str, KpiValue]:
        out = {}
        for stage in stages:
            # Index only (program, market, stage, days): stays are finished, so all lie before now.
            stays = StageStay.objects.filter(program=self.program, market_id=self.market_id, stage=stage.code)
            n = stays.count()
            middle = list(stays.order_by("days").values_list("days", flat=True)[(n - 1) // 2:n // 2 + 1]) if n else []
            median = round(sum(middle) / len(middle), 1) if middle else None
            out[stage.code] = self._value(k.TIME_IN_STAGE, stage.code, median, n)
        return out

    # ---- the journey ----------------------------------------------------------------------------------

    def by_stage(self) -> dict[str, list[KpiValue]]:
        """The KPIs drawn at each stage, in the program's stage order (KPIs whose stage the program does
        not have go to its first stage; without stages, everything is under "")."""
        stages = list(Stage.objects.filter(program=self.program))
        codes = [s.code for s in stages] or [""]  # a program without stages: one column for all of it
        out: dict[str, list[KpiValue]] = {code: [] for code in codes}
        placed = [*self.funnel(), self.needs_coverage(), self.nurse_sla(), self.ae_forwarded(), self.who5_change(),
                  self.adherence(), *self.reach()]
        for value in placed:
            out[value.stage if value.stage in out else codes[0]].append(value)
        stays = self.time_in_stage(stages)
        for stage in stages:
            out[stage.code] += [self.weekly_active(stage), stays[stage.code]]
        return out

