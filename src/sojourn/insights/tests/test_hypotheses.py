"""Journey hypotheses tested on hand-built patients with known answers: the figures are SciPy's on the
same numbers, the verdict per market follows the Holm-adjusted test, small cells are withheld, and a
hypothesis that does not fit the program is refused with the field at fault."""

from __future__ import annotations

import pytest
from scipy import stats

from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import Market
from sojourn.core.models.audit import AuditEntry
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM, actor_with
from sojourn.insights.models import Hypothesis
from sojourn.insights.services.hypotheses import propose_hypothesis, retire_hypothesis
from sojourn.insights.tests.factories import NEEDS_URL, NOW, SCORES, days, event, patient, worry
from sojourn.insights.verdicts import evaluate
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse


def markets(program):
    return list(Market.objects.filter(program_markets__program=program).order_by("country"))


@pytest.mark.django_db
def test_a_share_against_a_threshold_is_judged_per_market_with_holm_across_them(cohort):
    result = evaluate(worry(cohort), markets(cohort["program"]), NOW)
    by = {row.country: row for row in result.markets}
    assert {c: by[c].n for c in by} == {"CA": 0, "DE": 25, "GB": 20, "JP": 6, "US": 12}
    # SciPy on the same counts: Wilson's interval, and the score test as Pearson's goodness of fit.
    p = {c: stats.chisquare([k, n - k], f_exp=[n / 2, n / 2]).pvalue for c, k, n in
         (("DE", 20, 25), ("GB", 4, 20), ("US", 6, 12))}
    wilson = stats.binomtest(20, 25).proportion_ci(0.95, method="wilson")
    assert by["DE"].estimate.value == pytest.approx(0.8)
    assert (by["DE"].estimate.low, by["DE"].estimate.high) == pytest.approx((wilson.low, wilson.high))
    assert {c: by[c].p_value for c in p} == pytest.approx(p)
    # Holm over the three markets with enough data: smallest ×3, next ×2, largest ×1 (kept monotone).
    assert p["DE"] < p["GB"] < p["US"]
    assert by["DE"].adjusted_p == pytest.approx(3 * p["DE"])
    assert by["GB"].adjusted_p == pytest.approx(2 * p["GB"])
    assert by["US"].adjusted_p == pytest.approx(1.0)
    assert {c: by[c].verdict for c in by} == {"DE": "supported", "GB": "refuted", "US": "inconclusive",
                                              "JP": "not_enough_data", "CA": "not_enough_data"}
    # Only four GB patients worry: the figures would single them out, the verdict does not.
    assert by["GB"].estimate is None
    # What a conclusive answer would need: US if the difference were the smallest that matters (10
    # points), JP likewise; nothing is needed where the verdict is in.
    assert by["US"].needed == 194 and by["JP"].needed is not None and by["DE"].needed is None
    assert by["JP"].n_shown == "6" and by["CA"].n_shown == "0"


@pytest.mark.django_db
def test_a_mean_against_a_threshold_is_student_t(cohort):
    result = evaluate(worry(cohort, claim="at_most", threshold=1.5, smallest_difference=0.5, kind="answer_mean",
                            questionnaire=NEEDS_URL, scale="side_effects"), markets(cohort["program"]), NOW)
    by = {row.country: row for row in result.markets}
    test = stats.ttest_1samp(SCORES["US"], 1.5)
    interval = test.confidence_interval(0.95)
    assert by["US"].estimate.value == pytest.approx(sum(SCORES["US"]) / 12)
    assert (by["US"].estimate.low, by["US"].estimate.high) == pytest.approx((interval.low, interval.high))
    assert by["US"].p_value == pytest.approx(test.pvalue)
    assert by["DE"].verdict == "refuted" and by["GB"].verdict == "supported"
    assert "Student" in result.method


