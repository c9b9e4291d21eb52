"""Invitation cards: a print run issued by the program team, a code used once to enroll, linking the
patient to the dermatologist who handed it out; the enrollment funnel starts with them."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from sojourn.consent.services.enrollment import verify_hcp
from sojourn.consent.tests.factories import SELF, dermatologist, enroll
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.people.models import Invitation
from sojourn.people.queries import actor_for_user
from sojourn.people.services.invitations import issue_invitations

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_hcp(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        hcp, _record = dermatologist(program)
    return verify_hcp(actor=SELF, hcp=hcp, code=re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1))


def test_a_print_run_is_issued_by_a_manager_of_the_market_and_audited(program, cast, active_hcp):
    admin = actor_for_user(cast.admin)
    cards = issue_invitations(actor=admin, program=program, market="US", count=25, hcp=active_hcp, batch="2026-12")
    codes = {card.code for card in cards}
    assert len(codes) == 25 and all(re.fullmatch(r"[2-9A-HJ-NP-TW-Z]{4}-[2-9A-HJ-NP-TW-Z]{4}", c) for c in codes)
    assert all(card.hcp == active_hcp and card.accepted_at is None for card in cards)
    entry = AuditEntry.objects.get(action="invitations.issued")
    assert entry.after == {"count": 25, "hcp": active_hcp.pseudonym, "batch": "2026-12"} and entry.market == "US"

    with pytest.raises(AccessDenied):
        issue_invitations(actor=actor_for_user(cast.nurse_de), program=program, market="DE", count=5)
    with pytest.raises(InvalidInput) as refused:
        issue_invitations(actor=admin, program=program, market="US", count=0)
    assert refused.value.field == "count"
    with pytest.raises(InvalidInput) as refused:
        issue_invitations(actor=admin, program=program, market="DE", count=5, hcp=active_hcp)  # a US doctor
    assert refused.value.field == "hcp"
    with pytest.raises(InvalidInput) as refused:
        issue_invitations(actor=admin, program=program, market="FR", count=5)
    assert refused.value.field == "market"
    assert Invitation.objects.count() == 25  # nothing half-issued by the refusals


def test_a_card_enrolls_once_in_its_own_country_and_links_the_dermatologist(program, cast, active_hcp):
    [card, other] = issue_invitations(actor=actor_for_user(cast.admin), program=program, market="US", count=2,
                                      hcp=active_hcp)
    typed = card.code.replace("-", " ").lower()  # as a patient might type it from the card
    patient, _record = enroll(program, "US", referral_code=typed, email="card@example.org")
    card.refresh_from_db()
    assert card.patient == patient and card.accepted_at is not None and patient.referred_by == active_hcp

    with pytest.raises(InvalidInput) as refused:
        enroll(program, "US", referral_code=card.code, email="again@example.org")
    assert refused.value.field == "referral_code" and "already been used" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        enroll(program, "DE", referral_code=other.code, email="elsewhere@example.org")
    assert refused.value.field == "referral_code" and "another country" in refused.value.message
    other.refresh_from_db()
    assert other.accepted_at is None and not other.patient


def test_the_command_prints_the_codes_for_the_print_house_and_says_what_is_wrong(program, active_hcp):
    out = io.StringIO()
    call_command("invitations", "issue", "--program", program.slug, "--market", "us", "--count", "3",
                 "--hcp", active_hcp.pseudonym, "--batch", "run-1", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "code,market,professional,batch" and len(lines) == 4
    assert all(line.endswith(f",US,{active_hcp.pseudonym},run-1") for line in lines[1:])
    assert Invitation.objects.filter(batch="run-1").count() == 3
    with pytest.raises(CommandError, match="count"):
        call_command("invitations", "issue", "--program", program.slug, "--market", "US", "--count", "20000")
    with pytest.raises(CommandError, match="no professional"):
        call_command("invitations", "issue", "--program", program.slug, "--market", "US", "--count", "2",
                     "--hcp", "H-NOBODY")
