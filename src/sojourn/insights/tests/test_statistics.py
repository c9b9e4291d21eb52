"""Every statistic a verdict rests on, checked against SciPy's own functions on fixed data."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from sojourn.insights import statistics as st

# Fixed data: WHO-5 scores of two small groups, with ties, as a market's answers look.
GROUP_A = [48, 52, 60, 44, 36, 72, 56, 48, 64, 40, 52, 68, 44, 60, 56]
GROUP_B = [40, 36, 44, 52, 28, 48, 40, 32, 56, 44, 36, 48]


@pytest.mark.parametrize(("successes", "n"), [(0, 12), (3, 12), (57, 120), (118, 120), (400, 1000), (1, 1)])
def test_wilson_interval_is_scipys(successes: int, n: int) -> None:
    ours = st.wilson_interval(successes, n)
    theirs = stats.binomtest(successes, n).proportion_ci(0.95, method="wilson")
    assert ours.value == pytest.approx(successes / n)
    assert (ours.low, ours.high) == pytest.approx((theirs.low, theirs.high), abs=1e-12)
    ninety = stats.binomtest(successes, n).proportion_ci(0.90, method="wilson")
    assert (st.wilson_interval(successes, n, 0.90).low) == pytest.approx(ninety.low, abs=1e-12)


@pytest.mark.parametrize(("successes", "n", "threshold"), [(57, 120, 0.5), (30, 120, 0.5), (9, 40, 0.1), (70, 70, 0.8)])
def test_proportion_test_is_pearsons_goodness_of_fit(successes: int, n: int, threshold: float) -> None:
    theirs = stats.chisquare([successes, n - successes], f_exp=[n * threshold, n * (1 - threshold)])
    assert st.proportion_test(successes, n, threshold) == pytest.approx(theirs.pvalue, rel=1e-9)


def test_the_threshold_lies_outside_wilsons_interval_exactly_when_the_score_test_rejects() -> None:
    for successes in range(0, 61):
        interval = st.wilson_interval(successes, 60)
        outside = not interval.low <= 0.5 <= interval.high
        assert outside == (st.proportion_test(successes, 60, 0.5) < 0.05), successes


def test_mean_interval_and_test_are_scipys_one_sample_t_test() -> None:
    theirs = stats.ttest_1samp(GROUP_A, 50)
    ours = st.mean_interval(GROUP_A)
    interval = theirs.confidence_interval(0.95)
    assert ours.value == pytest.approx(sum(GROUP_A) / len(GROUP_A))
    assert (ours.low, ours.high) == pytest.approx((interval.low, interval.high), rel=1e-12)
    assert st.mean_test(GROUP_A, 50) == pytest.approx(theirs.pvalue, rel=1e-9)
    assert st.mean_test(GROUP_B, 50) == pytest.approx(stats.ttest_1samp(GROUP_B, 50).pvalue, rel=1e-9)


def test_a_mean_of_identical_values() -> None:
    assert st.mean_test([3, 3, 3], 3) == 1.0
    assert st.mean_test([3, 3, 3], 2) == 0.0


@pytest.mark.parametrize("table", [
    [[30, 70], [45, 55]],
    [[12, 88], [30, 70], [22, 78], [41, 59], [9, 31]],  # five markets
    [[5, 10, 15], [20, 10, 5]],
])
def test_chi_square_is_scipys_without_continuity_correction(table: list[list[int]]) -> None:
    statistic, p_value, dof, _ = stats.chi2_contingency(table, correction=False)
    ours = st.chi_square(table)
    assert ours.statistic == pytest.approx(statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(p_value, rel=1e-9)
    assert ours.dof == dof


def test_chi_square_refuses_an_empty_row() -> None:
    with pytest.raises(ValueError, match="every row and column"):
        st.chi_square([[0, 0], [3, 4]])


def test_mann_whitney_is_scipys_and_says_which_group_tends_higher() -> None:
    theirs = stats.mannwhitneyu(GROUP_A, GROUP_B, alternative="two-sided")
    ours = st.mann_whitney(GROUP_A, GROUP_B)
    assert ours.u == theirs.statistic
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-12)
    assert ours.superiority > 0.5  # A's scores are higher
    assert st.mann_whitney(GROUP_B, GROUP_A).superiority == pytest.approx(1 - ours.superiority)


def test_holm_adjusts_step_down() -> None:
    # Sorted 0.01, 0.03, 0.04 of three: ×3, ×2 (then kept monotone), ×1.
    assert st.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert st.holm([0.2, 0.6]) == pytest.approx([0.4, 0.6])
    assert st.holm([0.5, 0.9, 0.01, 0.02]) == pytest.approx([1.0, 1.0, 0.04, 0.06])
    assert st.holm([]) == []


def test_sample_size_for_a_proportion_reaches_the_power_it_promises() -> None:
    n = st.sample_size_proportion(0.6, 0.5)
    assert n == 194  # the textbook figure for 60 % against 50 %, two-sided 5 %, power 80 %

    def power(size: int) -> float:
        # Exact power of the score test at this size, from the binomial distribution.
        rejected = [k for k in range(size + 1) if st.proportion_test(k, size, 0.5) < 0.05]
        return float(sum(stats.binom.pmf(k, size, 0.6) for k in rejected))

    assert power(n) >= 0.78
    assert power(n // 2) < 0.6


def test_sample_size_for_a_mean_reaches_the_power_it_promises() -> None:
    n = st.sample_size_mean(sd=10, difference=5)
    # The t-test's power at that size, from SciPy's noncentral t distribution.
    critical = stats.t.ppf(0.975, n - 1)
    noncentrality = 5 / (10 / math.sqrt(n))
    power = stats.nct.sf(critical, n - 1, noncentrality) + stats.nct.cdf(-critical, n - 1, noncentrality)
    assert 0.8 <= power < 0.83


def test_sample_size_for_two_proportions() -> None:
    # Fleiss' figure for 40 % against 50 %: 388 a group before continuity correction.
    assert st.sample_size_two_proportions(0.4, 0.5) == 388


@pytest.mark.parametrize(("call", "message"), [
    (lambda: st.wilson_interval(3, 0), "n > 0"),
    (lambda: st.proportion_test(3, 10, 1.0), "strictly between"),
    (lambda: st.mean_interval([1.0]), "two values"),
    (lambda: st.sample_size_proportion(0.5, 0.5), "no difference"),
])
def test_impossible_questions_are_refused(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_sample_size_for_two_means_reaches_the_power_it_promises() -> None:
    n = st.sample_size_two_means(sd=10, difference=5)
    # The two-sample t-test's power with n a group, from SciPy's noncentral t distribution.
    dof = 2 * n - 2
    critical = stats.t.ppf(0.975, dof)
    noncentrality = 5 / (10 * math.sqrt(2 / n))
    power = stats.nct.sf(critical, dof, noncentrality) + stats.nct.cdf(-critical, dof, noncentrality)
    assert 0.8 <= power < 0.82
