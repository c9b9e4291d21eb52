"""The statistics hypotheses are tested with: intervals, tests and sample sizes, each the textbook
method named in its docstring. SciPy supplies the distributions and Mann–Whitney's exact and
asymptotic p-values; what is ours is how the figures are put together, and the tests check every
function against SciPy's own on fixed data.

Each interval is the inversion of the test beside it (Wilson's interval and the score test; the t
interval and the one-sample t-test), so a threshold lies outside the interval exactly when the test
rejects it: what the forest plot shows and the verdict say the same thing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Estimate:
    """A proportion with Wilson's score interval (good near 0 and 1 and for small n, unlike Wald's)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 ≤ successes ≤ n and n > 0, got {successes} of {n}")
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def proportion_test(successes: int, n: int, threshold: float) -> float:
    """Two-sided p-value of the score test of a proportion against `threshold` (the test Wilson's
    interval inverts; equal to Pearson's goodness-of-fit chi-square on the two counts)."""
    if not 0 < threshold < 1:
        raise ValueError(f"a proportion's threshold lies strictly between 0 and 1, got {threshold}")
    if n <= 0:
        raise ValueError("no observations")
    z = (successes / n - threshold) / math.sqrt(threshold * (1 - threshold) / n)
    return float(2 * stats.norm.sf(abs(z)))


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """A mean with Student's t interval."""
    n = len(values)
    if n < 2:
        raise ValueError("a mean's interval needs at least two values")
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def mean_test(values: Sequence[float], threshold: float) -> float:
    """Two-sided p-value of the one-sample t-test of the mean against `threshold`."""
    n = len(values)
    if n < 2:
        raise ValueError("a t-test needs at least two values")
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    if sd == 0:
        return 1.0 if mean == threshold else 0.0
    t = (mean - threshold) / (sd / math.sqrt(n))
    return float(2 * stats.t.sf(abs(t), n - 1))


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    dof: int
    p_value: float


def chi_square(table: Sequence[Sequence[int]]) -> ChiSquare:
    """Pearson's chi-square test of independence on a table of counts (rows: groups, columns:
    outcomes), without Yates' continuity correction, so that a 2 × 2 table gives the same p-value as
    comparing the two proportions with a z-test."""
    rows = [list(map(int, row)) for row in table]
    if len(rows) < 2 or len({len(row) for row in rows}) != 1 or len(rows[0]) < 2:
        raise ValueError("a chi-square table needs at least two rows of the same length, two columns or more")
    row_totals = [sum(row) for row in rows]
    column_totals = [sum(column) for column in zip(*rows, strict=True)]
    total = sum(row_totals)
    if 0 in row_totals or 0 in column_totals:
        raise ValueError("every row and column of a chi-square table needs a count")
    statistic = math.fsum(
        (observed - row_totals[i] * column_totals[j] / total) ** 2 / (row_totals[i] * column_totals[j] / total)
        for i, row in enumerate(rows) for j, observed in enumerate(row))
    dof = (len(rows) - 1) * (len(rows[0]) - 1)
    return ChiSquare(statistic, dof, float(stats.chi2.sf(statistic, dof)))


@dataclass(frozen=True)
class MannWhitney:
    u: float  # U of the first sample
    p_value: float
    # Probability that a value of the first sample beats one of the second (ties count half): above
    # 0.5 means the first sample tends higher. The effect size readers understand.
    superiority: float


def mann_whitney(first: Sequence[float], second: Sequence[float]) -> MannWhitney:
    """Two-sided Mann–Whitney U test (SciPy chooses the exact distribution for small samples
    without ties and the normal approximation with tie correction otherwise)."""
    if not first or not second:
        raise ValueError("Mann–Whitney needs values in both samples")
    result = stats.mannwhitneyu(first, second, alternative="two-sided")
    u = float(result.statistic)
    return MannWhitney(u, float(result.pvalue), u / (len(first) * len(second)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment for testing the same hypothesis in several markets: controls the
    chance of any false "supported" across them, and is never less powerful than Bonferroni."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def sample_size_proportion(expected: float, threshold: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Patients needed for the score test to tell `expected` from `threshold` (two-sided `alpha`)
    with the given power."""
    if expected == threshold:
        raise ValueError("no difference to detect")
    z_alpha, z_beta = _z(1 - alpha), float(stats.norm.ppf(power))
    root = (z_alpha * math.sqrt(threshold * (1 - threshold))
            + z_beta * math.sqrt(expected * (1 - expected))) / (expected - threshold)
    return math.ceil(root * root)


def sample_size_mean(sd: float, difference: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Values needed for the t-test to detect a mean `difference` away from the threshold, given the
    standard deviation: the normal formula plus z²/2 for estimating the deviation (Guenther's)."""
    if difference == 0 or sd <= 0:
        raise ValueError("need a difference to detect and a positive standard deviation")
    z_alpha, z_beta = _z(1 - alpha), float(stats.norm.ppf(power))
    return math.ceil(((z_alpha + z_beta) * sd / difference) ** 2 + z_alpha * z_alpha / 2)


def sample_size_two_proportions(first: float, second: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Patients needed in each of two groups to tell two proportions apart (pooled-variance z-test)."""
    if first == second:
        raise ValueError("no difference to detect")
    z_alpha, z_beta = _z(1 - alpha), float(stats.norm.ppf(power))
    pooled = (first + second) / 2
    root = (z_alpha * math.sqrt(2 * pooled * (1 - pooled))
            + z_beta * math.sqrt(first * (1 - first) + second * (1 - second))) / (first - second)
    return math.ceil(root * root)


def sample_size_two_means(sd: float, difference: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Values needed in each of two groups for the two-sample t-test to detect `difference`; a
    Mann–Whitney test needs about 1/0.955 as many on normal data, and fewer on skewed data."""
    if difference == 0 or sd <= 0:
        raise ValueError("need a difference to detect and a positive standard deviation")
    z_alpha, z_beta = _z(1 - alpha), float(stats.norm.ppf(power))
    return math.ceil(2 * ((z_alpha + z_beta) * sd / difference) ** 2 + z_alpha * z_alpha / 4)
