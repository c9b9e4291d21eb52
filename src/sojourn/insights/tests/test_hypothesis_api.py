"""The hypotheses API: propose with a token, read the verdicts in one's markets, precise 422s for a
hypothesis that does not fit, nothing for roles without insights, retire."""

from __future__ import annotations

import pytest

from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM
from sojourn.insights.models import Hypothesis
from sojourn.insights.tests.factories import NEEDS_URL
from sojourn.people.services.tokens import issue_api_token
from sojourn.people.tests.factories import make_staff

BODY = {"stage": "treatment_initiation", "statement": "Half of patients worry about side effects.",
        "metric": {"kind": "answer_share", "questionnaire": NEEDS_URL, "scale": "side_effects", "op": ">=",
                   "value": 2}, "claim": "at_least", "threshold": 0.5}


def bearer(user) -> dict[str, str]:
    _row, token = issue_api_token(actor=SYSTEM, user=user, name="research")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.django_db
def test_propose_read_and_retire_through_the_api(client, cast, cohort):
    analyst = bearer(cast.analyst)
    url = "/api/v1/programs/psoriasis/hypotheses"
    refused = client.post(url, {**BODY, "metric": {**BODY["metric"], "scale": "itch", "op": "=>"}},
                          content_type="application/json", **analyst)
    assert refused.status_code == 422
    assert {d["field"] for d in refused.json()["error"]["details"]} == {"metric.scale", "metric.op"}
    assert not Hypothesis.objects.exists()

    made = client.post(url, BODY, content_type="application/json", **analyst)
    assert made.status_code == 201
    body = made.json()
    verdicts = {v["market"]: v for v in body["verdicts"]}
    assert {m: v["verdict"] for m, v in verdicts.items()} == {
        "CA": "not_enough_data", "DE": "supported", "GB": "refuted", "JP": "not_enough_data", "US": "inconclusive"}
    assert verdicts["DE"]["estimate"] == pytest.approx(0.8) and verdicts["DE"]["patients"] == 25
    assert verdicts["GB"]["estimate"] is None  # four worried: withheld
    assert verdicts["US"]["patients_needed"] == 194 and "Wilson" in body["method"]

    de_only = bearer(make_staff("insights.de@sponsor.example", Role.INSIGHTS_ANALYST, cast.program, ("DE",)))
    listed = client.get(url, **de_only).json()
    assert [[v["market"] for v in h["verdicts"]] for h in listed] == [["DE"]]
    assert listed[0]["verdicts"][0]["adjusted_p_value"] == verdicts["DE"]["adjusted_p_value"]

    assert client.get(url, **bearer(cast.nurse_de)).status_code == 404
    assert client.get(f"/api/v1/hypotheses/{body['id']}", **bearer(cast.outsider)).status_code == 404
    retired = client.post(f"/api/v1/hypotheses/{body['id']}/retirement", **analyst)
    assert retired.status_code == 200 and retired.json()["retired_at"]
    assert client.get(url, **analyst).json() == []
    assert len(client.get(url + "?retired=true", **analyst).json()) == 1
    again = client.post(f"/api/v1/hypotheses/{body['id']}/retirement", **analyst)
    assert again.status_code == 422


@pytest.mark.django_db
def test_hostile_metric_shapes_are_refused_not_crashed_on(client, cast, world):
    analyst = bearer(cast.analyst)
    for metric in ({"kind": ["answer_share"]}, {"kind": "answer_share", "questionnaire": {"x": 1}, "scale": [1],
                                                 "op": ["<"], "value": "2"},
                   {"kind": "event_share", "event": ["content.viewed"], "within_days": True},
                   {"kind": "fact_share", "fact": {"a": 1}}):
        answer = client.post("/api/v1/programs/psoriasis/hypotheses", {**BODY, "metric": metric},
                             content_type="application/json", **analyst)
        assert answer.status_code == 422, metric
        assert all(d["field"].startswith("metric") for d in answer.json()["error"]["details"])
    assert not Hypothesis.objects.exists()
