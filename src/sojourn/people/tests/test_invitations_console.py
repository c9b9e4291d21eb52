"""Invitation cards from the console and the API: a program manager orders a print run, downloads its
codes for the print house and sees how many were used to enroll; others see nothing of it."""

from __future__ import annotations

import csv
import io

import pytest

from sojourn.consent.tests.factories import enroll
from sojourn.people.models import Invitation
from sojourn.people.tests.api import assert_error, bearer

pytestmark = pytest.mark.django_db
PAGE = "/console/invitations/"


def test_a_manager_prints_a_run_downloads_its_codes_and_sees_them_used(client, cast, program):
    client.force_login(cast.admin)
    page = client.get(PAGE)
    assert page.status_code == 200 and "No cards have been printed yet." in page.content.decode()

    done = client.post(PAGE, {"market": "DE", "count": "12", "hcp": "", "batch": ""})
    assert done.status_code == 302
    cards = Invitation.objects.filter(program=program)
    [batch] = set(cards.values_list("batch", flat=True))
    assert cards.count() == 12 and batch.startswith("DE-") and set(cards.values_list("market__country", flat=True)) \
        == {"DE"}

    download = client.get(f"{PAGE}codes.csv", {"market": "DE", "batch": batch})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert sorted(r["code"] for r in rows) == sorted(cards.values_list("code", flat=True))
    assert {r["used"] for r in rows} == {"no"}

    enroll(program, "DE", referral_code=rows[0]["code"], email="card@example.org")
    listed = client.get(PAGE).content.decode()
    assert batch in listed and "<td>12</td><td>1</td>" in listed
    again = csv.DictReader(io.StringIO(client.get(f"{PAGE}codes.csv", {"market": "DE", "batch": batch}).content
                                       .decode()))
    assert {r["code"] for r in again if r["used"] == "yes"} == {rows[0]["code"]}


def test_a_bad_order_is_refused_field_by_field_and_prints_nothing(client, cast, program):
    client.force_login(cast.admin)
    for form, field in (({"market": "DE", "count": "0"}, "count"), ({"market": "DE", "count": "20000"}, "count"),
                        ({"market": "FR", "count": "5"}, "market"), ({"market": "DE", "count": "5", "hcp": "H-NOBODY"},
                                                                      "hcp"),
                        ({"market": "DE", "count": "5", "batch": "x" * 81}, "batch"),
                        ({"market": "DE", "count": "5", "batch": "=HYPERLINK(\"http://x\")"}, "batch")):
        refused = client.post(PAGE, form)
        assert refused.status_code == 400, form
        assert refused.context["form"].errors.get(field), (form, refused.context["form"].errors)
    assert not Invitation.objects.exists()


def test_staff_who_do_not_manage_the_program_see_no_cards(client, cast, program):
    client.force_login(cast.admin)
    client.post(PAGE, {"market": "DE", "count": "3", "batch": "spring"})
    client.force_login(cast.nurse_de)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}codes.csv", {"market": "DE", "batch": "spring"}).status_code == 403
    assert client.post(PAGE, {"market": "DE", "count": "3"}).status_code == 403
    assert Invitation.objects.count() == 3
    assert "Invitations" not in client.get("/console/").content.decode()


def test_the_api_prints_a_run_and_lists_the_runs_with_their_use(client, cast, program):
    auth = bearer(cast.admin)["Authorization"]
    url = f"/api/v1/programs/{program.slug}/invitations"
    made = client.post(url, {"market": "US", "count": 4, "batch": "fall"}, content_type="application/json",
                       HTTP_AUTHORIZATION=auth)
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["market"], body["batch"], body["hcp"], len(body["codes"])) == ("US", "fall", None, 4)
    enroll(program, "US", referral_code=body["codes"][0], email="fall@example.org")
    runs = client.get(url, HTTP_AUTHORIZATION=auth).json()
    assert runs["count"] == 1 and (runs["items"][0]["cards"], runs["items"][0]["used"]) == (4, 1)

    assert_error(client.post(url, {"market": "US", "count": 2, "hcp": "H-NOBODY"}, content_type="application/json",
                             HTTP_AUTHORIZATION=auth), 422, "invalid")["details"][0]["field"] == "hcp"
    bad = assert_error(client.post(url, {"market": "US", "count": 0}, content_type="application/json",
                                   HTTP_AUTHORIZATION=auth), 422, "invalid")
    assert bad["details"][0]["field"] == "count"
    nurse = bearer(cast.nurse_de)["Authorization"]
    assert client.get(url, HTTP_AUTHORIZATION=nurse).status_code == 403
    assert client.post(url, {"market": "DE", "count": 2}, content_type="application/json",
                       HTTP_AUTHORIZATION=nurse).status_code == 403
    assert Invitation.objects.count() == 4
