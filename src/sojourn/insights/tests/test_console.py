"""Who may see the KPI pages, and in which markets: aggregates for the roles with insights, only in
their markets, nothing for anyone else."""

from __future__ import annotations

import csv
from io import StringIO

import pytest

from sojourn.core.permissions import Role
from sojourn.people.tests.factories import make_staff

PAGES = ("/console/insights/", "/console/insights/compare/", "/console/insights/kpis.csv",
         "/console/insights/report.pdf")


@pytest.mark.django_db
def test_the_kpi_pages_are_for_roles_with_insights_and_only_in_their_markets(client, cast):
    client.force_login(cast.nurse_de)  # nurses work calls; they have no insights
    assert [client.get(url).status_code for url in PAGES] == [403, 403, 403, 403]
    client.force_login(cast.outsider)  # an admin of another program sees that program only
    page = client.get(PAGES[0]).content.decode()
    assert "Eczema companion" in page and "Psoriasis companion" not in page
    client.force_login(cast.analyst)
    assert [client.get(url).status_code for url in PAGES] == [200, 200, 200, 200]
    everywhere = {row["market"] for row in csv.DictReader(StringIO(client.get(PAGES[2]).content.decode()))}
    assert everywhere == {"CA", "DE", "GB", "JP", "US"}

    client.force_login(make_staff("insights.jp@sponsor.example", Role.INSIGHTS_ANALYST, cast.program, markets=("JP",)))
    page = client.get("/console/insights/?market=DE")  # asks for a market outside the grant: shown its own
    assert page.status_code == 200 and 'data-market="JP"' in page.content.decode()
    rows = list(csv.DictReader(StringIO(client.get(PAGES[2]).content.decode())))
    assert rows and {row["market"] for row in rows} == {"JP"}
    compare = client.get(PAGES[1]).content.decode()
    assert "<th scope=\"col\">JP</th>" in compare and "<th scope=\"col\">DE</th>" not in compare