@pytest.mark.django_db
def test_a_market_against_the_others_pooled(cohort):
    result = evaluate(worry(cohort, claim="higher", threshold=None), markets(cohort["program"]), NOW)
    by = {row.country: row for row in result.markets}
    # DE against GB, US and JP pooled, 2 × 2 chi-square without continuity correction.
    others_yes = 4 + 6 + 4
    others_n = 20 + 12 + 6
    _, p_value, _, _ = stats.chi2_contingency([[20, 5], [others_yes, others_n - others_yes]], correction=False)
    assert by["DE"].p_value == pytest.approx(p_value)
    assert by["DE"].others.value == pytest.approx(others_yes / others_n)
    assert by["DE"].verdict == "supported" and by["GB"].verdict == "refuted"
    assert by["JP"].verdict == "not_enough_data"
    overall = stats.chi2_contingency([[20, 5], [4, 16], [6, 6]], correction=False)[1]
    assert result.overall_p == pytest.approx(overall)

    values = evaluate(worry(cohort, claim="lower", threshold=None, smallest_difference=0.5, kind="answer_mean",
                            questionnaire=NEEDS_URL, scale="side_effects"), markets(cohort["program"]), NOW)
    gb = values.verdict_in("GB")
    rest = SCORES["DE"] + SCORES["US"] + SCORES["JP"]
    assert gb.p_value == pytest.approx(stats.mannwhitneyu(SCORES["GB"], rest, alternative="two-sided").pvalue)
    assert gb.verdict == "supported" and "Mann–Whitney" in values.method


@pytest.mark.django_db
def test_an_event_within_days_of_entering_the_stage(world):
    entered = []
    for n in range(15):
        who = patient(world, "DE")
        event(who, "stage.changed", days(40), stage="daily_management")
        entered.append(who)
        if n < 10:
            event(who, "content.viewed", days(40 - 2 - n), content="x")  # within 30 days: 10 of 15
    event(entered[10], "content.viewed", days(5), content="x")  # 35 days after entering: too late
    recent = patient(world, "DE")
    event(recent, "stage.changed", days(10), stage="daily_management")  # window not over yet: not counted
    hypothesis = propose_hypothesis(
        actor=SYSTEM, program=world["program"], stage="daily_management", statement="Most read within a month.",
        metric={"kind": "event_share", "event": "content.viewed", "within_days": 30}, claim="at_least",
        threshold=0.5)
    de = evaluate(hypothesis, markets(world["program"]), NOW).verdict_in("DE")
    assert (de.n, de.estimate.value) == (15, pytest.approx(10 / 15))


