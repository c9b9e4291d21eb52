"""An insights analyst opens the KPI dashboard of the simulated demo program: every stage of the journey
shows its KPIs with a status in words for every market, the markets compare side by side, and the
figures download as CSV and as a PDF report."""

from __future__ import annotations

import csv
from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from sojourn.core.models import Market
from sojourn.demo.builder import DEMO_PASSWORD, build_demo
from sojourn.demo.folder import PSORIASIS
from sojourn.simulation.runner import simulate
from sojourn.tracking.models import Stage
from tests.browser.helpers import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
STATUSES = {"green", "amber", "red", "none"}


def test_the_dashboard_shows_kpis_at_every_stage_for_every_market_and_compares_them(chromium, live_server):
    program = build_demo()
    simulate(program=program, population=PSORIASIS.population, patients=90, days=45, seed=2,
             start=timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=45))
    stages = list(Stage.objects.filter(program=program).values_list("code", flat=True))
    countries = sorted(Market.objects.filter(program_markets__program=program).values_list("country", flat=True))

    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/console/sign-in/")
    page.get_by_label("Email").fill("analyst@demo.sojourn.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")
    page.get_by_role("link", name="KPIs").click()
    page.wait_for_selector("#journey")
    assert serious_violations(page) == []

    for country in countries:
        page.get_by_label("Market").last.select_option(country)
        page.get_by_role("button", name="Show").click()
        page.wait_for_selector(f"#journey[data-market='{country}']")
        drawn = page.locator("#journey > li.stage")
        assert [drawn.nth(i).get_attribute("data-stage") for i in range(drawn.count())] == stages
        assert page.locator("#journey h2").all_inner_texts() == [
            "Diagnosis", "Treatment initiation", "Daily management", "Switching"]
        for code in stages:
            tiles = page.locator(f"li.stage[data-stage='{code}'] li.kpi")
            assert tiles.count() >= 2, (country, code)
            for i in range(tiles.count()):
                tile = tiles.nth(i)
                assert tile.get_attribute("data-status") in STATUSES
                assert tile.locator(".kpi-status").inner_text().strip()  # the status in words, not colour only
        values = page.locator("#journey .kpi-value").all_inner_texts()
        assert any(v.strip() != "—" for v in values), country  # figures, not only "not enough data"

    page.get_by_role("link", name="Compare markets").click()
    page.wait_for_selector("#comparison")
    headers = page.locator("#comparison thead th").all_inner_texts()
    assert headers[3:] == countries
    rows = page.locator("#comparison tbody tr")
    assert {rows.nth(i).get_attribute("data-stage") for i in range(rows.count())} == set(stages)
    assert page.locator("#comparison tbody td[data-status]").count() == rows.count() * len(countries)
    assert serious_violations(page) == []

    exported = page.request.get("/console/insights/kpis.csv")
    assert exported.ok and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(StringIO(exported.text())))
    assert {r["market"] for r in table} == set(countries) and {r["stage"] for r in table} == set(stages)
    assert all(r["status"] in STATUSES for r in table)
    report = page.request.get("/console/insights/report.pdf")
    assert report.ok and report.body().startswith(b"%PDF")
    context.close()
