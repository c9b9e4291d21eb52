"""The hypotheses pages: who may read and propose, the verdicts and forest plot per market in the
reader's markets only, a refused proposal that says which field and saves nothing, and retiring."""

from __future__ import annotations

import re

import pytest

from sojourn.core.permissions import Role
from sojourn.core.tests.svg import svg_problems
from sojourn.insights.models import Hypothesis
from sojourn.insights.tests.factories import NEEDS_URL, worry
from sojourn.people.tests.factories import make_staff
from sojourn.questionnaires.models import Questionnaire

FORM = {"stage": "treatment_initiation", "statement": "At treatment initiation, half of patients worry about side "
        "effects.", "kind": "answer_share", "questionnaire": NEEDS_URL, "scale": "side_effects", "op": ">=",
        "value": "2", "claim": "at_least", "threshold": "0,5", "smallest_difference": "", "alpha": "0.05"}


def verdicts(page: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-market="(\w\w)" data-verdict="(\w+)"', page))


@pytest.mark.django_db
def test_an_analyst_proposes_a_hypothesis_and_reads_its_verdict_per_market(client, cast, cohort):
    client.force_login(cast.nurse_de)
    assert client.get("/console/insights/hypotheses/").status_code == 403
    assert client.post("/console/insights/hypotheses/new/", FORM).status_code == 403
    assert not Hypothesis.objects.exists()

    client.force_login(cast.analyst)
    refused = client.post("/console/insights/hypotheses/new/", {**FORM, "scale": "itch", "threshold": "half"})
    page = refused.content.decode()
    assert refused.status_code == 400
    assert 'id="error-scale"' in page and 'id="error-threshold"' in page and not Hypothesis.objects.exists()
    assert 'value="half"' in page  # what was typed is kept

    made = client.post("/console/insights/hypotheses/new/", FORM)
    hypothesis = Hypothesis.objects.get()
    assert made.status_code == 302 and made.url == f"/console/insights/hypotheses/{hypothesis.pk}/"
    assert (hypothesis.threshold, hypothesis.smallest_difference) == (0.5, 0.1)  # decimal comma read
    page = client.get(made.url).content.decode()
    assert verdicts(page) == {"CA": "not_enough_data", "DE": "supported", "GB": "refuted", "JP": "not_enough_data",
                              "US": "inconclusive"}
    assert page.count('class="forest-row') == 5 and "Wilson" in page
    listing = client.get("/console/insights/hypotheses/").content.decode()
    assert f'data-hypothesis="{hypothesis.pk}"' in listing and 'data-market="DE">DE: Supported' in listing


@pytest.mark.django_db
def test_a_reader_limited_to_one_market_sees_its_verdict_tested_with_every_market(client, cast, cohort):
    hypothesis = worry(cohort)
    client.force_login(cast.analyst)
    everyone = client.get(f"/console/insights/hypotheses/{hypothesis.pk}/").content.decode()
    client.force_login(make_staff("insights.de@sponsor.example", Role.INSIGHTS_ANALYST, cast.program, ("DE",)))
    de_only = client.get(f"/console/insights/hypotheses/{hypothesis.pk}/").content.decode()
    assert verdicts(de_only) == {"DE": "supported"}

    def de_row(page: str) -> str:
        return re.search(r'<tr data-market="DE".*?</tr>', page, re.S).group(0)

    assert de_row(de_only) == de_row(everyone)  # the same Holm-adjusted p: the family does not shrink


@pytest.mark.django_db
def test_retiring_keeps_the_hypothesis_and_takes_it_off_the_list(client, cast, cohort):
    hypothesis = worry(cohort)
    client.force_login(make_staff("agency@sponsor.example", Role.AGENCY_USER, cast.program))
    assert client.post(f"/console/insights/hypotheses/{hypothesis.pk}/").status_code == 302
    hypothesis.refresh_from_db()
    assert hypothesis.retired_at is not None
    listing = client.get("/console/insights/hypotheses/").content.decode()
    assert f'data-hypothesis="{hypothesis.pk}"' not in listing and "1 retired hypothesis" in listing
    assert client.get(f"/console/insights/hypotheses/{hypothesis.pk}/").status_code == 200  # history stays
    client.force_login(cast.outsider)  # another program's admin
    assert client.get(f"/console/insights/hypotheses/{hypothesis.pk}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_forest_plot_is_drawn_in_machine_numbers_in_every_language(client, cast, cohort, language):
    hypothesis = worry(cohort)
    client.force_login(make_staff(f"analyst.{language}@sponsor.example", Role.INSIGHTS_ANALYST, cast.program,
                                  language=language))
    response = client.get(f"/console/insights/hypotheses/{hypothesis.pk}/")
    page = response.content.decode()
    assert response["Content-Language"] == language
    assert page.count('class="forest-point"') >= 2 and 'class="forest-threshold"' in page  # a plot with data
    assert "80,0 %" in page  # the figures beside it are still written the reader's way
    assert svg_problems(page) == []


@pytest.mark.django_db
def test_a_date_that_ends_a_sentence_is_followed_by_one_period(client, cast, cohort):
    from datetime import UTC, datetime

    hypothesis = worry(cohort)
    Hypothesis.objects.filter(pk=hypothesis.pk).update(retired_at=datetime(2026, 12, 5, 9, tzinfo=UTC))
    client.force_login(cast.analyst)  # reads English: times end in "a.m." or "p.m."
    page = client.get(f"/console/insights/hypotheses/{hypothesis.pk}/").content.decode()
    retired = re.search(r"Retired on ([^<]*)</p>", page).group(1)
    assert retired.startswith("Dec. 5, 2026") and re.search(r"[ap]\.m\.$", retired) and not retired.endswith("..")


@pytest.mark.django_db
def test_a_flag_share_is_proposed_from_the_flags_the_programs_questionnaires_declare(client, cast, cohort):
    questionnaire = Questionnaire.objects.get(url=NEEDS_URL)
    questionnaire.scoring = {**questionnaire.scoring, "flags": [
        {"code": "worried", "label": {"en": "Worried about side effects", "de": "Sorgt sich um Nebenwirkungen"},
         "when": [{"scale": "side_effects", "op": ">=", "value": 2}]}]}
    questionnaire.save()
    client.force_login(cast.analyst)
    form = client.get("/console/insights/hypotheses/new/").content.decode()
    assert '<option value="worried">Worried about side effects</option>' in form
    flag = {**FORM, "kind": "flag_share", "flag": "worried", "scale": "", "op": "", "value": ""}
    refused = client.post("/console/insights/hypotheses/new/", {**flag, "flag": "calm"})
    assert refused.status_code == 400 and 'id="error-flag"' in refused.content.decode()
    made = client.post("/console/insights/hypotheses/new/", flag)
    assert made.status_code == 302
    assert Hypothesis.objects.get().metric == {"kind": "flag_share", "questionnaire": NEEDS_URL, "flag": "worried"}