@pytest.mark.django_db
def test_a_flag_share_counts_the_patients_whose_first_answer_in_the_stage_raised_it(cohort):
    """The same cohort, its worry now also a flag the questionnaire declares: the flag's share is the
    score's share, patient for patient (first answer in the stage, the later ones do not count)."""
    questionnaire = Questionnaire.objects.get(url=NEEDS_URL)
    questionnaire.scoring = {**questionnaire.scoring, "flags": [
        {"code": "worried", "when": [{"scale": "side_effects", "op": ">=", "value": 2}]}]}
    questionnaire.save()
    for response in QuestionnaireResponse.objects.filter(questionnaire=questionnaire):
        response.flags = ["worried"] if response.scores[0]["value"] >= 2 else []
        response.save()
    by_score = evaluate(worry(cohort), markets(cohort["program"]), NOW)
    by_flag = evaluate(worry(cohort, kind="flag_share", questionnaire=NEEDS_URL, flag="worried"),
                       markets(cohort["program"]), NOW)
    assert [(r.country, r.n, r.verdict, r.p_value) for r in by_flag.markets] == \
        [(r.country, r.n, r.verdict, r.p_value) for r in by_score.markets]
    assert by_flag.verdict_in("DE").estimate.value == pytest.approx(0.8)


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "field"), [
    ({"stage": "remission"}, "stage"),
    ({"statement": "  "}, "statement"),
    ({"metric": {"kind": "answer_share", "questionnaire": "https://example.org/nope", "scale": "x", "op": ">=",
                 "value": 1}}, "metric.questionnaire"),
    ({"metric": {"kind": "answer_share", "questionnaire": NEEDS_URL, "scale": "itch", "op": ">=", "value": 1}},
     "metric.scale"),
    ({"metric": {"kind": "answer_share", "questionnaire": NEEDS_URL, "scale": "side_effects", "op": "=>",
                 "value": 1}}, "metric.op"),
    ({"metric": {"kind": "answer_mean", "questionnaire": NEEDS_URL, "scale": "side_effects", "sql": "1"}},
     "metric.sql"),
    ({"metric": {"kind": "flag_share", "questionnaire": NEEDS_URL, "flag": "self_harm_thoughts"}}, "metric.flag"),
    ({"metric": {"kind": "flag_share", "questionnaire": NEEDS_URL, "scale": "side_effects"}}, "metric.scale"),
    ({"metric": {"kind": "event_share", "event": "content.teleported", "within_days": 30}}, "metric.event"),
    ({"metric": {"kind": "event_share", "event": "content.viewed", "within_days": 0}}, "metric.within_days"),
    ({"metric": {"kind": "fact_mean", "fact": "covered_days"}}, "metric.fact"),
    ({"metric": "share of worried"}, "metric"),
    ({"claim": "about"}, "claim"),
    ({"threshold": 50}, "threshold"),  # a share's threshold is a proportion
    ({"threshold": None}, "threshold"),
    ({"claim": "higher", "threshold": 0.5}, "threshold"),
    ({"smallest_difference": 0}, "smallest_difference"),
    ({"alpha": 0.5}, "alpha"),
    ({"alpha": float("nan")}, "alpha"),
])
def test_a_hypothesis_that_does_not_fit_the_program_is_refused_with_the_field(world, change, field):
    arguments = {"stage": "treatment_initiation", "statement": "Half worry.", "claim": "at_least",
                 "threshold": 0.5, "metric": {"kind": "answer_share", "questionnaire": NEEDS_URL,
                                              "scale": "side_effects", "op": ">=", "value": 2}}
    arguments.update(change)
    with pytest.raises(InvalidInput) as refused:
        propose_hypothesis(actor=SYSTEM, program=world["program"], **arguments)
    assert field in [d.field for d in refused.value.details]
    assert not Hypothesis.objects.exists()


@pytest.mark.django_db
def test_who_may_propose_and_retire_and_the_audit_trail(world):
    nurse = actor_with(Role.NURSE, world["program"], ("DE",))
    with pytest.raises(AccessDenied):
        propose_hypothesis(
            actor=nurse, program=world["program"], stage="diagnosis", statement="x", claim="higher",
            metric={"kind": "fact_share", "fact": "active_at_30_days"})
    analyst = actor_with(Role.INSIGHTS_ANALYST, world["program"], ("DE",))
    hypothesis = propose_hypothesis(actor=analyst, program=world["program"], stage="diagnosis",
                                    statement="Japan keeps more patients.", claim="higher",
                                    metric={"kind": "fact_share", "fact": "active_at_30_days"})
    assert hypothesis.smallest_difference == 0.1  # ten points by default for a share
    retire_hypothesis(actor=analyst, hypothesis=hypothesis)
    with pytest.raises(InvalidInput):
        retire_hypothesis(actor=analyst, hypothesis=hypothesis)
    actions = list(AuditEntry.objects.filter(subject_type="hypothesis").values_list("action", flat=True))
    assert actions == ["hypothesis.proposed", "hypothesis.retired"]


@pytest.mark.django_db
def test_a_difference_too_small_to_ever_detect_needs_no_figure_rather_than_a_crash(cohort):
    hypothesis = propose_hypothesis(
        actor=SYSTEM, program=cohort["program"], stage="treatment_initiation", statement="Scores sit at 1.5.",
        metric={"kind": "answer_mean", "questionnaire": NEEDS_URL, "scale": "side_effects"}, claim="at_most",
        threshold=sum(SCORES["US"]) / 12, smallest_difference=1e-300)
    us = evaluate(hypothesis, markets(cohort["program"]), NOW).verdict_in("US")
    assert (us.verdict, us.needed) == ("inconclusive", None)
