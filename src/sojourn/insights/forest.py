"""A hypothesis' verdicts as the console draws them: a row per market with its figures in the reader's
language, and a forest plot (estimate and interval per market against the threshold, or against the
other markets pooled) as inline SVG geometry, so that nothing is fetched from the network."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sojourn.insights import statistics as st
from sojourn.insights.verdicts import INCONCLUSIVE, NOT_ENOUGH, REFUTED, SUPPORTED, Evaluation, MarketVerdict

WIDTH, LEFT, RIGHT, ROW = 540, 56, 36, 28


def verdict_word(verdict: str) -> str:
    return {SUPPORTED: _("Supported"), REFUTED: _("Refuted"), INCONCLUSIVE: _("Inconclusive"),
            NOT_ENOUGH: _("Not enough data")}[verdict]


def shown(value: float | None, share: bool) -> str:
    if value is None:
        return "—"
    if share:
        return f"{number_format(value * 100, decimal_pos=1)} %"
    return number_format(value, decimal_pos=2)


def p_shown(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else number_format(value, decimal_pos=3)


@dataclass(frozen=True)
class Row:
    country: str
    verdict: str
    word: str
    n: str
    estimate: str
    interval: str
    others: str
    p_value: str
    adjusted_p: str
    needed: str
    # SVG geometry: the point and its whiskers, None when withheld or not measured.
    x: float | None
    x_low: float | None
    x_high: float | None
    x_others: float | None  # comparisons: the other markets pooled
    y: float


@dataclass(frozen=True)
class Plot:
    width: int
    height: int
    left: int
    right: int
    reference_x: float | None
    reference_label: str
    ticks: list[tuple[float, str]]
    rows: list[Row]


def present(evaluation: Evaluation, countries: set[str] | None = None) -> Plot:
    """Rows for the markets the reader may see (all of them when `countries` is None)."""
    share = evaluation.metric.is_share
    verdicts = [m for m in evaluation.markets if countries is None or m.country in countries]
    threshold = evaluation.hypothesis.threshold
    low, high = _range(verdicts, threshold, share)

    def x(value: float) -> float:
        return round(LEFT + (value - low) / (high - low) * (WIDTH - LEFT - RIGHT), 1)

    rows = []
    for i, m in enumerate(verdicts):
        e = m.estimate
        rows.append(Row(
            m.country, m.verdict, verdict_word(m.verdict), m.n_shown, shown(e.value if e else None, share),
            f"{shown(e.low, share)} – {shown(e.high, share)}" if e else "—",
            shown(m.others.value if m.others else None, share), p_shown(m.p_value), p_shown(m.adjusted_p),
            number_format(m.needed, force_grouping=True) if m.needed else "—",
            x(e.value) if e else None, x(e.low) if e else None, x(e.high) if e else None,
            x(m.others.value) if m.others else None, 20 + i * ROW))
    label = _("threshold") if threshold is not None else _("◇ the other markets pooled")
    ticks = [(x(t), _tick(t, share)) for t in _nice_ticks(low, high)]
    return Plot(WIDTH, 40 + len(rows) * ROW, LEFT, RIGHT, x(threshold) if threshold is not None else None, label,
                ticks, rows)


def _tick(value: float, share: bool) -> str:
    if share:
        return f"{number_format(value * 100, decimal_pos=0)} %"
    return number_format(value, decimal_pos=0 if value == int(value) else 1)


def _nice_ticks(low: float, high: float) -> list[float]:
    """Four or so ticks at round values (steps of 1, 2 or 5 times a power of ten)."""
    rough = (high - low) / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    first = math.ceil(low / step) * step
    return [round(first + k * step, 10) for k in range(int((high - first) / step) + 1)]


def _range(verdicts: list[MarketVerdict], threshold: float | None, share: bool) -> tuple[float, float]:
    if share:
        return 0.0, 1.0
    values: list[float] = [threshold] if threshold is not None else []
    for m in verdicts:
        for e in (m.estimate, m.others):
            if isinstance(e, st.Estimate):
                values += [e.low, e.high]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or 1.0
    return low - pad, high + pad
