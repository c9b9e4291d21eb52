"""A hypothesis tested against the data, market by market.

The test fits the metric and the claim: a share against a threshold is Wilson's interval with the score
test, a mean against a threshold is Student's t; a market against the other markets pooled is a 2 × 2
chi-square for a share and Mann–Whitney's U for values. The markets are one family: p-values are
adjusted with Holm's method across every market with enough data (whoever looks at them), so testing
five markets does not make a false "supported" five times as likely.

Verdict per market: *supported* when the adjusted test rejects and the estimate lies on the claimed
side, *refuted* when it rejects on the other side, *inconclusive* otherwise, and *not enough data*
below ten patients; the last two say how many patients a conclusive answer needs if the difference
is what was observed (at least the hypothesis' smallest difference that matters). Figures resting on
a cell of fewer than five patients are withheld.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.models import Market
from sojourn.insights import statistics as st
from sojourn.insights.metrics import Metric, Sample, Shares, Values, measure
from sojourn.insights.models import Hypothesis

MINIMUM = 10  # patients in a market before it gets a verdict
SMALL_CELL = 5  # figures resting on fewer patients than this are withheld

SUPPORTED, REFUTED, INCONCLUSIVE, NOT_ENOUGH = "supported", "refuted", "inconclusive", "not_enough_data"


@dataclass(frozen=True)
class MarketVerdict:
    country: str
    n: int
    verdict: str
    estimate: st.Estimate | None  # None when withheld or not measured
    others: st.Estimate | None  # comparisons: the other markets pooled
    p_value: float | None
    adjusted_p: float | None
    needed: int | None  # patients a conclusive answer needs, when it is not conclusive

    @property
    def n_shown(self) -> str:
        return str(self.n) if self.n >= SMALL_CELL or self.n == 0 else _("fewer than %(n)d") % {"n": SMALL_CELL}


@dataclass(frozen=True)
class Evaluation:
    hypothesis: Hypothesis
    metric: Metric
    method: str
    markets: list[MarketVerdict]
    overall_p: float | None  # comparisons of a share: chi-square across every market with enough data
    measured_at: datetime

    def verdict_in(self, country: str) -> MarketVerdict | None:
        return next((m for m in self.markets if m.country == country), None)


def method_of(metric: Metric, claim: str) -> str:
    comparing = claim in (Hypothesis.Claim.HIGHER, Hypothesis.Claim.LOWER)
    if metric.is_share and not comparing:
        return _("share with Wilson's interval, score test against the threshold, Holm across markets")
    if not comparing:
        return _("mean with Student's t interval, one-sample t-test against the threshold, Holm across markets")
    if metric.is_share:
        return _("each market against the others pooled: chi-square test on the 2 × 2 table, Holm across markets")
    return _("each market against the others pooled: Mann–Whitney U test, Holm across markets")


def evaluate(hypothesis: Hypothesis, markets: list[Market], now: datetime | None = None) -> Evaluation:
    """Test the hypothesis in each of the program's `markets` (all of them: the Holm family must not
    depend on who looks; filter the rows for the viewer afterwards)."""
    now = now or timezone.now()
    metric = Metric(**hypothesis.metric)
    samples = measure(metric, hypothesis.program, hypothesis.stage, now)
    confidence = 1 - hypothesis.alpha
    comparing = hypothesis.claim in (Hypothesis.Claim.HIGHER, Hypothesis.Claim.LOWER)
    family = {m.country for m in markets}
    samples = {c: s for c, s in samples.items() if c in family}
    tested: dict[str, tuple[float, st.Estimate, st.Estimate | None, bool]] = {}
    sizes: dict[str, int] = {}
    for market in markets:
        country = market.country
        sample = samples.get(country)
        sizes[country] = sample.n if sample else 0
        if sample is None or sizes[country] < MINIMUM:
            continue
        if comparing:
            others = _others(samples, country)
            if others is None or others.n < MINIMUM:
                continue
            tested[country] = _compare(sample, others, confidence, hypothesis.claim)
        else:
            tested[country] = _against_threshold(sample, hypothesis.threshold, confidence, hypothesis.claim)
    adjusted = dict(zip(tested, st.holm([t[0] for t in tested.values()]), strict=True))
    rows = []
    for market in markets:
        country = market.country
        sample = samples.get(country)
        if country not in tested:
            rows.append(MarketVerdict(country, sizes[country], NOT_ENOUGH, None, None, None, None,
                                      _needed(hypothesis, metric, sample, _others(samples, country))))
            continue
        p_value, estimate, others, claimed_side = tested[country]
        rejected = adjusted[country] < hypothesis.alpha
        verdict = (SUPPORTED if claimed_side else REFUTED) if rejected else INCONCLUSIVE
        withheld = _withheld(sample) or (others is not None and _withheld(_others(samples, country)))
        rows.append(MarketVerdict(
            country, sizes[country], verdict, None if withheld else estimate, None if withheld else others,
            p_value, adjusted[country],
            None if rejected else _needed(hypothesis, metric, sample, _others(samples, country))))
    overall = None
    if comparing and metric.is_share:
        table = [[s.successes, s.n - s.successes] for c, s in samples.items()
                 if c in tested and isinstance(s, Shares)]
        if len(table) >= 2 and all(sum(col) for col in zip(*table, strict=True)):
            overall = st.chi_square(table).p_value
    return Evaluation(hypothesis, metric, method_of(metric, hypothesis.claim), rows, overall, now)


def _against_threshold(sample: Sample, threshold: float | None, confidence: float,
                       claim: str) -> tuple[float, st.Estimate, None, bool]:
    assert threshold is not None
    if isinstance(sample, Shares):
        estimate = st.wilson_interval(sample.successes, sample.n, confidence)
        p_value = st.proportion_test(sample.successes, sample.n, threshold)
    else:
        estimate = st.mean_interval(sample.values, confidence)
        p_value = st.mean_test(sample.values, threshold)
    above = estimate.value > threshold
    return p_value, estimate, None, above if claim == Hypothesis.Claim.AT_LEAST else estimate.value < threshold


def _compare(sample: Sample, others: Sample, confidence: float, claim: str) -> tuple[float, st.Estimate,
                                                                                      st.Estimate, bool]:
    if isinstance(sample, Shares) and isinstance(others, Shares):
        estimate = st.wilson_interval(sample.successes, sample.n, confidence)
        pooled = st.wilson_interval(others.successes, others.n, confidence)
        table = [[sample.successes, sample.n - sample.successes], [others.successes, others.n - others.successes]]
        # Nobody (or everybody) meets the condition anywhere: no difference to find.
        p_value = st.chi_square(table).p_value if all(sum(c) for c in zip(*table, strict=True)) else 1.0
        higher = estimate.value > pooled.value
        lower = estimate.value < pooled.value
    else:
        assert isinstance(sample, Values) and isinstance(others, Values)
        estimate = st.mean_interval(sample.values, confidence)
        pooled = st.mean_interval(others.values, confidence)
        test = st.mann_whitney(sample.values, others.values)
        p_value = test.p_value
        higher, lower = test.superiority > 0.5, test.superiority < 0.5
    return p_value, estimate, pooled, higher if claim == Hypothesis.Claim.HIGHER else lower


def _others(samples: dict[str, Sample], country: str) -> Sample | None:
    """The other markets' samples as one."""
    rest = [s for c, s in samples.items() if c != country]
    if not rest:
        return None
    if all(isinstance(s, Shares) for s in rest):
        return Shares(sum(s.successes for s in rest), sum(s.n for s in rest))  # type: ignore[union-attr]
    return Values(tuple(v for s in rest for v in s.values))  # type: ignore[union-attr]


