"""KPIs of a market, stage by stage of the journey: aggregates over the journey facts derived from
events, answers and messages (`facts.py`, kept current by `services.refresh_journey_facts`) and over
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

from datetime import datetime, timedelta

from django.db.models import Avg, Count, F, Q, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from sojourn.channels.models import NurseTask
from sojourn.core.models import Market, Program
from sojourn.insights import kpis as k
from sojourn.insights.facts import day_number
from sojourn.insights.kpis import KpiValue
from sojourn.insights.models import FactsMark, JourneyFacts, StageStay
from sojourn.people.models import Invitation
from sojourn.tracking.models import Stage

PLACED = {"funnel": "diagnosis", "care": "treatment_initiation", "outcomes": "daily_management"}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def facts_as_of(program: Program) -> datetime | None:
    """When the journey facts were last brought up to date."""
    return FactsMark.objects.filter(program=program).values_list("refreshed_at", flat=True).first()


class MarketKpis:
    """Every KPI of one market as of a moment (now by default, and never before the facts' last refresh:
    the facts hold the latest state of each patient)."""

    def __init__(self, program: Program, country: str, now: datetime | None = None) -> None:
        self.program, self.country, self.now = program, country, now or timezone.now()
        market = Market.objects.filter(country=country).values_list("pk", flat=True).first()
        self.facts = JourneyFacts.objects.filter(program=program, market_id=market, consented_at__lte=self.now)
        self.market_id = market

    # ---- funnel ---------------------------------------------------------------------------------------

    def funnel(self) -> list[KpiValue]:
        now, month_ago = self.now, self.now - timedelta(days=30)
        f = self.facts.aggregate(
            consented=Count("pk"), confirmed=Count("pk", filter=Q(confirmed_at__lte=now)),
            needs_done=Count("pk", filter=Q(confirmed_at__lte=now, needs_done_at__lte=now)),
            month_old=Count("pk", filter=Q(confirmed_at__lte=month_ago)),
            active=Count("pk", filter=Q(confirmed_at__lte=month_ago, active_at_30_days=True)))
        cards = Invitation.objects.filter(program=self.program, market_id=self.market_id,
                                          issued_at__lte=month_ago).aggregate(
            n=Count("pk"), used=Count("pk", filter=Q(accepted_at__lte=now)))
        return [KpiValue(k.FUNNEL_INVITED, PLACED["funnel"], _share(cards["used"], cards["n"]), cards["n"],
                         {"invited": cards["n"], "enrolled": cards["used"]}),
                KpiValue(k.FUNNEL_VERIFIED, PLACED["funnel"], _share(f["confirmed"], f["consented"]), f["consented"],
                         {"consented": f["consented"], "confirmed": f["confirmed"]}),
                KpiValue(k.FUNNEL_NEEDS, PLACED["funnel"], _share(f["needs_done"], f["confirmed"]), f["confirmed"],
                         {"needs_analysis_done": f["needs_done"]}),
                KpiValue(k.FUNNEL_ACTIVE_30D, PLACED["funnel"], _share(f["active"], f["month_old"]), f["month_old"],
                         {"active_at_30_days": f["active"]})]

    # ---- engagement -----------------------------------------------------------------------------------

    def weekly_active_by_stage(self) -> dict[int, tuple[int, int]]:
        """Stage id: (active in the last 7 days, active patients confirmed at least a week ago)."""
        week_ago = self.now - timedelta(days=7)
        return {row["stage_id"]: (row["active"], row["n"]) for row in self.facts.filter(
            status="active", confirmed_at__lte=week_ago, stage__isnull=False).values("stage_id").annotate(
            n=Count("pk"), active=Count("pk", filter=Q(last_meaningful_at__gt=week_ago,
                                                       last_meaningful_at__lte=self.now)))}

    def weekly_active(self, stage: Stage, counted: dict[int, tuple[int, int]] | None = None) -> KpiValue:
        active, n = (counted if counted is not None else self.weekly_active_by_stage()).get(stage.pk, (0, 0))
        return KpiValue(k.WEEKLY_ACTIVE, stage.code, _share(active, n), n)

    def reach(self) -> list[KpiValue]:
        since = self.now - timedelta(days=30)
        f = self.facts.filter(status="active", confirmed_at__lte=self.now).aggregate(
            n=Count("pk"), **{channel: Count("pk", filter=Q(**{f"reached_{channel}_at__gt": since,
                                                                 f"reached_{channel}_at__lte": self.now}))
                              for channel in k.REACH})
        return [KpiValue(kpi, PLACED["outcomes"], _share(f[channel], f["n"]), f["n"])
                for channel, kpi in k.REACH.items()]

    # ---- care -----------------------------------------------------------------------------------------

    def needs_coverage(self) -> KpiValue:
        f = self.facts.filter(needs_done_at__lte=self.now - timedelta(days=14)).exclude(top_need="").aggregate(
            n=Count("pk"), served=Count("pk", filter=Q(top_need_served=True)))
        return KpiValue(k.NEEDS_COVERAGE, PLACED["care"], _share(f["served"], f["n"]), f["n"])

    def nurse_sla(self) -> KpiValue:
        f = NurseTask.objects.filter(program=self.program, patient__market_id=self.market_id, due_at__lte=self.now,
                                     due_at__gt=self.now - timedelta(days=90)).exclude(status="cancelled").aggregate(
            n=Count("pk"), met=Count("pk", filter=Q(status="done", completed_at__lte=F("due_at"))),
            overdue_open=Count("pk", filter=~Q(status="done")))
        return KpiValue(k.NURSE_SLA, PLACED["care"], _share(f["met"], f["n"]), f["n"],
                        {"overdue_open": f["overdue_open"]})

    # ---- outcomes -------------------------------------------------------------------------------------

    def who5_change(self) -> KpiValue:
        f = self.facts.filter(who5_change__isnull=False).aggregate(n=Count("pk"), mean=Avg("who5_change"))
        return KpiValue(k.WHO5_CHANGE, PLACED["outcomes"], round(f["mean"], 2) if f["n"] else None, f["n"])

    def adherence(self) -> KpiValue:
        today = day_number(self.now)
        horizon = F("first_refill_day") + 180
        # Days covered as of now: the stored coverage less what of its last stretch is still ahead.
        ahead = Greatest(Value(0.0), Least(F("covered_until_day"), horizon) - Value(today))
        period = Least(Value(today), horizon) - F("first_refill_day")
        counted = self.facts.filter(first_refill_day__lte=today - 56)
        n = counted.count()
        adherent = counted.alias(had=F("covered_days") - ahead, period=period).filter(
            had__gte=0.8 * F("period")).count() if n else 0
        return KpiValue(k.ADHERENCE, PLACED["outcomes"], _share(adherent, n), n)

    def time_in_stage(self, stages: list[Stage]) -> dict[str, KpiValue]:
        out = {}
        for stage in stages:
            stays = StageStay.objects.filter(program=self.program, market_id=self.market_id, stage=stage.code,
                                             left_at__lte=self.now)
            n = stays.count()
            middle = list(stays.order_by("days").values_list("days", flat=True)[(n - 1) // 2:n // 2 + 1]) if n else []
            median = round(sum(middle) / len(middle), 1) if middle else None
            out[stage.code] = KpiValue(k.TIME_IN_STAGE.get(stage.code, k.DEFAULT_TIME_IN_STAGE), stage.code, median, n)
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
        weekly = self.weekly_active_by_stage()
        for stage in stages:
            out[stage.code] += [self.weekly_active(stage, weekly), stays[stage.code]]
        return out

