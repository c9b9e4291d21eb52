from __future__ import annotations

import pytest

from sojourn.consent.models import ConsentVersion, ReconsentRequest
from sojourn.consent.services.documents import (
    approve_consent_version,
    draft_consent_version,
    retire_consent_version,
    return_consent_version,
    submit_consent_version,
)
from sojourn.consent.tests.factories import approved_version, enroll, purposes_of, texts_for
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput
from sojourn.core.models import AuditEntry, Market
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import actor_with


def staff(role, program, user_id, markets=None):
    return Actor(kind="staff", label=role.value, user_id=user_id, grants=actor_with(role, program, markets).grants)


def draft(program, country="DE", **changes):
    market = Market.objects.get(country=country)
    purposes = changes.pop("purposes", purposes_of(market))
    texts = changes.pop("texts", texts_for(market, purposes))
    return draft_consent_version(actor=staff(Role.PROGRAM_MANAGER, program, 1), program=program, market=market,
                                 audience="patient", title="Einwilligung", purposes=purposes, texts=texts, **changes)


def test_a_version_goes_from_draft_to_review_to_approved_and_is_then_frozen(program):
    version = draft(program)
    assert version.status == "draft" and version.number == 1
    submit_consent_version(actor=staff(Role.PROGRAM_MANAGER, program, 1), version=version)
    approved = approve_consent_version(actor=staff(Role.CONTENT_REVIEWER, program, 2), version=version)
    assert approved.status == "approved" and len(approved.sha256) == 64
    with pytest.raises(Conflict):
        submit_consent_version(actor=staff(Role.PROGRAM_MANAGER, program, 1), version=approved)
    actions = list(AuditEntry.objects.filter(subject_type="consent_version").values_list("action", flat=True))
    assert actions == ["consent_version.drafted", "consent_version.submitted", "consent_version.approved"]


def test_the_author_cannot_approve_and_a_nurse_cannot_review(program):
    version = draft(program)
    submit_consent_version(actor=staff(Role.PROGRAM_MANAGER, program, 1), version=version)
    admin_author = staff(Role.ADMIN, program, 1)
    with pytest.raises(AccessDenied):
        approve_consent_version(actor=admin_author, version=version)
    with pytest.raises(AccessDenied):
        approve_consent_version(actor=staff(Role.NURSE, program, 3), version=version)
    with pytest.raises(AccessDenied):  # a reviewer of another market
        approve_consent_version(actor=staff(Role.CONTENT_REVIEWER, program, 4, ("GB",)), version=version)


def test_a_reviewer_returns_a_version_with_a_comment(program):
    version = draft(program)
    submit_consent_version(actor=staff(Role.PROGRAM_MANAGER, program, 1), version=version)
    with pytest.raises(InvalidInput):
        return_consent_version(actor=staff(Role.CONTENT_REVIEWER, program, 2), version=version, comment=" ")
    returned = return_consent_version(actor=staff(Role.CONTENT_REVIEWER, program, 2), version=version,
                                      comment="Section 3 must name the data controller.")
    assert returned.status == "draft"
    assert AuditEntry.objects.filter(action="consent_version.returned").get().after["comment"].startswith(
        "Section 3")


def test_the_purposes_must_follow_the_market_pack(program):
    market = Market.objects.get(country="DE")
    purposes = purposes_of(market)
    purposes[1] = {**purposes[1], "required": True}  # contact_email is optional in Germany
    purposes.append({"code": "marketing", "required": False})
    with pytest.raises(InvalidInput) as refused:
        draft(program, purposes=purposes, texts=texts_for(market, purposes_of(market)))
    fields = {d.field for d in refused.value.details}
    assert {"purposes[1]", "purposes[8]"} <= fields
    assert ConsentVersion.objects.count() == 0


def test_every_locale_of_the_market_needs_its_text(program):
    market = Market.objects.get(country="CA")
    texts = texts_for(market, purposes_of(market))
    del texts["fr-CA"]
    with pytest.raises(InvalidInput) as refused:
        draft(program, "CA", texts=texts)
    assert refused.value.details[0].field == "texts.fr-CA"


def test_a_new_version_retires_the_old_and_a_material_change_asks_for_consent_again(program):
    first = approved_version(program, "DE")
    enrollment = enroll(program, "DE", version=first)
    second = approved_version(program, "DE", material=True)
    first.refresh_from_db()
    assert first.status == "retired" and second.number == 2
    retired = AuditEntry.objects.get(action="consent_version.retired")
    assert (retired.subject_id, retired.market, retired.after) == (
        str(first.pk), "DE", {"version": 1, "status": "retired", "replaced_by": 2})
    request = ReconsentRequest.objects.get(record=enrollment.record)
    assert request.new_version == second and request.closed_at is None
    enrollment.record.refresh_from_db()
    assert enrollment.record.status == "active"  # until they consent again, the old consent still holds


def test_a_retired_version_cannot_be_signed(program):
    version = approved_version(program, "DE")
    retire_consent_version(actor=staff(Role.CONTENT_REVIEWER, program, 2), version=version)
    from sojourn.consent.errors import ConsentVersionNotUsable

    with pytest.raises(ConsentVersionNotUsable):
        enroll(program, "DE", version=version)