def _withheld(sample: Sample | None) -> bool:
    """A share whose yes or no count is under five patients would let a reader single them out."""
    if sample is None:
        return True
    if isinstance(sample, Shares):
        return min(sample.successes, sample.n - sample.successes) < SMALL_CELL
    return sample.n < SMALL_CELL


def _needed(hypothesis: Hypothesis, metric: Metric, sample: Sample | None, others: Sample | None) -> int | None:
    """Patients a conclusive answer needs in this market if the difference is what was observed, and
    at least the smallest difference that matters."""
    smallest = hypothesis.smallest_difference
    alpha = hypothesis.alpha
    comparing = hypothesis.claim in (Hypothesis.Claim.HIGHER, Hypothesis.Claim.LOWER)
    claimed_up = hypothesis.claim in (Hypothesis.Claim.AT_LEAST, Hypothesis.Claim.HIGHER)
    try:
        if metric.is_share:
            observed = sample.successes / sample.n if isinstance(sample, Shares) and sample.n else None
            if comparing:
                if not isinstance(others, Shares) or not others.n:
                    return None
                base = others.successes / others.n
            else:
                base = float(hypothesis.threshold)  # type: ignore[arg-type]
            difference = max(abs(observed - base), smallest) if observed is not None else smallest
            up = observed > base if observed is not None and observed != base else claimed_up
            expected = min(0.999, max(0.001, base + difference if up else base - difference))
            if comparing:
                return st.sample_size_two_proportions(expected, base, alpha)
            return st.sample_size_proportion(expected, base, alpha)
        values = sample.values if isinstance(sample, Values) else ()
        if len(values) < 2:
            return None  # no spread to plan with yet
        mean = math.fsum(values) / len(values)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
        if comparing:
            if not isinstance(others, Values) or not others.n:
                return None
            base = math.fsum(others.values) / others.n
            return st.sample_size_two_means(sd, max(abs(mean - base), smallest), alpha) if sd > 0 else None
        return st.sample_size_mean(sd, max(abs(mean - float(hypothesis.threshold)), smallest), alpha) \
            if sd > 0 else None  # type: ignore[arg-type]
    except (ValueError, ArithmeticError):  # no difference, no spread, or one too small to ever detect
        return None
