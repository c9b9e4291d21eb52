"""Console: an editor writes a draft in two languages, a reviewer comments, returns, approves with a
code and expiry; the list warns of approvals ending; a nurse sees none of it."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.tests.factories import SELF, enroll
from sojourn.content.models import ContentItem, ContentVersion
from sojourn.content.tests.factories import approved_item
from sojourn.core.actors import Actor
from sojourn.core.permissions import Role
from sojourn.people.models import Patient
from sojourn.people.tests.factories import make_staff
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.taxonomy import define_need


def signed_in(client, user):
    client.force_login(user)
    return client


def test_written_in_two_languages_reviewed_by_someone_else_and_approved(client, cast, program):
    define_need(actor=cast_system(), program=program, code="itch", labels={"en": "Itch"})
    reviewer = make_staff("mlr@sponsor.example", Role.CONTENT_REVIEWER, program)
    editor = signed_in(client, cast.admin)
    created = editor.post("/console/content/", {"code": "itch-tips", "kind": "tip", "title": "Itch tips",
                                                "needs": ["itch"]})
    assert created.status_code == 302 and ContentItem.objects.get().needs == ["itch"]
    refused = editor.post("/console/content/itch-tips/", {
        "de-DE:title": "Juckreiz", "de-DE:body": "Hallo {given_name}, kühlen hilft.",
        "en-GB:title": "Itch", "en-GB:body": "Cooling helps."})
    page = refused.content.decode()
    assert refused.status_code == 422 and "{given_name} is missing here but used in de-DE" in page
    assert "Hallo {given_name}, kühlen hilft." in page  # what was typed stays in the form
    assert not ContentVersion.objects.get().variants.exists()
    saved = editor.post("/console/content/itch-tips/", {
        "de-DE:title": "Juckreiz", "de-DE:body": "Hallo {given_name}, kühlen hilft.",
        "en-GB:title": "Itch", "en-GB:body": "Hello {given_name}, cooling helps."})
    assert saved.status_code == 302
    editor.post("/console/content/itch-tips/step/", {"step": "submit", "version": "1"})
    own = editor.post("/console/content/itch-tips/step/", {"step": "approve", "version": "1",
                                                            "approval_code": "PSO-DE-0001",
                                                            "expires_on": "2099-01-01"}, follow=True)
    assert "Whoever wrote or submitted a version cannot approve it." in own.content.decode()
    client.logout()
    mlr = signed_in(client, reviewer)
    mlr.post("/console/content/itch-tips/step/", {"step": "comment", "version": "1", "text": "Fair balance?"})
    mlr.post("/console/content/itch-tips/step/", {"step": "return", "version": "1", "text": "Add the warning."})
    assert ContentVersion.objects.get().status == "draft"
    client.logout()
    signed_in(client, cast.admin).post("/console/content/itch-tips/step/", {"step": "submit", "version": "1"})
    client.logout()
    expires = (timezone.localdate() + timedelta(days=20)).isoformat()
    bad = signed_in(client, reviewer).post("/console/content/itch-tips/step/", {
        "step": "approve", "version": "1", "approval_code": "PSO-DE-0001", "expires_on": "not a date"}, follow=True)
    assert "The expiry date must be after today." in bad.content.decode()
    done = client.post("/console/content/itch-tips/step/", {"step": "approve", "version": "1",
                                                             "approval_code": "PSO-DE-0001", "expires_on": expires},
                       follow=True)
    page = done.content.decode()
    assert "Approved: patients can now receive it." in page
    assert "Fair balance?" in page and "Add the warning." in page
    version = ContentVersion.objects.get()
    assert (version.status, version.approval_code, version.expires_on.isoformat()) == ("approved", "PSO-DE-0001",
                                                                                       expires)
    listing = client.get("/console/content/").content.decode()
    assert 'id="expiring"' in listing and "PSO-DE-0001" in listing  # ends within 30 days


def test_a_new_version_is_diffed_against_the_last(client, cast, program):
    approved_item(program, "itch-tips", "tip", {"en-GB": {"title": "Itch", "body": "Cooling helps."}})
    editor = signed_in(client, cast.admin)
    editor.post("/console/content/itch-tips/step/", {"step": "revise"})
    editor.post("/console/content/itch-tips/", {"en-GB:title": "Itch", "en-GB:body": "Cooling helps a lot."})
    diff = editor.get("/console/content/itch-tips/?diff=2").content.decode()
    assert "-[en-GB] body: Cooling helps." in diff and "+[en-GB] body: Cooling helps a lot." in diff


def test_the_library_is_for_editors_and_reviewers_only(client, cast, program):
    approved_item(program, "itch-tips", "tip", {"en-GB": {"title": "Itch", "body": "Cooling helps."}})
    nurse = signed_in(client, cast.nurse_de)
    assert nurse.get("/console/content/").status_code == 403
    assert nurse.get("/console/content/itch-tips/").status_code == 403
    assert nurse.post("/console/content/itch-tips/step/", {"step": "revise"}).status_code == 403
    assert ContentVersion.objects.count() == 1


def cast_system():
    from sojourn.core.actors import Actor

    return Actor.system("test")


def test_tags_typed_wrong_are_refused_with_the_reason(client, cast, program):
    approved_item(program, "itch-tips", "tip", {"en-GB": {"title": "Itch", "body": "Cooling helps."}})
    editor = signed_in(client, cast.admin)
    page = editor.post("/console/content/itch-tips/step/", {"step": "tags", "level": "two", "markets": "DE, XX"},
                       follow=True).content.decode()
    assert "The content level is a whole number from 1 to 9." in page and "XX" in page
    assert ContentItem.objects.get().level == 1


def _use_rows(page: str) -> dict[str, tuple[str, ...]]:
    """The 'Use by market' table as market → its cells."""
    table = page.split('id="use"', 1)[1].split("</table>", 1)[0]
    return {market: tuple(re.findall(r"<td>(.*?)</td>", row)[1:])
            for market, row in re.findall(r'<tr data-market="(\w+)">(.*?)</tr>', table)}


def _active(program, country: str, capture) -> Patient:
    """A patient who enrolled and confirmed the emailed code (events are taken for such patients only)."""
    email = f"{country.lower()}@example.org"
    with capture(execute=True):
        patient, _record = enroll(program, country, email=email)
    code = re.search(r"\b(\d{6})\b", next(m for m in reversed(mail.outbox) if email in m.to).body).group(1)
    return verify_patient(actor=SELF, patient=patient, code=code)


def test_an_items_page_counts_its_use_per_market_from_recorded_events(client, cast, program,
                                                                       django_capture_on_commit_callbacks):
    approved_item(program, "itch-tips", "tip", {"en-GB": {"title": "Itch", "body": "Cooling helps."}})
    approved_item(program, "sleep-tips", "tip", {"en-GB": {"title": "Sleep", "body": "Keep it cool."}})
    de, gb = (_active(program, country, django_capture_on_commit_callbacks) for country in ("DE", "GB"))
    now = timezone.now()
    sent: list[tuple[str, str, str, bool | None]] = []  # (country, type, code, helpful): what the patients did
    for patient, views, completions, ratings in ((de, 5, 3, [True, True, False]), (gb, 2, 1, [False])):
        for code in ("itch-tips", "sleep-tips"):
            sent += [(patient.market.country, "content.viewed", code, None)] * views
            sent += [(patient.market.country, "content.completed", code, None)] * completions
            sent += [(patient.market.country, "content.rated", code, helpful) for helpful in ratings]
    # As the portal and the simulator write them: the item, its needs and channel, and a boolean rating.
    result = record_events(Actor.system("test"), [
        {"client_id": f"e{n}", "type": kind, "patient": (de if country == "DE" else gb).pseudonym,
         "occurred_at": (now - timedelta(minutes=n)).isoformat(),
         "data": {"content": code, "needs": ["itch"], "channel": "web",
                  **({"helpful": helpful} if helpful is not None else {})}}
        for n, (country, kind, code, helpful) in enumerate(sent)], source="test")
    assert len(result.accepted) == len(sent) and not result.rejected
    expected = {}
    for country in ("DE", "GB"):
        mine = [(kind, helpful) for c, kind, code, helpful in sent if c == country and code == "itch-tips"]
        views = sum(kind == "content.viewed" for kind, _h in mine)
        completions = sum(kind == "content.completed" for kind, _h in mine)
        helpful = sum(h is True for _k, h in mine)
        rated = sum(kind == "content.rated" for kind, _h in mine)
        expected[country] = (str(views), f"{completions} ({round(100 * completions / views)} %)",
                             f"{helpful} / {rated} ({round(100 * helpful / rated)} %)")
    page = signed_in(client, cast.admin).get("/console/content/itch-tips/")
    assert page.status_code == 200
    assert _use_rows(page.content.decode()) == expected == {"DE": ("5", "3 (60 %)", "2 / 3 (67 %)"),
                                                            "GB": ("2", "1 (50 %)", "0 / 1 (0 %)")}
    client.logout()
    gb_manager = make_staff("pm.gb@sponsor.example", Role.PROGRAM_MANAGER, program, ("GB",))
    mine = signed_in(client, gb_manager).get("/console/content/itch-tips/")
    assert _use_rows(mine.content.decode()) == {"GB": expected["GB"]}  # not the markets it may not see
