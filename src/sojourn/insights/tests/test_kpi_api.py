"""The KPI API gives the KPI dashboard's figures (those of its CSV, which like the API leaves the program),
stage by stage and per market, to the roles with insights and in their markets only; a parameter that
does not fit is refused with a 422 naming it."""

from __future__ import annotations

import csv
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from sojourn.core.models import Program
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM
from sojourn.demo.builder import PROGRAM_SLUG
from sojourn.people.services.tokens import issue_api_token
from sojourn.people.tests.factories import make_staff

URL = "/api/v1/programs/{slug}/kpis"


def bearer(user) -> dict[str, str]:
    _row, token = issue_api_token(actor=SYSTEM, user=user, name="reporting")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


pytestmark = [pytest.mark.xdist_group("demo-kpis")]


@pytest.fixture(scope="module")
def simulated(django_db_setup, django_db_blocker):
    """The demo program after two simulated weeks of a small cohort, built once for the module (committed:
    its mail is sent after each commit), as `make demo` builds it."""
    with django_db_blocker.unblock():
        call_command("demo", no_serve=True, patients=30, days=14, seed=5, stdout=StringIO())
        yield Program.objects.get(slug=PROGRAM_SLUG)
        # The rest of the suite expects an empty database, as after any transactional test.
        call_command("flush", interactive=False, verbosity=0)


def staff(email: str):
    return get_user_model().objects.get(username=email)


def dashboard_csv(client, user) -> list[tuple]:
    client.force_login(user)
    rows = csv.DictReader(StringIO(client.get("/console/insights/kpis.csv").content.decode()))
    return [(r["market"], r["stage"], r["kpi"], None if r["value"] == "" else float(r["value"]),
             None if r["patients"] == "" else int(r["patients"]), float(r["target"]), r["status"]) for r in rows]


def api_rows(body: dict) -> list[tuple]:
    return [(m["market"], s["stage"], k["code"], k["value"], k["patients"], k["target"], k["status"])
            for m in body["markets"] for s in m["stages"] for k in s["kpis"]]


@pytest.mark.django_db
def test_the_api_gives_the_dashboards_figures_per_market_and_stage(client, simulated):
    analyst = staff("analyst@demo.sojourn.example")
    response = client.get(URL.format(slug=simulated.slug), **bearer(analyst))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["as_of"] and [m["market"] for m in body["markets"]] == ["CA", "DE", "GB", "JP", "US"]
    figures = api_rows(body)
    assert figures == dashboard_csv(client, analyst)
    shown = [f for f in figures if f[3] is not None]
    assert len(shown) >= 5 and all(patients >= 5 for *_rest, patients, _target, _status in shown)
    assert "" not in {f[1] for f in figures}  # the demo's journey has stages: each KPI sits at one
    one = client.get(URL.format(slug=simulated.slug), {"market": "DE"}, **bearer(analyst)).json()
    assert api_rows(one) == [f for f in figures if f[0] == "DE"]


@pytest.mark.django_db
def test_only_roles_with_insights_see_the_kpis_and_only_in_their_markets(client, simulated):
    url = URL.format(slug=simulated.slug)
    assert client.get(url, **bearer(staff("nurse.de@demo.sojourn.example"))).status_code == 404
    assert client.get(url).status_code == 401
    japan = make_staff("insights.jp@sponsor.example", Role.INSIGHTS_ANALYST, simulated, markets=("JP",))
    mine = client.get(url, **bearer(japan))
    assert [m["market"] for m in mine.json()["markets"]] == ["JP"]
    assert api_rows(mine.json()) == dashboard_csv(client, japan)
    elsewhere = client.get(url, {"market": "DE"}, **bearer(japan))
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "forbidden"


@pytest.mark.django_db
def test_a_market_that_does_not_fit_is_refused_naming_the_parameter(client, simulated):
    analyst = bearer(staff("analyst@demo.sojourn.example"))
    url = URL.format(slug=simulated.slug)
    for market in ("de", "DEU", ""):
        refused = client.get(url + f"?market={market}", **analyst)
        assert refused.status_code == 422
        assert [(d["field"], d["in"]) for d in refused.json()["error"]["details"]] == [("market", "query")]
    unknown = client.get(url, {"market": "FR"}, **analyst)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "market" and "FR" in unknown.json()["error"]["message"]
    assert client.get(URL.format(slug="no-such-program"), **analyst).status_code == 404
