"""Consent documents in the console: a manager writes a version in every language of the market, a
different person reviews it (return with a comment, then approve), and only then do people sign it."""

from __future__ import annotations

import pytest
from django.test import Client

from sojourn.consent.models import ConsentVersion
from sojourn.consent.queries import current_version
from sojourn.consent.tests.factories import approved_version, purposes_of
from sojourn.core.models import Market
from sojourn.core.permissions import Role
from sojourn.people.tests.factories import make_staff


@pytest.fixture
def manager(cast):
    client = Client()
    client.force_login(make_staff("manager@sponsor.example", Role.PROGRAM_MANAGER, cast.program))
    return client


@pytest.fixture
def reviewer(cast):
    client = Client()
    client.force_login(make_staff("reviewer@sponsor.example", Role.CONTENT_REVIEWER, cast.program))
    return client


def draft_data(purposes, locale="en-GB", **changes) -> dict:
    data = {f"{locale}__title": "Your consent", f"{locale}__body": "We support you between visits.\nYou may stop.",
            **{f"{locale}__purpose__{p['code']}": f"Label for {p['code']}" for p in purposes},
            "change_summary": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_version_is_written_reviewed_by_someone_else_and_only_then_signed(cast, manager, reviewer):
    market = Market.objects.get(country="GB")
    purposes = purposes_of(market)
    page = manager.get("/console/consent/documents/GB/patient/new/")
    assert page.status_code == 200 and 'name="en-GB__purpose__contact_sms"' in page.content.decode()

    incomplete = manager.post("/console/consent/documents/GB/patient/new/",
                              draft_data(purposes, **{"en-GB__purpose__contact_sms": " "}))
    assert incomplete.status_code == 400 and "en-GB__purpose__contact_sms" in incomplete.context["form"].errors
    assert not ConsentVersion.objects.exists()

    saved = manager.post("/console/consent/documents/GB/patient/new/", draft_data(purposes))
    version = ConsentVersion.objects.get()
    assert saved.status_code == 302 and version.status == "draft"
    manager.post(f"/console/consent/versions/{version.pk}/submit/")
    # The author cannot approve; neither can a nurse; the reviewer returns it with a comment.
    assert manager.post(f"/console/consent/versions/{version.pk}/approve/").status_code == 404
    nurse = Client()
    nurse.force_login(cast.nurse_gb)
    assert nurse.post(f"/console/consent/versions/{version.pk}/approve/").status_code == 403
    assert reviewer.post(f"/console/consent/versions/{version.pk}/return/", {"comment": ""}).status_code == 400
    reviewer.post(f"/console/consent/versions/{version.pk}/return/", {"comment": "Say how to stop, plainly."})
    version.refresh_from_db()
    assert version.status == "draft"
    assert "Say how to stop, plainly." in manager.get(f"/console/consent/versions/{version.pk}/").content.decode()

    manager.post(f"/console/consent/versions/{version.pk}/edit/", draft_data(
        purposes, **{"en-GB__body": "We support you between visits.\nReply STOP to any text to stop."}))
    manager.post(f"/console/consent/versions/{version.pk}/submit/")
    assert current_version(cast.program, market, "patient") is None
    approved = reviewer.post(f"/console/consent/versions/{version.pk}/approve/")
    assert approved.status_code == 302
    version.refresh_from_db()
    assert version.status == "approved" and current_version(cast.program, market, "patient") == version
    assert version.texts.get().body.endswith("Reply STOP to any text to stop.")

    # Approved words never change: the edit page refuses.
    refused = manager.post(f"/console/consent/versions/{version.pk}/edit/", draft_data(purposes))
    assert refused.status_code == 400 and version.texts.get().body.endswith("to stop.")


def test_a_new_version_starts_from_the_old_words_and_shows_what_changed(cast, manager, program):
    first = approved_version(program, "DE")
    form = manager.get("/console/consent/documents/DE/patient/new/").content.decode()
    assert "What the program does, in de-DE." in form
    purposes = first.purposes
    manager.post("/console/consent/documents/DE/patient/new/", draft_data(
        purposes, locale="de-DE", **{"de-DE__title": "Consent (de-DE)",
                                     "de-DE__body": "What the program does, in de-DE, now with nurse calls.",
                                     "material_change": "on", "change_summary": "Nurse calls added."}))
    second = ConsentVersion.objects.get(number=2)
    assert second.material_change and second.change_summary == "Nurse calls added."
    page = manager.get(f"/console/consent/versions/{second.pk}/").content.decode()
    assert "+What the program does, in de-DE, now with nurse calls." in page
    assert "-What the program does, in de-DE." in page


def test_staff_without_content_rights_read_but_do_not_write(cast, program):
    version = approved_version(program, "DE")
    analyst = Client()
    analyst.force_login(cast.analyst)
    assert analyst.get(f"/console/consent/versions/{version.pk}/").status_code == 200
    assert analyst.get("/console/consent/documents/DE/patient/new/").status_code == 403
    assert analyst.post(f"/console/consent/versions/{version.pk}/retire/").status_code == 403
    outsider = Client()
    outsider.force_login(cast.outsider)
    assert outsider.get(f"/console/consent/versions/{version.pk}/").status_code == 404
    version.refresh_from_db()
    assert version.status == "approved"
