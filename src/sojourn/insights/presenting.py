"""KPI values as the dashboard, the comparison, the CSV and the PDF show them: formatted in the
reader's language, with a status word for screen readers and a bar drawn against the target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sojourn.insights.kpis import KpiValue


def status_word(status: str) -> str:
    return {"green": _("On target"), "amber": _("Close to target"), "red": _("Off target"),
            "none": _("Not enough data")}[status]


def formatted(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return f"{number_format(value * 100, decimal_pos=0)} %"
    if unit == "points":
        return ("+" if value > 0 else "") + number_format(value, decimal_pos=1)
    return _("%(days)s days") % {"days": number_format(value, decimal_pos=0)}


@dataclass(frozen=True)
class Tile:
    code: str
    label: str
    shown: str
    target: str
    n: int
    status: str
    word: str
    bar: int  # 0–100: the value against twice the target (the target sits at the middle)
    detail: dict[str, Any]


def tile(value: KpiValue) -> Tile:
    kpi = value.kpi
    shown = value.shown
    target = f"{'≥' if kpi.higher_is_better else '≤'} {formatted(kpi.target, kpi.unit)}"
    bar = 0
    if shown is not None and kpi.target:
        bar = max(0, min(100, round(50 * shown / kpi.target)))
    return Tile(kpi.code, str(kpi.label), formatted(shown, kpi.unit), target, value.n, value.status,
                status_word(value.status), bar, value.detail if shown is not None else {})
