"""The program's KPIs: what each measures, where on the journey it is drawn, its target and how its
red/amber/green status is decided. Values are always computed from the data (`queries.py`), never
stored by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext_lazy as _

MIN_CELL = 5  # fewer patients than this behind a figure: it is not shown (privacy) and has no status


@dataclass(frozen=True)
class Kpi:
    code: str
    label: Any  # lazily translated
    unit: str  # share (0–1), days, points
    target: float
    higher_is_better: bool = True
    amber: float = 0.1  # how far short of the target is still amber (in the KPI's unit)

    def status(self, value: float | None, n: int) -> str:
        if value is None or n < MIN_CELL:
            return "none"
        gap = (self.target - value) if self.higher_is_better else (value - self.target)
        if gap <= 0:
            return "green"
        return "amber" if gap <= self.amber else "red"


@dataclass(frozen=True)
class KpiValue:
    kpi: Kpi
    stage: str
    value: float | None  # None when there is not enough data (or fewer than MIN_CELL patients)
    n: int  # the patients (or calls, or stays) behind it
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.kpi.status(self.value, self.n)

    @property
    def shown(self) -> float | None:
        return self.value if self.n >= MIN_CELL else None


FUNNEL_INVITED = Kpi("funnel_invited", _("Invitation cards used to enroll"), "share", 0.5)
FUNNEL_VERIFIED = Kpi("funnel_verified", _("Confirmed their email after consenting"), "share", 0.9)
FUNNEL_NEEDS = Kpi("funnel_needs", _("Needs analysis done after confirming"), "share", 0.7)
FUNNEL_ACTIVE_30D = Kpi("funnel_active_30d", _("Active at 30 days"), "share", 0.6)
NEEDS_COVERAGE = Kpi("needs_coverage", _("Top need served within 14 days"), "share", 0.8)
NURSE_SLA = Kpi("nurse_sla", _("Nurse calls made before their deadline"), "share", 0.9, amber=0.05)
# Pharmacovigilance expects every one; a few points short is already an inspection finding.
AE_FORWARDED = Kpi("ae_forwarded", _("Possible adverse events at drug safety by their deadline"), "share", 0.95,
                   amber=0.04)
WEEKLY_ACTIVE = Kpi("weekly_active", _("Active in the last 7 days"), "share", 0.3)
REACH = {channel: Kpi(f"reach_{channel}", label, "share", target) for channel, label, target in (
    ("web", _("Reached on the personal page in 30 days"), 0.7),
    ("email", _("Reached by email in 30 days"), 0.5),
    ("sms", _("Reached by text message in 30 days"), 0.3),
    ("print", _("Reached by the printed magazine in 100 days"), 0.3),
)}
# A quarterly magazine reaches a reader once in 91 days, plus the post's few days.
REACH_DAYS = {"web": 30, "email": 30, "sms": 30, "print": 100}
ADHERENCE = Kpi("adherence_pdc", _("Adherent: 80 % or more of days covered"), "share", 0.7)
WHO5_CHANGE = Kpi("who5_change", _("WHO-5 change from baseline to week 12"), "points", 5.0, amber=3.0)
# How long patients stay in a stage is good or bad depending on the stage: a program's definition
# sets the target per stage (kpis.time_in_stage.stages), as the demo's does.
TIME_IN_STAGE = Kpi("time_in_stage", _("Median days in this stage"), "days", 90, higher_is_better=False, amber=30)

# Every KPI by its code: what a program definition may set targets for.
KPIS: dict[str, Kpi] = {kpi.code: kpi for kpi in (
    FUNNEL_INVITED, FUNNEL_VERIFIED, FUNNEL_NEEDS, FUNNEL_ACTIVE_30D, NEEDS_COVERAGE, NURSE_SLA, AE_FORWARDED,
    WEEKLY_ACTIVE, *REACH.values(), ADHERENCE, WHO5_CHANGE, TIME_IN_STAGE)}


# Where the KPIs measured across the journey sit on it (the dashboard's row, the journey map's
# stage): the funnel at the first stage, care at the second, outcomes at the third, by the order of
# the program's stages. A definition places a KPI elsewhere with `placed_at`. The other KPIs
# (weekly activity, time in stage) are measured at every stage.
PLACES: dict[str, int] = {
    **dict.fromkeys((FUNNEL_INVITED.code, FUNNEL_VERIFIED.code, FUNNEL_NEEDS.code, FUNNEL_ACTIVE_30D.code), 0),
    **dict.fromkeys((NEEDS_COVERAGE.code, NURSE_SLA.code, AE_FORWARDED.code), 1),
    **dict.fromkeys((*(kpi.code for kpi in REACH.values()), WHO5_CHANGE.code, ADHERENCE.code), 2),
}


def placed(kpi: Kpi, targets: Mapping[str, Any], stages: list[str]) -> str:
    """The stage (code) a KPI measured across the journey sits at: the definition's `placed_at`, else
    its place by the order of `stages` (the last stage when there are fewer); "" without stages."""
    chosen = (targets.get(kpi.code) or {}).get("placed_at")
    if chosen in stages:
        return chosen
    return stages[min(PLACES.get(kpi.code, 0), len(stages) - 1)] if stages else ""


def targeted(kpi: Kpi, targets: Mapping[str, Any], stage: str, country: str) -> Kpi:
    """The KPI with the target (and amber margin) the program's definition sets for it: the
    program's, else the default; a stage's over the program's; a market's over both."""
    entry = targets.get(kpi.code) or {}
    chosen: dict[str, float] = {}
    for level in (entry, (entry.get("stages") or {}).get(stage) or {}, (entry.get("markets") or {}).get(country) or {}):
        chosen.update({key: float(level[key]) for key in ("target", "amber") if level.get(key) is not None})
    return replace(kpi, **chosen) if chosen else kpi
