"""MLR review and the one door to patients: only approved, unexpired words in the patient's locale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from sojourn.content.models import ContentVersion
from sojourn.content.queries import expiring, resolve, resolve_requests, use_by_market
from sojourn.content.services.library import create_item, save_draft
from sojourn.content.services.review import (
    approve,
    comment,
    expire_due,
    return_to_author,
    start_revision,
    submit_for_review,
    withdraw,
)
from sojourn.content.tests.factories import approved_item, author, reviewer
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput

pytestmark = pytest.mark.django_db
TIP = {"de-DE": {"title": "Juckreiz", "body": "Kühlen hilft, {given_name}."},
       "en-GB": {"title": "Itch", "body": "Cooling helps, {given_name}."}}


def submitted(program):
    item = create_item(actor=author(program), program=program, code="itch-tips", kind="tip", title="Itch tips")
    version = save_draft(actor=author(program), item=item, variants=TIP)
    return submit_for_review(actor=author(program), version=version)


def test_the_author_cannot_approve_and_an_approval_needs_code_and_future_expiry(program):
    version = submitted(program)
    both = Actor(kind="staff", label="both", user_id=9001, grants=reviewer(program).grants)
    with pytest.raises(AccessDenied):
        approve(actor=both, version=version, approval_code="DE-PSO-0001", expires_on=timezone.localdate())
    with pytest.raises(InvalidInput) as error:
        approve(actor=reviewer(program), version=version, approval_code="x", expires_on=timezone.localdate())
    assert {d.field for d in error.value.details} == {"approval_code", "expires_on"}
    with pytest.raises(InvalidInput):
        approve(actor=reviewer(program), version=version, approval_code="DE-PSO-0001",
                expires_on=timezone.localdate() + timedelta(days=5 * 365))
    approved = approve(actor=reviewer(program), version=version, approval_code="DE-PSO-0001",
                       expires_on=timezone.localdate() + timedelta(days=90))
    assert (approved.status, approved.approval_code, approved.approved_by_id) == ("approved", "DE-PSO-0001", 9002)


def test_the_database_refuses_an_approval_without_its_evidence_and_two_approved_versions(program):
    version = submitted(program)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContentVersion.objects.filter(pk=version.pk).update(status="approved")
    approve(actor=reviewer(program), version=version, approval_code="DE-PSO-0001",
            expires_on=timezone.localdate() + timedelta(days=90))
    second = ContentVersion.objects.create(item=version.item, number=2, created_at=timezone.now(), status="in_review")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContentVersion.objects.filter(pk=second.pk).update(
            status="approved", approval_code="X-1", expires_on=timezone.localdate(), approved_by_id=1,
            approved_at=timezone.now())


def test_returned_with_comments_revised_and_the_new_version_supersedes_the_old(program):
    version = submitted(program)
    return_to_author(actor=reviewer(program), version=version, text="Add the fair-balance sentence.")
    comment(actor=reviewer(program), version=version, text="Umlaut fine.", locale="de-DE")
    assert [c.text for c in version.comments.order_by("pk")] == ["Add the fair-balance sentence.", "Umlaut fine."]
    version = save_draft(actor=author(program), item=version.item, variants=TIP)
    assert version.number == 1  # the returned draft is written again, not a new number
    version = submit_for_review(actor=author(program), version=version)
    approve(actor=reviewer(program), version=version, approval_code="DE-PSO-0001",
            expires_on=timezone.localdate() + timedelta(days=90))
    revision = start_revision(actor=author(program), item=version.item)
    assert revision.number == 2 and revision.variants.count() == 2  # starts from the approved words
    with pytest.raises(Conflict):
        start_revision(actor=author(program), item=version.item)
    revision = submit_for_review(actor=author(program), version=revision)
    approve(actor=reviewer(program), version=revision, approval_code="DE-PSO-0002",
            expires_on=timezone.localdate() + timedelta(days=90))
    statuses = dict(version.item.versions.values_list("number", "status"))
    assert statuses == {1: "superseded", 2: "approved"}


def test_an_editor_abandons_a_version_in_review_and_only_a_reviewer_withdraws_an_approved_one(program):
    version = submitted(program)
    with pytest.raises(InvalidInput):
        withdraw(actor=author(program), version=version, reason=" ")
    abandoned = withdraw(actor=author(program), version=version, reason="Replaced by a leaflet.")
    assert (abandoned.status, abandoned.end_reason) == ("withdrawn", "Replaced by a leaflet.")
    item = approved_item(program, "cool-tips", "tip", TIP)
    live = item.versions.get(status="approved")
    with pytest.raises(AccessDenied):
        withdraw(actor=author(program), version=live, reason="Old.")
    with pytest.raises(Conflict):  # withdrawn is final
        withdraw(actor=reviewer(program), version=abandoned, reason="Again.")
    assert withdraw(actor=reviewer(program), version=live, reason="Label changed.").status == "withdrawn"


def test_only_approved_unexpired_words_in_the_patients_locale_resolve(program):
    item = create_item(actor=author(program), program=program, code="itch-tips", kind="tip", title="Itch tips",
                       tags={"markets": ["DE", "GB", "JP"]})
    args = {"locale": "de-DE", "country": "DE", "channel": "web"}
    assert resolve(program.pk, "itch-tips", **args).reason == "itch-tips has no approved version"
    version = submit_for_review(actor=author(program), version=save_draft(actor=author(program), item=item,
                                                                         variants=TIP))
    assert resolve(program.pk, "itch-tips", **args).content is None  # in review is not approved
    approve(actor=reviewer(program), version=version, approval_code="DE-PSO-0001",
            expires_on=timezone.localdate() + timedelta(days=10))
    found = resolve(program.pk, "itch-tips", **args).content
    assert found is not None and (found.body, found.approval_code) == ("Kühlen hilft, {given_name}.", "DE-PSO-0001")
    assert resolve(program.pk, "itch-tips", locale="ja-JP", country="JP", channel="web").reason == \
        "itch-tips v1 has no approved ja-JP text"  # no fallback to another language
    assert resolve(program.pk, "itch-tips", locale="en-US", country="US", channel="web").reason == \
        "itch-tips is not for US"
    assert "not for the phone channel" in resolve(program.pk, "itch-tips", locale="de-DE", country="DE",
                                                  channel="phone").reason
    after_expiry = timezone.now() + timedelta(days=11)
    assert "expired" in resolve(program.pk, "itch-tips", **args, at=after_expiry).reason
    # A worker's batch asks for every market at once: each gets its own words or its own reason.
    mixed = resolve_requests(program.pk, {("de-DE", "DE", "web"): ["itch-tips", "nothing"],
                                          ("en-GB", "GB", "web"): ["itch-tips"], ("ja-JP", "JP", "web"): ["itch-tips"]})
    assert mixed["de-DE", "DE", "web", "itch-tips"].content.body == "Kühlen hilft, {given_name}."
    british = mixed["en-GB", "GB", "web", "itch-tips"].content
    assert (british.locale, british.body) == ("en-GB", "Cooling helps, {given_name}.")
    assert mixed["ja-JP", "JP", "web", "itch-tips"].reason == "itch-tips v1 has no approved ja-JP text"
    assert mixed["de-DE", "DE", "web", "nothing"].reason == "no content item nothing"
    withdraw(actor=reviewer(program), version=ContentVersion.objects.get(pk=version.pk), reason="label change")
    assert resolve(program.pk, "itch-tips", **args).reason == "itch-tips has no approved version"


def test_expiry_is_warned_30_days_ahead_and_swept_after_the_last_day(program):
    today = timezone.localdate()
    approved_item(program, "soon", "tip", TIP, expires_on=today + timedelta(days=20))
    approved_item(program, "later", "tip", TIP, expires_on=today + timedelta(days=45))
    assert [v.item.code for v in expiring(program)] == ["soon"]
    assert expire_due(actor=Actor.system("worker"), now=timezone.now() + timedelta(days=21)) == 1
    assert dict(ContentVersion.objects.values_list("item__code", "status")) == {"soon": "expired",
                                                                                "later": "approved"}


def test_use_is_counted_per_item_and_market_from_events(program, active_patient):
    from sojourn.tracking.services.events import record_events

    approved_item(program, "itch-tips", "tip", TIP)
    patient = active_patient
    now = timezone.now()
    record_events(Actor.system("test"), [
        {"client_id": f"v{n}", "type": "content.viewed", "patient": patient.pseudonym,
         "occurred_at": now.isoformat(), "data": {"content": "itch-tips"}} for n in range(3)
    ] + [{"client_id": "c1", "type": "content.completed", "patient": patient.pseudonym,
          "occurred_at": now.isoformat(), "data": {"content": "itch-tips"}},
         {"client_id": "r1", "type": "content.rated", "patient": patient.pseudonym,
          "occurred_at": now.isoformat(), "data": {"content": "itch-tips", "helpful": True}},
         {"client_id": "r2", "type": "content.rated", "patient": patient.pseudonym,
          "occurred_at": now.isoformat(), "data": {"content": "itch-tips", "helpful": False}}], source="test")
    use = use_by_market(program)["itch-tips"][patient.market.country]
    assert (use.views, use.completions, use.helpful, use.unhelpful) == (3, 1, 1, 1)
    assert (use.completion_rate, use.helpful_share) == (0.333, 0.5)
